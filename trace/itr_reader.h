/*
 * itr_reader.h: read an .itr trace as a stream of records, in constant memory.
 *
 * The reader holds the header and one block (at most ITR_BLOCK_LIMIT bytes) whatever
 * the file's size.  A damaged file is read up to the damage; the reader then looks for
 * the next intact block (blocks carry a magic, a sequence number and a CRC) and goes
 * on, reporting each damage through the on_damage callback with what was lost.
 * Records before the damage are never lost; no input makes it crash or loop forever.
 */
#ifndef ITR_READER_H
#define ITR_READER_H

#include "itr_types.h"

#ifdef __cplusplus
extern "C" {
#endif

enum itr_damage_kind {
	ITR_DMG_TRUNCATED = 1,  /* the file ends inside a block */
	ITR_DMG_NO_END,         /* the file ends between blocks but without END: cut short */
	ITR_DMG_BLOCK_HEADER,   /* a block header is impossible (magic, length, count) */
	ITR_DMG_CRC,            /* a block's checksum does not match */
	ITR_DMG_RECORD,         /* a record inside a checksummed block is impossible */
	ITR_DMG_SEQ_GAP,        /* blocks are missing (sequence numbers jump) */
	ITR_DMG_COUNT,          /* END counts more records than could be read */
	ITR_DMG_RESYNC_LIMIT,   /* gave up looking for an intact block (hostile input) */
	ITR_DMG_NO_RESYNC,      /* damage on a stream that cannot seek: reading stops */
};

struct itr_damage {
	enum itr_damage_kind kind;
	uint64_t offset;        /* file offset where the damage starts */
	uint64_t bytes;         /* bytes skipped because of it */
	uint64_t records;       /* records known lost (0 when unknown) */
	uint64_t blocks;        /* blocks known lost (0 when unknown) */
	const char *what;       /* one line, no newline */
};

const char *itr_damage_name(enum itr_damage_kind k);

struct itr_reader_opts {
	size_t sz;              /* sizeof(struct itr_reader_opts) */
	int strict;             /* 1: the first damage ends reading with ITR_E_DAMAGED */
	void (*on_damage)(void *ctx, const struct itr_damage *d);
	void *ctx;
};

struct itr_read_stats {
	uint64_t records;       /* records returned (TIME framing records not counted) */
	uint64_t blocks;        /* intact blocks read */
	uint64_t damage_events;
	uint64_t bytes_lost;
	uint64_t records_lost;  /* known lost (from block headers and END) */
	uint64_t blocks_lost;   /* from sequence gaps */
	uint64_t unknown_records; /* records of types this reader does not know */
	uint64_t short_records; /* known types with a too-short payload */
	int end_seen;
};

struct itr_reader;

/*
 * Open path ("-" for standard input: damage then stops reading, as a pipe cannot seek)
 * and read its header.  On error, msg (if not NULL) receives one line saying why.
 * Errors: ITR_E_IO (cannot open or read), ITR_E_NOT_ITR, ITR_E_VERSION (newer major),
 * ITR_E_HEADER, ITR_E_NOMEM, ITR_E_INVAL.
 */
int itr_reader_open(const char *path, const struct itr_reader_opts *opts,
		    struct itr_reader **out, char *msg, size_t msglen);

const struct itr_header *itr_reader_header(const struct itr_reader *r);

/*
 * The next record: 1 and *rec filled, 0 at the end of the trace, or < 0:
 * ITR_E_IO (a read failed), ITR_E_DAMAGED (strict mode, after on_damage).
 * Records of unknown types are returned too (skip them by type).
 */
int itr_reader_next(struct itr_reader *r, struct itr_rec *rec);

const struct itr_read_stats *itr_reader_stats(const struct itr_reader *r);

void itr_reader_close(struct itr_reader *r);

#ifdef __cplusplus
}
#endif

#endif /* ITR_READER_H */
