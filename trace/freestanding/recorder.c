/*
 * recorder.c: engine events into per-CPU rings (freestanding).
 */
#include "itr_recorder.h"

#include "itr_encode.h"

struct rec_cpu {
	struct itr_ring ring;
	uint64_t events;            /* events seen on this CPU (recorded or dropped) */
	uint64_t last_cp;           /* events at the last checkpoint */
};

struct itr_recorder {
	struct itr_recorder_cfg cfg;
	uint32_t chunk;             /* MEM_READ data bytes per entry */
	struct rec_cpu *cpus;
};

#define ALIGN64(n) (((n) + 63u) & ~(size_t)63u)

static int cfg_ok(const struct itr_recorder_cfg *c)
{
	return c && c->sz >= sizeof(*c) && c->nr_cpus >= 1 && c->nr_cpus <= 65535 &&
	       c->ring_bytes >= ITR_RING_MIN && c->ring_bytes <= ITR_RING_MAX &&
	       !(c->ring_bytes & (c->ring_bytes - 1)) && (!c->checkpoint_every || c->fingerprint);
}

size_t itr_recorder_mem_size(const struct itr_recorder_cfg *c)
{
	if (!cfg_ok(c))
		return 0;
	return ALIGN64(sizeof(struct itr_recorder)) +
	       ALIGN64(sizeof(struct rec_cpu) * c->nr_cpus) +
	       (size_t)c->ring_bytes * c->nr_cpus;
}

int itr_recorder_init(void *mem, size_t len, const struct itr_recorder_cfg *c,
		      struct itr_recorder **out)
{
	size_t need = itr_recorder_mem_size(c);
	if (!need || !mem || !out || len < need || ((uintptr_t)mem & 63))
		return VITS_E_INVAL;
	uint8_t *m = mem;
	vits_memset(m, 0, ALIGN64(sizeof(struct itr_recorder)) +
		    ALIGN64(sizeof(struct rec_cpu) * c->nr_cpus));
	struct itr_recorder *rec = (struct itr_recorder *)m;
	m += ALIGN64(sizeof(struct itr_recorder));
	rec->cfg = *c;
	rec->cpus = (struct rec_cpu *)m;
	m += ALIGN64(sizeof(struct rec_cpu) * c->nr_cpus);
	for (uint32_t i = 0; i < c->nr_cpus; i++) {
		itr_ring_init(&rec->cpus[i].ring, m, c->ring_bytes, (uint16_t)i);
		m += c->ring_bytes;
	}
	/* A guest-memory read is split so that each entry fits the ring's limit. */
	uint32_t lim = itr_ring_max_entry(c->ring_bytes) - ITR_RING_ENTRY_HDR - ITR_PL_MEM_READ;
	rec->chunk = lim < ITR_MEM_CHUNK ? lim & ~7u : ITR_MEM_CHUNK;
	*out = rec;
	return 0;
}

static inline struct rec_cpu *this_cpu(struct itr_recorder *rec)
{
	uint32_t i = rec->cfg.cpu ? rec->cfg.cpu(rec->cfg.ctx) : 0;
	if (vits_unlikely(i >= rec->cfg.nr_cpus))
		i %= rec->cfg.nr_cpus;
	return &rec->cpus[i];
}

static inline uint64_t now(struct itr_recorder *rec)
{
	return rec->cfg.now ? rec->cfg.now(rec->cfg.ctx) : 0;
}

