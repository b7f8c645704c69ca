/*
 * rp_minimize.c: delta debugging (ddmin, Zeller and Hildebrandt 2002) over a trace's
 * input units, down to a trace that still fails a check.
 *
 * Units: each guest command (its queue-slot read, the command record and every
 * output that follows it: property reads, injections, physical commands, QEMU's
 * table writes, inferred markers), each device MSI or host LPI (with the injections
 * recorded before it) and each trapped property write (with its physical commands).
 * Always kept, as what the rest depends on: register accesses (queue and table setup,
 * enable), the property table, device assignments.  Checkpoints are dropped (their
 * fingerprints describe the whole trace).
 *
 * A candidate is rewritten so it stays a trace of a real guest: the kept commands are
 * packed into consecutive queue slots in order, and everything naming a slot follows
 * them (slot reads, command records, physical commands' cause, CWRITER writes, CREADR
 * records and register reads).  A batch that lost all its commands loses its CREADR
 * record (CREADR did not move).  Budgets and stalls are not modelled: minimize traces
 * recorded with neither.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rp_internal.h"

#define U_KEEP (-1)     /* always kept */
#define U_PEND (-2)     /* an injection waiting for its MSI */
#define U_QUAL (-3)     /* an INFERRED record: the unit of the record it qualifies */
#define U_DROP (-4)     /* always dropped (distinct from the pending marks: the walks
			 * that resolve them must not pick dropped records up) */

struct units {
	int32_t *of;            /* per record */
	uint8_t *is_cmd;        /* per unit */
	uint32_t *group;        /* per unit: the group it belongs to (hierarchical ddmin) */
	size_t n, cap, ngroups;
	uint16_t domain;
};

static int32_t new_unit(struct units *u, bool cmd)
{
	if (u->n == u->cap) {
		size_t nc = u->cap ? u->cap * 2 : 256;
		uint8_t *p = realloc(u->is_cmd, nc);
		if (!p)
			return U_KEEP;
		u->is_cmd = p;
		uint32_t *g = realloc(u->group, nc * sizeof(*g));
		if (!g)
			return U_KEEP;
		u->group = g;
		u->cap = nc;
	}
	u->is_cmd[u->n] = cmd;
	u->group[u->n] = UINT32_MAX;
	return (int32_t)u->n++;
}

static uint64_t merge64(uint64_t cur, uint64_t off, uint64_t reg, unsigned size, uint64_t val)
{
	if (size == 8)
		return val;
	unsigned sh = off == reg + 4 ? 32 : 0;
	uint64_t m = (uint64_t)0xffffffffu << sh;
	return (cur & ~m) | ((val & 0xffffffffu) << sh);
}

static uint64_t qsize_of(uint64_t cbaser)
{
	return (GITS_FIELD_GET(cbaser, CBASER, SIZE) + 1) * ITS_CMDQ_PAGE;
}

static bool is_slot_read(const struct rp_mrec *m, uint64_t cbaser)
{
	if (m->type != ITR_REC_MEM_READ || m->len != ITR_PL_MEM_READ + ITS_CMD_BYTES ||
	    (m->flags & ITR_RF_CONT))
		return false;
	uint64_t gpa = itr_get64(m->payload), base = cbaser & GITS_FIELD_MASK(CBASER, PA);
	return gpa >= base && gpa - base < qsize_of(cbaser) && !((gpa - base) % ITS_CMD_BYTES);
}

static bool is_reg_write(const struct rp_mrec *m, uint64_t reg)
{
	return m->type == ITR_REC_MMIO_WRITE && m->len >= ITR_PL_MMIO &&
	       (itr_get64(m->payload) & ~7ull) == reg;
}

/* Groups for the first level of hierarchical delta debugging: what is only useful
 * together.  A device's lifetime (MAPD V=1 up to its MAPD V=0, or the next MAPD V=1)
 * with every command and MSI naming the device in it; a SYNC with the command before
 * it (Linux follows each command with one); a property write with the unit after it
 * (the driver writes the byte, then sends INV).  Everything else alone. */
struct open_dev {
	uint32_t devid, group;
};

