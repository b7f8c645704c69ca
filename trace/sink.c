/*
 * sink.c: drain recorder rings into an .itr file.
 */
#include "itr_sink.h"

#include <stdlib.h>

struct sink_ring {
	struct itr_ring *ring;
	uint8_t *scratch;
	struct itr_ring_entry e;
	int have;               /* e holds the ring's oldest entry */
};

struct itr_sink {
	struct itr_recorder *rec;
	struct itr_writer *w;
	uint32_t n;
	struct sink_ring *rings;
};

static void sink_free(struct itr_sink *s)
{
	if (s->rings)
		for (uint32_t i = 0; i < s->n; i++)
			free(s->rings[i].scratch);
	free(s->rings);
	free(s);
}

int itr_sink_open(struct itr_recorder *rec, const char *path, const struct itr_header *h,
		  struct itr_sink **out)
{
	if (!rec || !h || !out)
		return ITR_E_INVAL;
	struct itr_sink *s = calloc(1, sizeof(*s));
	if (!s)
		return ITR_E_NOMEM;
	s->rec = rec;
	s->n = itr_recorder_nr_rings(rec);
	s->rings = calloc(s->n, sizeof(*s->rings));
	if (!s->rings) {
		sink_free(s);
		return ITR_E_NOMEM;
	}
	for (uint32_t i = 0; i < s->n; i++) {
		struct itr_ring *r = itr_recorder_ring(rec, i);
		s->rings[i].ring = r;
		s->rings[i].scratch = malloc(ITR_RING_ENTRY_HDR + itr_ring_max_entry(r->size));
		if (!s->rings[i].scratch) {
			sink_free(s);
			return ITR_E_NOMEM;
		}
	}
	struct itr_header hh = *h;
	if (hh.source == ITR_SRC_UNKNOWN)
		hh.source = ITR_SRC_RECORDER;
	hh.flags |= ITR_HF_HAS_PHYS | ITR_HF_HAS_OUTCOMES;
	int rc = itr_writer_open(path, &hh, &s->w);
	if (rc) {
		sink_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

long itr_sink_drain(struct itr_sink *s)
{
	if (!s)
		return ITR_E_INVAL;
	long n = 0;
	for (;;) {
		struct sink_ring *best = NULL;
		for (uint32_t i = 0; i < s->n; i++) {
			struct sink_ring *sr = &s->rings[i];
			if (!sr->have)
				sr->have = itr_ring_peek(sr->ring, &sr->e, sr->scratch);
			if (sr->have && (!best || sr->e.ts < best->e.ts))
				best = sr;
		}
		if (!best)
			return n;
		struct itr_rec r = { .type = best->e.type, .flags = best->e.flags,
				     .domain = best->e.domain, .cpu = best->e.cpu,
				     .ts = best->e.ts, .len = best->e.len,
				     .payload = best->e.payload };
		int rc = itr_writer_add(s->w, &r);
		if (rc)
			return rc;
		itr_ring_pop(best->ring, &best->e);
		best->have = 0;
		n++;
	}
}

int itr_sink_close(struct itr_sink *s)
{
	if (!s)
		return ITR_E_INVAL;
	long d = itr_sink_drain(s);
	int rc = d < 0 ? (int)d : 0;
	for (uint32_t i = 0; i < s->n && !rc; i++) {
		struct itr_ring *r = s->rings[i].ring;
		uint64_t lost = itr_ring_unreported_drops(r);
		if (lost)
			rc = itr_writer_loss(s->w, r->first_drop_ts, 0, r->cpu, lost,
					     ITR_LOSS_RING_FULL);
	}
	int rc2 = itr_writer_close(s->w);
	sink_free(s);
	return rc ? rc : rc2;
}