int itr_recorder_record(struct itr_recorder *rec, const struct vits_event *ev)
{
	struct rec_cpu *c = this_cpu(rec);
	uint64_t ts = now(rec);
	c->events++;

	/* Fast path: encode straight into the ring when the entry fits unwrapped. */
	int plen = itr_event_payload_len(ev->type);
	uint32_t dlen = ev->type == VITS_EV_MEM_READ && ev->u.mem.data ? ev->u.mem.len : 0;
	if (vits_likely(plen > 0 && dlen <= rec->chunk)) {
		uint32_t n = ITR_RING_ENTRY_HDR + (uint32_t)plen + dlen;
		uint64_t next;
		uint8_t *p = itr_ring_reserve(&c->ring, n, &next), type;
		if (vits_likely(p != (uint8_t *)0)) {
			itr_encode_event(ev, p + ITR_RING_ENTRY_HDR, &type);
			uint8_t *d = p + ITR_RING_ENTRY_HDR + ITR_PL_MEM_READ;
			if (dlen == ITS_CMD_BYTES)      /* a command slot: inlined copy */
				vits_memcpy(d, ev->u.mem.data, ITS_CMD_BYTES);
			else if (dlen)
				vits_memcpy(d, ev->u.mem.data, dlen);
			itr_ring_entry_hdr(p, n, type, 0, ev->domain, c->ring.cpu, ts);
			itr_ring_commit(&c->ring, next);
			return 0;
		}
	}

	uint8_t fixed[ITR_EV_FIXED_MAX], type;
	int n = itr_encode_event(ev, fixed, &type);
	if (vits_unlikely(n < 0)) {
		/* An event type newer than this format: counted as lost, never silent. */
		itr_ring_drop(&c->ring, ts);
		return -1;
	}
	if (vits_likely(type != ITR_REC_MEM_READ))
		return itr_ring_put(&c->ring, type, 0, ev->domain, ts, fixed, (uint32_t)n,
				    (const void *)0, 0);

	uint32_t len = ev->u.mem.data ? ev->u.mem.len : 0, off = 0;
	int rc = 0;
	do {
		uint32_t k = len - off > rec->chunk ? rec->chunk : len - off;
		itr_encode_mem_prefix(fixed, ev->u.mem.gpa + off, ev->u.mem.result, len);
		rc |= itr_ring_put(&c->ring, type, off ? ITR_RF_CONT : 0, ev->domain, ts, fixed,
				   ITR_PL_MEM_READ, ev->u.mem.data + off, k);
		off += k;
	} while (off < len);
	return rc;
}

int itr_recorder_checkpoint(struct itr_recorder *rec, uint16_t domain)
{
	if (!rec->cfg.fingerprint)
		return -1;
	struct rec_cpu *c = this_cpu(rec);
	uint8_t p[ITR_PL_CHECKPOINT + ITR_CHECKPOINT_FP_MAX];
	int n = rec->cfg.fingerprint(rec->cfg.ctx, domain, p + ITR_PL_CHECKPOINT,
				     ITR_CHECKPOINT_FP_MAX);
	if (n < 0)
		return -1;
	if (n > (int)ITR_CHECKPOINT_FP_MAX)
		n = ITR_CHECKPOINT_FP_MAX;
	itr_put64(p, c->events);
	itr_put16(p + 8, rec->cfg.fp_kind);
	itr_put16(p + 10, (uint16_t)n);
	itr_put32(p + 12, 0);
	c->last_cp = c->events;
	return itr_ring_put(&c->ring, ITR_REC_CHECKPOINT, 0, domain, now(rec), p,
			    ITR_PL_CHECKPOINT + (uint32_t)n, (const void *)0, 0);
}

int itr_recorder_poll(struct itr_recorder *rec, uint16_t domain)
{
	if (!rec->cfg.checkpoint_every)
		return 0;
	struct rec_cpu *c = this_cpu(rec);
	if (c->events - c->last_cp < rec->cfg.checkpoint_every)
		return 0;
	return itr_recorder_checkpoint(rec, domain);
}

uint32_t itr_recorder_nr_rings(const struct itr_recorder *rec)
{
	return rec->cfg.nr_cpus;
}

struct itr_ring *itr_recorder_ring(struct itr_recorder *rec, uint32_t cpu)
{
	return cpu < rec->cfg.nr_cpus ? &rec->cpus[cpu].ring : (struct itr_ring *)0;
}

uint64_t itr_recorder_drops(const struct itr_recorder *rec)
{
	uint64_t d = 0;
	for (uint32_t i = 0; i < rec->cfg.nr_cpus; i++)
		d += itr_ring_drops(&rec->cpus[i].ring);
	return d;
}