static void group_units(const struct rp_memtrace *t, struct units *u)
{
	struct open_dev open[64];
	unsigned nopen = 0;
	uint32_t ng = 0;
	int32_t prev = -1;
	for (size_t i = 0; i < t->n; i++) {
		int32_t x = u->of[i];
		if (x < 0 || (i > 0 && u->of[i - 1] == x) || u->group[x] != UINT32_MAX)
			continue;
		const struct rp_mrec *m = &t->recs[i];
		uint32_t g = UINT32_MAX;
		if (u->is_cmd[x] && m->type == ITR_REC_MEM_READ) {
			const uint8_t *c = m->payload + ITR_PL_MEM_READ;
			unsigned op = c[0];
			uint32_t dev = itr_get32(c + 4);
			bool devcmd = op == ITS_OP_MAPD || op == ITS_OP_MAPTI || op == ITS_OP_MAPI ||
				      op == ITS_OP_MOVI || op == ITS_OP_DISCARD || op == ITS_OP_INT ||
				      op == ITS_OP_CLEAR || op == ITS_OP_INV;
			unsigned k = 0;
			while (devcmd && k < nopen && open[k].devid != dev)
				k++;
			if (op == ITS_OP_MAPD) {
				bool valid = c[23] & 0x80;
				if (k < nopen && !valid) {
					g = open[k].group;              /* the lifetime ends */
					open[k] = open[--nopen];
				} else if (valid) {
					g = ng++;
					if (k < nopen)
						open[k].group = g;      /* a remap starts another */
					else if (nopen < 64)
						open[nopen++] = (struct open_dev){ dev, g };
				}
			} else if (devcmd && k < nopen) {
				g = open[k].group;
			} else if (op == ITS_OP_SYNC && prev >= 0 && u->is_cmd[prev]) {
				g = u->group[prev];
			}
		} else if (m->type == ITR_REC_MSI) {
			uint32_t dev = itr_get32(m->payload);
			for (unsigned k = 0; k < nopen; k++)
				if (open[k].devid == dev)
					g = open[k].group;
		}
		if (g == UINT32_MAX)
			g = ng++;
		u->group[x] = g;
		prev = x;
	}
	/* A property write joins the unit after it. */
	for (size_t i = 0; i < t->n; i++) {
		int32_t x = u->of[i];
		if (x < 0 || t->recs[i].type != ITR_REC_PROP_WRITE)
			continue;
		for (size_t j = i + 1; j < t->n; j++)
			if (u->of[j] >= 0 && u->of[j] != x) {
				u->group[x] = u->group[u->of[j]];
				break;
			}
	}
	u->ngroups = ng;
}

static int find_units(const struct rp_memtrace *t, struct units *u)
{
	memset(u, 0, sizeof(*u));
	u->domain = t->h.nr_domains ? t->h.domains[0].id : 0;
	u->of = malloc((t->n ? t->n : 1) * sizeof(*u->of));
	if (!u->of)
		return RP_E_NOMEM;
	uint64_t cbaser = 0;
	bool enabled = false;
	int32_t cur = U_KEEP;
	for (size_t i = 0; i < t->n; i++) {
		const struct rp_mrec *m = &t->recs[i];
		int32_t x = U_KEEP;
		/* Checkpoints and snapshots describe the trace as it was: once records
		 * go, they no longer hold, so the reduced trace carries none. */
		if (m->domain != u->domain || m->type == ITR_REC_CHECKPOINT ||
		    m->type == ITR_REC_SNAPSHOT || m->type == ITR_REC_END) {
			x = U_DROP;
		} else if (m->len < (uint32_t)(itr_rec_min_payload(m->type) < 0 ? 0 :
						itr_rec_min_payload(m->type))) {
			x = U_DROP;     /* malformed */
		} else if (m->type == ITR_REC_INFERRED) {
			x = U_QUAL;     /* resolved below: the unit of the record it qualifies */
		} else if (is_slot_read(m, cbaser)) {
			cur = x = new_unit(u, true);
		} else if (m->type == ITR_REC_MSI || m->type == ITR_REC_HOST_LPI) {
			x = new_unit(u, false);
			for (size_t j = i; j-- > 0 && (u->of[j] == U_PEND || u->of[j] == U_QUAL);)
				u->of[j] = x;
			cur = U_KEEP;
		} else if (m->type == ITR_REC_PROP_WRITE) {
			cur = x = new_unit(u, false);
		} else if (m->type == ITR_REC_INJECT) {
			/* Before an MSI or host LPI (its own), or an output of a command. */
			size_t j = i + 1;
			while (j < t->n && (t->recs[j].type == ITR_REC_INJECT ||
					    rp_is_meta(t->recs[j].type)))
				j++;
			x = j < t->n && (t->recs[j].type == ITR_REC_MSI ||
					 t->recs[j].type == ITR_REC_HOST_LPI) ? U_PEND : cur;
		} else if (rp_is_input(m->type) || m->type == ITR_REC_CREADR) {
			x = U_KEEP;
			if (m->type == ITR_REC_MMIO_WRITE) {
				uint64_t off = itr_get64(m->payload), val = itr_get64(m->payload + 8);
				if ((off & ~7ull) == GITS_CBASER && !enabled)
					cbaser = merge64(cbaser, off, GITS_CBASER, m->payload[16], val);
				if (off == GITS_CTLR)
					enabled = val & 1;
				cur = U_KEEP;
			}
		} else if (rp_is_reset_note(m->type, m->payload, m->len)) {
			cur = x = new_unit(u, false);   /* a reset and its teardown */
		} else if (rp_is_meta(m->type)) {
			x = U_KEEP;
		} else {
			x = cur;        /* an output of the current command or property write */
		}
		u->of[i] = x;
		/* INFERRED records take the unit of the record they qualify. */
		if (x != U_QUAL && x != U_PEND)
			for (size_t j = i; j-- > 0 && u->of[j] == U_QUAL;)
				u->of[j] = x;
	}
	for (size_t i = 0; i < t->n; i++)
		if (u->of[i] == U_PEND || u->of[i] == U_QUAL)
			u->of[i] = U_KEEP;
	group_units(t, u);
	return 0;
}

