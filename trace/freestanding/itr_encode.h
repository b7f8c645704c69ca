/*
 * itr_encode.h: engine events (struct vits_event) to record payloads and back.
 *
 * Freestanding: the in-engine recorder encodes with it, the hosted writer too, and
 * replay decodes records into the very struct the engine's hook reports.
 */
#ifndef ITR_ENCODE_H
#define ITR_ENCODE_H

#include "itr_format.h"
#include "vits.h"

/* Largest fixed payload of an engine event (CMD and PHYS_CMD). */
#define ITR_EV_FIXED_MAX 36u

/*
 * Encode the fixed payload of ev into out and set *type to its record type.
 * Returns the payload length.  For VITS_EV_MEM_READ only the 16-byte prefix (gpa,
 * result, total length) is written; the caller appends the data, in chunks of at most
 * ITR_MEM_CHUNK bytes (itr_encode_mem_chunk rewrites the prefix for a later chunk).
 * Returns -1 for an event type this format version does not know.
 */
int itr_encode_event(const struct vits_event *ev, uint8_t out[ITR_EV_FIXED_MAX],
		     uint8_t *type);

/* Payload bytes itr_encode_event writes for an event type (for MEM_READ the prefix),
 * or -1 for a type it does not know. */
int itr_event_payload_len(unsigned type);

/* Prefix of a MEM_READ record carrying the chunk at byte offset off of a read. */
void itr_encode_mem_prefix(uint8_t out[ITR_PL_MEM_READ], uint64_t gpa, int32_t result,
			   uint32_t total_len);

/*
 * Decode a record payload of an engine event type into *ev (domain as given).
 * For MEM_READ, ev->u.mem.data points into payload and u.mem.len is this record's
 * data length (a read split across chunks arrives as several events, ITR_RF_CONT
 * set on the later ones).  Returns 0, -1 for a type that is not an engine event, -2
 * when the payload is shorter than the type needs.
 */
int itr_decode_event(uint8_t type, const uint8_t *payload, uint32_t len, uint16_t domain,
		     struct vits_event *ev);

#endif /* ITR_ENCODE_H */
