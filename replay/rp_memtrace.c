/*
 * rp_memtrace.c: a whole trace in memory (minimize rewrites it, tests build one from
 * engine events, the benchmark replays one without file I/O).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "itr_encode.h"
#include "itr_writer.h"
#include "rp_internal.h"

const char *rp_strerror(int err)
{
	switch (err) {
	case RP_OK: return "success";
	case RP_E_INVAL: return "invalid argument";
	case RP_E_NOMEM: return "out of memory";
	case RP_E_TRACE: return "the trace cannot be read";
	case RP_E_DAMAGED: return "the trace is damaged";
	case RP_E_ENGINE: return "the engine refused the trace's configuration";
	case RP_E_UNSUPPORTED: return "the trace needs something replay cannot give";
	default: return "unknown error";
	}
}

struct rp_memtrace *rp_memtrace_new(const struct itr_header *h)
{
	struct rp_memtrace *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->h = *h;
	if (h->nr_domains) {
		t->domains = calloc(h->nr_domains, sizeof(*t->domains));
		if (!t->domains) {
			free(t);
			return NULL;
		}
		memcpy(t->domains, h->domains, h->nr_domains * sizeof(*t->domains));
	}
	t->h.domains = t->domains;
	return t;
}

void rp_memtrace_free(struct rp_memtrace *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		free(t->recs[i].payload);
	free(t->recs);
	free(t->domains);
	free(t);
}

int rp_memtrace_add(struct rp_memtrace *t, const struct itr_rec *r)
{
	if (t->n == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 1024;
		struct rp_mrec *n = realloc(t->recs, nc * sizeof(*n));
		if (!n)
			return RP_E_NOMEM;
		t->recs = n;
		t->cap = nc;
	}
	struct rp_mrec *m = &t->recs[t->n];
	m->type = r->type;
	m->flags = r->flags;
	m->domain = r->domain;
	m->cpu = r->cpu;
	m->len = r->len;
	m->ts = r->ts;
	m->payload = NULL;
	if (r->len) {
		m->payload = malloc(r->len);
		if (!m->payload)
			return RP_E_NOMEM;
		memcpy(m->payload, r->payload, r->len);
	}
	t->n++;
	return 0;
}

void rp_memtrace_get(const struct rp_memtrace *t, size_t i, struct itr_rec *r)
{
	const struct rp_mrec *m = &t->recs[i];
	r->type = m->type;
	r->flags = m->flags;
	r->domain = m->domain;
	r->cpu = m->cpu;
	r->len = m->len;
	r->ts = m->ts;
	r->payload = m->payload;
	r->index = i;
	r->offset = 0;
}

struct load_ctx {
	char *msg;
	size_t msglen;
	uint64_t n;
};

static void load_damage(void *ctx, const struct itr_damage *d)
{
	struct load_ctx *c = ctx;
	if (c->n++ == 0 && c->msg && c->msglen)
		snprintf(c->msg, c->msglen, "damaged (%s): %s", itr_damage_name(d->kind), d->what);
}

int rp_memtrace_load(const char *path, struct rp_memtrace **out, char *msg, size_t msglen)
{
	struct load_ctx lc = { msg, msglen, 0 };
	struct itr_reader_opts ro = { .sz = sizeof(ro), .on_damage = load_damage, .ctx = &lc };
	struct itr_reader *rd;
	*out = NULL;
	if (msg && msglen)
		msg[0] = 0;
	if (itr_reader_open(path, &ro, &rd, msg, msglen))
		return RP_E_TRACE;
	struct rp_memtrace *t = rp_memtrace_new(itr_reader_header(rd));
	if (!t) {
		itr_reader_close(rd);
		return RP_E_NOMEM;
	}
	struct itr_rec r;
	int rc;
	while ((rc = itr_reader_next(rd, &r)) > 0) {
		if (r.type == ITR_REC_END)
			continue;       /* the writer adds its own */
		if (rp_memtrace_add(t, &r)) {
			itr_reader_close(rd);
			rp_memtrace_free(t);
			return RP_E_NOMEM;
		}
	}
	t->damage_events = itr_reader_stats(rd)->damage_events;
	itr_reader_close(rd);
	*out = t;
	if (rc < 0 && msg && msglen && !msg[0])
		snprintf(msg, msglen, "%s", itr_strerror(rc));
	return rc < 0 || t->damage_events ? RP_E_DAMAGED : 0;
}

int rp_memtrace_save(const struct rp_memtrace *t, const char *path)
{
	struct itr_writer *w;
	if (itr_writer_open(path, &t->h, &w))
		return RP_E_TRACE;
	for (size_t i = 0; i < t->n; i++) {
		struct itr_rec r;
		rp_memtrace_get(t, i, &r);
		if (itr_writer_add(w, &r)) {
			itr_writer_abort(w);
			return RP_E_TRACE;
		}
	}
	return itr_writer_close(w) ? RP_E_TRACE : 0;
}

/* Engine events as records, as the in-engine recorder would write them (one record
 * per MEM_READ chunk). */
void rp_memtrace_record_event(void *ctx, const struct vits_event *ev)
{
	struct rp_memtrace *t = ctx;
	uint8_t buf[ITR_EV_FIXED_MAX + ITR_MEM_CHUNK];
	uint8_t type;
	int n = itr_encode_event(ev, buf, &type);
	if (n < 0)
		return;
	struct itr_rec r = { .type = type, .domain = ev->domain, .cpu = 0 };
	if (ev->type != VITS_EV_MEM_READ) {
		r.len = (uint32_t)n;
		r.payload = buf;
		rp_memtrace_add(t, &r);
		return;
	}
	/* As itr_writer_event: a failed read carries no data and total length 0. */
	uint32_t len = ev->u.mem.data ? ev->u.mem.len : 0, off = 0;
	do {
		uint32_t c = len - off > ITR_MEM_CHUNK ? ITR_MEM_CHUNK : len - off;
		itr_encode_mem_prefix(buf, ev->u.mem.gpa + off, ev->u.mem.result, len);
		if (c)
			memcpy(buf + ITR_PL_MEM_READ, ev->u.mem.data + off, c);
		r.len = ITR_PL_MEM_READ + c;
		r.payload = buf;
		r.flags = off ? ITR_RF_CONT : 0;
		rp_memtrace_add(t, &r);
		off += c;
	} while (off < len);
}