size_t rp_min_units(const struct rp_memtrace *t)
{
	struct units u;
	if (find_units(t, &u))
		return 0;
	size_t n = u.n;
	free(u.of);
	free(u.is_cmd);
	free(u.group);
	return n;
}

static bool kept(const struct units *u, const uint8_t *keep, size_t i)
{
	int32_t x = u->of[i];
	return x == U_KEEP || (x >= 0 && keep[x]);
}

static struct rp_memtrace *build(const struct rp_memtrace *t, const struct units *u,
				 const uint8_t *keep)
{
	struct rp_memtrace *c = rp_memtrace_new(&t->h);
	if (!c)
		return NULL;
	uint64_t cbaser = 0, base = 0, qslots = 1;
	uint64_t wptr = 0, cwriter = 0;    /* new slots */
	bool enabled = false, moved = false;
	int32_t *slot = malloc((u->n ? u->n : 1) * sizeof(*slot));
	if (!slot) {
		rp_memtrace_free(c);
		return NULL;
	}
	for (size_t i = 0; i < u->n; i++)
		slot[i] = -1;
	uint8_t buf[ITR_REC_MAX];
	for (size_t i = 0; i < t->n; i++) {
		if (u->of[i] == U_DROP || !kept(u, keep, i))
			continue;
		struct itr_rec r;
		rp_memtrace_get(t, i, &r);
		memcpy(buf, r.payload, r.len);
		r.payload = buf;
		int32_t x = u->of[i];
		switch (r.type) {
		case ITR_REC_MMIO_WRITE: {
			uint64_t off = itr_get64(buf), val = itr_get64(buf + 8);
			unsigned size = buf[16];
			if ((off & ~7ull) == GITS_CBASER && !enabled) {
				cbaser = merge64(cbaser, off, GITS_CBASER, size, val);
				base = cbaser & GITS_FIELD_MASK(CBASER, PA);
				qslots = qsize_of(cbaser) / ITS_CMD_BYTES;
				wptr = cwriter = 0;
			}
			if (off == GITS_CTLR)
				enabled = val & 1;
			if (off == GITS_CWRITER) {
				/* Commands it covers: kept command units until the next write to
				 * CWRITER or CBASER. */
				uint64_t n = 0;
				for (size_t j = i + 1; j < t->n; j++) {
					const struct rp_mrec *m = &t->recs[j];
					if (is_reg_write(m, GITS_CWRITER) || is_reg_write(m, GITS_CBASER))
						break;
					if (u->of[j] >= 0 && u->is_cmd[u->of[j]] && keep[u->of[j]] &&
					    is_slot_read(m, cbaser))
						n++;
				}
				cwriter = (wptr + n) % qslots;
				itr_put64(buf + 8, (val & 1) | (cwriter * ITS_CMD_BYTES));
			}
			break;
		}
		case ITR_REC_MMIO_READ: {
			uint64_t off = itr_get64(buf), val = itr_get64(buf + 8);
			if (off == GITS_CREADR)
				itr_put64(buf + 8, (val & 1) | (wptr * ITS_CMD_BYTES));
			else if (off == GITS_CWRITER)
				itr_put64(buf + 8, cwriter * ITS_CMD_BYTES);
			break;
		}
		case ITR_REC_MEM_READ:
			if (x >= 0 && u->is_cmd[x] && is_slot_read(&t->recs[i], cbaser)) {
				slot[x] = (int32_t)wptr;
				itr_put64(buf, base + wptr * ITS_CMD_BYTES);
				wptr = (wptr + 1) % qslots;
				moved = true;
			}
			break;
		case ITR_REC_CMD:
			if (x >= 0 && slot[x] >= 0)
				itr_put16(buf, (uint16_t)slot[x]);
			break;
		case ITR_REC_PHYS_CMD:
			if (buf[0] == VITS_CAUSE_GUEST_CMD && x >= 0 && slot[x] >= 0)
				itr_put16(buf + 2, (uint16_t)slot[x]);
			break;
		case ITR_REC_CREADR:
			if (!moved)
				continue;       /* CREADR did not move: no event */
			moved = false;
			itr_put32(buf, (uint32_t)(wptr * ITS_CMD_BYTES));
			break;
		default:
			break;
		}
		if (rp_memtrace_add(c, &r)) {
			free(slot);
			rp_memtrace_free(c);
			return NULL;
		}
	}
	free(slot);
	return c;
}

