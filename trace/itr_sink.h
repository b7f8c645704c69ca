/*
 * itr_sink.h: the hosted consumer of the recorder's rings: drains them into an .itr
 * file, merging the per-CPU rings by timestamp.
 *
 * Order: exact within one ring; across rings, entries available at a drain are merged
 * by timestamp, so two CPUs' records interleave correctly when the clock is shared
 * and each drain sees both sides (an entry committed on one CPU after the drain began
 * may land after a later-stamped entry of another CPU: drain often, or use one ring per
 * vITS instance when the exact order between instances matters).
 */
#ifndef ITR_SINK_H
#define ITR_SINK_H

#include "itr_recorder.h"
#include "itr_writer.h"

#ifdef __cplusplus
extern "C" {
#endif

struct itr_sink;

/* Start a trace at path for rec's rings.  h->source is set to ITR_SRC_RECORDER when
 * unknown.  Errors: as itr_writer_open. */
int itr_sink_open(struct itr_recorder *rec, const char *path, const struct itr_header *h,
		  struct itr_sink **out);

/* Move every entry now in the rings to the file.  Returns records written, or < 0. */
long itr_sink_drain(struct itr_sink *s);

/* Once every producer has stopped: drain, record a LOSS for drops no entry reported,
 * write END and close.  Returns 0 or the first error. */
int itr_sink_close(struct itr_sink *s);

#ifdef __cplusplus
}
#endif

#endif /* ITR_SINK_H */
