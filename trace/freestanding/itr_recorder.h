/*
 * itr_recorder.h: the in-engine recorder.  Freestanding, like vits/: it lives in the
 * hypervisor beside the engine, takes its memory from the embedder, has no globals.
 *
 * Every event the engine's trace hook reports is encoded as an .itr record into the
 * ring of the CPU that reports it; a consumer (the hosted sink in itr_sink.h, or the
 * hypervisor's own) drains the rings into a file.  The embedder's vits_ops.trace
 * forwards to itr_recorder_record():
 *
 *     static void my_trace(void *ctx, const struct vits_event *ev)
 *     {
 *             itr_recorder_record(((struct my_ctx *)ctx)->rec, ev);
 *     }
 *
 * Checkpoints: at points where the engine is between calls, the embedder calls
 * itr_recorder_poll(); every checkpoint_every records it asks the embedder's
 * fingerprint function for a digest of the engine state and records a CHECKPOINT.
 */
#ifndef ITR_RECORDER_H
#define ITR_RECORDER_H

#include "itr_ring.h"
#include "vits.h"

struct itr_recorder_cfg {
	size_t sz;                  /* sizeof(struct itr_recorder_cfg) */
	uint32_t nr_cpus;           /* rings, one per CPU (1..65535) */
	uint32_t ring_bytes;        /* per ring, a power of two >= ITR_RING_MIN */
	void *ctx;                  /* passed to the callbacks */
	/* Time in ns (any monotonic clock, the same on every CPU).  NULL: always 0. */
	uint64_t (*now)(void *ctx);
	/* Index of the calling CPU, < nr_cpus.  NULL: always 0 (one ring). */
	uint32_t (*cpu)(void *ctx);
	/* Checkpoints: every checkpoint_every records of a ring (0: never), poll() calls
	 * fingerprint, which writes at most cap bytes of state digest and returns how
	 * many (< 0: no checkpoint this time). */
	uint32_t checkpoint_every;
	int (*fingerprint)(void *ctx, uint16_t domain, uint8_t *out, uint32_t cap);
	uint16_t fp_kind;           /* enum itr_fp_kind */
};

struct itr_recorder;

/* Bytes of memory itr_recorder_init needs for cfg (0 when cfg is unusable). */
size_t itr_recorder_mem_size(const struct itr_recorder_cfg *cfg);

/* Build a recorder in mem (len bytes, 64-byte aligned, from itr_recorder_mem_size).
 * Returns 0, or VITS_E_INVAL for a bad cfg or too little memory. */
int itr_recorder_init(void *mem, size_t len, const struct itr_recorder_cfg *cfg,
		      struct itr_recorder **out);

/* Record one engine event (the body of the embedder's trace hook).  Never blocks.
 * Returns 0, or -1 when the record was dropped (counted; a LOSS record will say). */
int itr_recorder_record(struct itr_recorder *rec, const struct vits_event *ev);

/* Record a checkpoint now on the calling CPU's ring, for domain; returns 0 or -1. */
int itr_recorder_checkpoint(struct itr_recorder *rec, uint16_t domain);

/* Record a checkpoint if checkpoint_every records passed since the last one. */
int itr_recorder_poll(struct itr_recorder *rec, uint16_t domain);

uint32_t itr_recorder_nr_rings(const struct itr_recorder *rec);
struct itr_ring *itr_recorder_ring(struct itr_recorder *rec, uint32_t cpu);

/* Records dropped on every ring so far. */
uint64_t itr_recorder_drops(const struct itr_recorder *rec);

#endif /* ITR_RECORDER_H */