struct rp_memtrace *rp_min_build(const struct rp_memtrace *t, const uint8_t *keep)
{
	struct units u;
	if (find_units(t, &u))
		return NULL;
	struct rp_memtrace *c = build(t, &u, keep);
	free(u.of);
	free(u.is_cmd);
	free(u.group);
	return c;
}

/* ---- hierarchical ddmin ---------------------------------------------------------------- */

struct dd {
	const struct rp_memtrace *t;
	struct units u;
	rp_check_fn check;
	void *ctx;
	uint8_t *keep;
	struct rp_min_stats *st;
	int err;
};

/* Does the candidate keeping exactly the units in set[0..n) still fail? */
static int fails(struct dd *d, const size_t *set, size_t n)
{
	memset(d->keep, 0, d->u.n);
	for (size_t i = 0; i < n; i++)
		d->keep[set[i]] = 1;
	struct rp_memtrace *c = build(d->t, &d->u, d->keep);
	if (!c) {
		d->err = RP_E_NOMEM;
		return 0;
	}
	d->st->checks++;
	int rc = d->check(d->ctx, c);
	rp_memtrace_free(c);
	if (rc < 0) {
		d->err = rc;
		return 0;
	}
	return rc > 0;
}

/* Items: each a set of units (cur[start[i] .. start[i+1])); a candidate is a set of
 * items.  ddmin over items, keeping cur (units, grouped by item) up to date. */
struct items {
	size_t *unit;           /* units, item by item */
	size_t *start;          /* n + 1 offsets */
	size_t n;
};

static int fails_items(struct dd *d, const struct items *it, const uint8_t *on, size_t *tmp)
{
	size_t m = 0;
	for (size_t i = 0; i < it->n; i++)
		if (on[i])
			for (size_t k = it->start[i]; k < it->start[i + 1]; k++)
				tmp[m++] = it->unit[k];
	return fails(d, tmp, m);
}

static void ddmin(struct dd *d, struct items *it, size_t *tmp)
{
	size_t n = it->n;
	uint8_t *on = malloc(n ? n : 1), *try_on = malloc(n ? n : 1);
	size_t *idx = malloc((n ? n : 1) * sizeof(*idx));
	if (!on || !try_on || !idx) {
		d->err = RP_E_NOMEM;
		goto out;
	}
	memset(on, 1, n);
	size_t live = n, gran = 2;
	while (live >= 2 && !d->err) {
		size_t m = 0;
		for (size_t i = 0; i < n; i++)
			if (on[i])
				idx[m++] = i;
		size_t chunk = (live + gran - 1) / gran;
		bool reduced = false;
		for (size_t pass = 0; pass < 2 && !reduced && !d->err; pass++) {
			for (size_t s = 0; s < live && !reduced && !d->err; s += chunk) {
				size_t e = s + chunk < live ? s + chunk : live;
				if (pass == 0 && gran == 2)
					continue;       /* a half's subset is the other's complement */
				memset(try_on, 0, n);
				for (size_t j = 0; j < live; j++)
					if ((pass == 0) == (j >= s && j < e))
						try_on[idx[j]] = 1;
				size_t cnt = pass == 0 ? e - s : live - (e - s);
				if (cnt == 0 || cnt == live)
					continue;
				if (fails_items(d, it, try_on, tmp)) {
					memcpy(on, try_on, n);
					live = cnt;
					gran = pass == 0 ? 2 : (gran > 2 ? gran - 1 : 2);
					reduced = true;
				}
			}
		}
		if (!reduced) {
			if (gran >= live)
				break;
			gran = gran * 2 < live ? gran * 2 : live;
		}
	}
	/* Compact the items that are left. */
	size_t w = 0, ni = 0;
	for (size_t i = 0; i < n; i++) {
		if (!on[i])
			continue;
		size_t s0 = it->start[i], s1 = it->start[i + 1];
		it->start[ni++] = w;
		for (size_t k = s0; k < s1; k++)
			it->unit[w++] = it->unit[k];
	}
	it->start[ni] = w;
	it->n = ni;
out:
	free(on);
	free(try_on);
	free(idx);
}

