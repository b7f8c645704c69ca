/*
 * itr_writer.h: write an .itr trace, block by block.
 *
 * Records go into a block buffer; a full block (header.block_max payload bytes) is
 * checksummed and written.  itr_writer_close() writes the END record, so a reader can
 * tell a complete trace from one cut at a block boundary.  Records must come in the
 * order they happened; timestamps may go backwards (several CPUs) and far apart: the
 * writer inserts TIME records where a 32-bit delta cannot say it.
 */
#ifndef ITR_WRITER_H
#define ITR_WRITER_H

#include <stdio.h>

#include "itr_types.h"
#include "vits.h"

#ifdef __cplusplus
extern "C" {
#endif

struct itr_writer;

/* Fill *h with an empty header: version, unknown source/policy, block_max default. */
void itr_header_init(struct itr_header *h);

/* Create path (truncating it) and write the header.  "-" writes to stdout.
 * Errors: ITR_E_INVAL (bad header: too many domains), ITR_E_IO, ITR_E_NOMEM. */
int itr_writer_open(const char *path, const struct itr_header *h, struct itr_writer **out);

/* The same on an open stream; the writer closes fp at close only if own_fp. */
int itr_writer_fopen(FILE *fp, int own_fp, const struct itr_header *h, struct itr_writer **out);

/* Append one record (r->payload copied).  Fields index and offset are ignored.
 * Errors: ITR_E_INVAL (types TIME and END are the writer's own), ITR_E_TOO_BIG (the
 * record is longer than ITR_REC_MAX or than the header's block_max), ITR_E_IO (sticky). */
int itr_writer_add(struct itr_writer *w, const struct itr_rec *r);

/* Append an engine event as the recorder would (a MEM_READ is split into chunks of at
 * most ITR_MEM_CHUNK bytes, fewer with small blocks; later chunks carry ITR_RF_CONT).
 * Errors: ITR_E_TYPE (unknown event type), as itr_writer_add. */
int itr_writer_event(struct itr_writer *w, uint64_t ts, uint16_t cpu, uint8_t flags,
		     const struct vits_event *ev);

/* Metadata records. */
int itr_writer_loss(struct itr_writer *w, uint64_t ts, uint16_t domain, uint16_t cpu,
		    uint64_t dropped, uint32_t cause);
int itr_writer_note(struct itr_writer *w, uint64_t ts, uint16_t domain, const char *text);
/* Declares that the next record was filled in by rule; fields: ITR_CMDF_* bits for a
 * command (CMD, or MEM_READ of a command slot), 0 for other records. */
int itr_writer_inferred(struct itr_writer *w, uint64_t ts, uint16_t domain, uint16_t rule,
			uint8_t target_type, uint32_t fields, const char *text);
int itr_writer_checkpoint(struct itr_writer *w, uint64_t ts, uint16_t domain, uint16_t cpu,
			  uint64_t seq, uint16_t kind, const void *fp, uint16_t fp_len);

/* Write the buffered block now (a sink calls it to bound what a crash can lose). */
int itr_writer_flush(struct itr_writer *w);

/* Records added so far (END not counted). */
uint64_t itr_writer_records(const struct itr_writer *w);

/* Write END, flush, close and free.  Returns 0 or the first error met on the way. */
int itr_writer_close(struct itr_writer *w);

/* Free without writing END (the trace then reads as cut short). */
void itr_writer_abort(struct itr_writer *w);

#ifdef __cplusplus
}
#endif

#endif /* ITR_WRITER_H */