int rp_minimize(const struct rp_memtrace *t, rp_check_fn check, void *ctx,
		struct rp_memtrace **out, struct rp_min_stats *st)
{
	struct rp_min_stats dummy;
	if (!st)
		st = &dummy;
	memset(st, 0, sizeof(*st));
	*out = NULL;
	struct dd d = { t, { 0 }, check, ctx, NULL, st, 0 };
	int rc = find_units(t, &d.u);
	if (rc)
		return rc;
	size_t n = d.u.n, N = n ? n : 1;
	size_t *cur = calloc(N, sizeof(*cur)), *tmp = calloc(N, sizeof(*tmp));
	struct items it = { malloc(N * sizeof(size_t)), malloc((N + 1) * sizeof(size_t)), 0 };
	d.keep = malloc(N);
	if (!cur || !tmp || !d.keep || !it.unit || !it.start) {
		rc = RP_E_NOMEM;
		goto done;
	}
	for (size_t i = 0; i < n; i++)
		cur[i] = i;
	st->units_before = n;
	st->records_before = t->n;
	for (size_t i = 0; i < n; i++)
		st->commands_before += d.u.is_cmd[i];
	if (!fails(&d, cur, n)) {
		rc = d.err ? d.err : RP_E_INVAL;    /* the original does not fail */
		goto done;
	}
	/* 1. The shortest prefix that fails (what comes after a failure rarely matters). */
	size_t lo = 0, hi = n;          /* prefix hi fails; find the least */
	while (lo + 1 < hi && !d.err) {
		size_t mid = lo + (hi - lo) / 2;
		if (fails(&d, cur, mid))
			hi = mid;
		else
			lo = mid;
	}
	n = hi;
	if (getenv("RP_MIN_DEBUG"))
		fprintf(stderr, "prefix: %zu units, %llu checks\n", n, (unsigned long long)st->checks);
	/* 2. Groups (device lifetimes, command + SYNC, property write + INV), then single
	 * units, in trace order; again while either level removes something. */
	for (size_t round = 0; round < 8 && !d.err; round++) {
		size_t before = n, w = 0;
		it.n = 0;
		for (size_t g = 0; g < d.u.ngroups; g++) {
			size_t s0 = w;
			for (size_t i = 0; i < n; i++)
				if (d.u.group[cur[i]] == g)
					it.unit[w++] = cur[i];
			if (w > s0)
				it.start[it.n++] = s0;
		}
		it.start[it.n] = w;
		ddmin(&d, &it, tmp);
		if (getenv("RP_MIN_DEBUG"))
			fprintf(stderr, "groups: %zu groups %zu units, %llu checks\n", it.n,
				it.start[it.n], (unsigned long long)st->checks);
		n = 0;
		for (size_t k = 0; k < it.start[it.n]; k++)
			cur[n++] = it.unit[k];
		for (size_t a = 1; a < n; a++)         /* back to trace order */
			for (size_t b = a; b > 0 && cur[b - 1] > cur[b]; b--) {
				size_t x = cur[b];
				cur[b] = cur[b - 1];
				cur[b - 1] = x;
			}
		for (size_t i = 0; i < n; i++) {
			it.unit[i] = cur[i];
			it.start[i] = i;
		}
		it.start[n] = n;
		it.n = n;
		ddmin(&d, &it, tmp);
		n = it.n;
		for (size_t i = 0; i < n; i++)
			cur[i] = it.unit[i];
		if (getenv("RP_MIN_DEBUG"))
			fprintf(stderr, "units: %zu, %llu checks\n", n, (unsigned long long)st->checks);
		if (n == before)
			break;
	}
	if (d.err) {
		rc = d.err;
		goto done;
	}
	memset(d.keep, 0, d.u.n);
	for (size_t i = 0; i < n; i++)
		d.keep[cur[i]] = 1;
	*out = build(t, &d.u, d.keep);
	if (!*out) {
		rc = RP_E_NOMEM;
		goto done;
	}
	st->units_after = n;
	st->records_after = (*out)->n;
	for (size_t i = 0; i < n; i++)
		st->commands_after += d.u.is_cmd[cur[i]];
	rc = 0;
done:
	free(cur);
	free(tmp);
	free(it.unit);
	free(it.start);
	free(d.keep);
	free(d.u.of);
	free(d.u.is_cmd);
	free(d.u.group);
	return rc;
}
