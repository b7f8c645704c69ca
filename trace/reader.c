/*
 * reader.c: the streaming .itr reader, with recovery from damage.
 */
#define _FILE_OFFSET_BITS 64
#define _POSIX_C_SOURCE 200809L
#include "itr_reader.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "itr_crc32.h"

/* Total bytes the reader may read while trying candidate blocks after damage: bounds
 * the work a hostile file full of fake block magics can cause. */
#define RESYNC_BUDGET (256ull << 20)
#define SCAN_CHUNK 65536u

struct itr_reader {
	FILE *fp;
	int own_fp, seekable;
	struct itr_reader_opts opts;
	struct itr_header hdr;
	struct itr_domain *domains;
	uint64_t file_size;         /* 0 when unknown (a pipe) */
	uint64_t pos;               /* file offset of the next block */
	uint64_t next_seq;
	uint64_t resync_spent;
	uint8_t *blk;               /* block header + payload */
	const uint8_t *cur, *end;   /* records left in the current block */
	uint64_t blk_off;           /* file offset of the current block */
	uint32_t blk_nrec, blk_seen;
	uint64_t ts;
	int finished;
	struct itr_read_stats st;
	char what[160];
};

const char *itr_damage_name(enum itr_damage_kind k)
{
	switch (k) {
	case ITR_DMG_TRUNCATED: return "truncated";
	case ITR_DMG_NO_END: return "no-end";
	case ITR_DMG_BLOCK_HEADER: return "bad-block-header";
	case ITR_DMG_CRC: return "bad-crc";
	case ITR_DMG_RECORD: return "bad-record";
	case ITR_DMG_SEQ_GAP: return "missing-blocks";
	case ITR_DMG_COUNT: return "records-missing";
	case ITR_DMG_RESYNC_LIMIT: return "resync-limit";
	case ITR_DMG_NO_RESYNC: return "no-resync";
	}
	return "unknown";
}

static void fmt(char *b, size_t n, const char *f, ...)
	__attribute__((format(printf, 3, 4)));
static void fmt(char *b, size_t n, const char *f, ...)
{
	if (!b || !n)
		return;
	va_list ap;
	va_start(ap, f);
	vsnprintf(b, n, f, ap);
	va_end(ap);
}

/* Report one damage; in strict mode reading ends. */
static int damage(struct itr_reader *r, enum itr_damage_kind k, uint64_t off, uint64_t bytes,
		  uint64_t recs, uint64_t blocks)
{
	struct itr_damage d = { k, off, bytes, recs, blocks, r->what };
	r->st.damage_events++;
	r->st.bytes_lost += bytes;
	r->st.records_lost += recs;
	r->st.blocks_lost += blocks;
	if (r->opts.on_damage)
		r->opts.on_damage(r->opts.ctx, &d);
	if (r->opts.strict) {
		r->finished = 1;
		return ITR_E_DAMAGED;
	}
	return 0;
}

static int read_at(struct itr_reader *r, uint64_t off, void *buf, size_t n, size_t *got)
{
	if (r->seekable) {
		if (fseeko(r->fp, (off_t)off, SEEK_SET) != 0)
			return ITR_E_IO;
	}
	*got = fread(buf, 1, n, r->fp);
	if (*got < n && ferror(r->fp))
		return ITR_E_IO;
	return 0;
}

static int parse_header(struct itr_reader *r, char *msg, size_t msglen)
{
	uint8_t fixed[ITR_HDR_FIXED];
	size_t got;
	if (read_at(r, 0, fixed, sizeof(fixed), &got))
		return ITR_E_IO;
	if (got < ITR_MAGIC_LEN || memcmp(fixed, itr_magic, ITR_MAGIC_LEN) != 0) {
		fmt(msg, msglen, "not an .itr trace (no trace magic at the start)");
		return ITR_E_NOT_ITR;
	}
	if (got < ITR_H_LEN + 4) {
		fmt(msg, msglen, "trace header cut short (%zu bytes)", got);
		return ITR_E_NOT_ITR;
	}
	struct itr_header *h = &r->hdr;
	h->major = itr_get16(fixed + ITR_H_MAJOR);
	h->minor = itr_get16(fixed + ITR_H_MINOR);
	if (h->major > ITR_VERSION_MAJOR) {
		fmt(msg, msglen, "trace format %u.%u is newer than this reader (%u.%u): "
		    "use a newer its-trace", h->major, h->minor, ITR_VERSION_MAJOR,
		    ITR_VERSION_MINOR);
		return ITR_E_VERSION;
	}
	if (h->major < 1) {
		fmt(msg, msglen, "trace format %u.%u: no such version", h->major, h->minor);
		return ITR_E_HEADER;
	}
	uint32_t len = itr_get32(fixed + ITR_H_LEN);
	if (len < ITR_HDR_FIXED || len > ITR_HDR_MAX) {
		fmt(msg, msglen, "trace header length %u impossible (%u..%u)", len,
		    ITR_HDR_FIXED, ITR_HDR_MAX);
		return ITR_E_HEADER;
	}
	if (got < ITR_HDR_FIXED) {
		fmt(msg, msglen, "trace header cut short (%zu of %u bytes)", got, len);
		return ITR_E_HEADER;
	}
	uint8_t *hb = malloc(len);
	if (!hb)
		return ITR_E_NOMEM;
	memcpy(hb, fixed, ITR_HDR_FIXED);
	size_t rest = 0;
	if (len > ITR_HDR_FIXED) {
		rest = fread(hb + ITR_HDR_FIXED, 1, len - ITR_HDR_FIXED, r->fp);
		if (rest < len - ITR_HDR_FIXED) {
			free(hb);
			fmt(msg, msglen, "trace header cut short (%zu of %u bytes)",
			    ITR_HDR_FIXED + rest, len);
			return ITR_E_HEADER;
		}
	}
	uint32_t crc = itr_get32(hb + ITR_H_CRC);
	itr_put32(hb + ITR_H_CRC, 0);
	if (itr_crc32c(0, hb, len) != crc) {
		free(hb);
		fmt(msg, msglen, "trace header damaged (checksum mismatch)");
		return ITR_E_HEADER;
	}
	h->flags = itr_get32(hb + ITR_H_FLAGS);
	h->block_max = itr_get32(hb + ITR_H_BLOCK_MAX);
	h->source = itr_get16(hb + ITR_H_SOURCE);
	h->policy = itr_get16(hb + ITR_H_POLICY);
	h->nr_domains = itr_get16(hb + ITR_H_NR_DOMAINS);
	h->error_mode = hb[ITR_H_ERROR_MODE];
	h->nr_vcpus = itr_get32(hb + ITR_H_NR_VCPUS);
	h->devid_bits = hb[ITR_H_DEVID_BITS];
	h->eventid_bits = hb[ITR_H_EVENTID_BITS];
	h->cid_bits = hb[ITR_H_CID_BITS];
	h->intid_bits = hb[ITR_H_INTID_BITS];
	h->budget = itr_get32(hb + ITR_H_BUDGET);
	h->typer = itr_get64(hb + ITR_H_TYPER);
	h->iidr = itr_get32(hb + ITR_H_IIDR);
	h->start_ns = itr_get64(hb + ITR_H_START_NS);
	memcpy(h->source_desc, hb + ITR_H_SOURCE_DESC, ITR_SOURCE_DESC);
	h->source_desc[ITR_SOURCE_DESC] = 0;
	if (h->block_max < ITR_REC_HDR || h->block_max > ITR_BLOCK_LIMIT ||
	    ITR_HDR_FIXED + (uint64_t)h->nr_domains * ITR_DOMAIN_DESC > len) {
		free(hb);
		fmt(msg, msglen, "trace header has impossible values (block size %u, %u domains)",
		    h->block_max, h->nr_domains);
		return ITR_E_HEADER;
	}
	if (h->nr_domains) {
		r->domains = calloc(h->nr_domains, sizeof(*r->domains));
		if (!r->domains) {
			free(hb);
			return ITR_E_NOMEM;
		}
		for (unsigned i = 0; i < h->nr_domains; i++) {
			const uint8_t *d = hb + ITR_HDR_FIXED + i * ITR_DOMAIN_DESC;
			r->domains[i].id = itr_get16(d);
			r->domains[i].flags = itr_get16(d + 2);
			r->domains[i].nr_vcpus = itr_get32(d + 4);
		}
	}
	h->domains = r->domains;
	free(hb);
	r->pos = len;
	return 0;
}

int itr_reader_open(const char *path, const struct itr_reader_opts *opts,
		    struct itr_reader **out, char *msg, size_t msglen)
{
	if (msg && msglen)
		msg[0] = 0;
	if (!path || !out)
		return ITR_E_INVAL;
	struct itr_reader *r = calloc(1, sizeof(*r));
	if (!r)
		return ITR_E_NOMEM;
	if (opts) {
		size_t n = opts->sz < sizeof(r->opts) ? opts->sz : sizeof(r->opts);
		memcpy(&r->opts, opts, n);
	}
	if (strcmp(path, "-") == 0) {
		r->fp = stdin;
	} else {
		r->fp = fopen(path, "rb");
		if (!r->fp) {
			fmt(msg, msglen, "cannot open %s", path);
			free(r);
			return ITR_E_IO;
		}
		r->own_fp = 1;
	}
	struct stat sb;
	if (fstat(fileno(r->fp), &sb) == 0 && S_ISREG(sb.st_mode)) {
		r->seekable = 1;
		r->file_size = (uint64_t)sb.st_size;
	}
	int rc = parse_header(r, msg, msglen);
	if (!rc) {
		r->blk = malloc(ITR_BLK_HDR + r->hdr.block_max);
		if (!r->blk)
			rc = ITR_E_NOMEM;
	}
	if (rc) {
		itr_reader_close(r);
		return rc;
	}
	*out = r;
	return 0;
}

const struct itr_header *itr_reader_header(const struct itr_reader *r)
{
	return r ? &r->hdr : NULL;
}

const struct itr_read_stats *itr_reader_stats(const struct itr_reader *r)
{
	return r ? &r->st : NULL;
}

void itr_reader_close(struct itr_reader *r)
{
	if (!r)
		return;
	if (r->own_fp)
		fclose(r->fp);
	free(r->blk);
	free(r->domains);
	free(r);
}

enum blk_result { BLK_OK, BLK_EOF, BLK_SHORT, BLK_BAD, BLK_CRC, BLK_IO };

/* Load the block at off into r->blk; *nrec gets its header's count when readable. */
static enum blk_result load_block(struct itr_reader *r, uint64_t off, uint32_t *nrec)
{
	size_t got;
	*nrec = 0;
	if (read_at(r, off, r->blk, ITR_BLK_HDR, &got))
		return BLK_IO;
	if (got == 0)
		return BLK_EOF;
	if (got < ITR_BLK_HDR)
		return BLK_SHORT;
	uint32_t len = itr_get32(r->blk + ITR_B_LEN), n = itr_get32(r->blk + ITR_B_NREC);
	if (itr_get32(r->blk + ITR_B_MAGIC) != ITR_BLOCK_MAGIC || len > r->hdr.block_max ||
	    len < ITR_REC_HDR || n == 0 || n > len / ITR_REC_HDR)
		return BLK_BAD;
	*nrec = n;
	if (r->file_size && off + ITR_BLK_HDR + len > r->file_size)
		return BLK_SHORT;
	got = fread(r->blk + ITR_BLK_HDR, 1, len, r->fp);
	if (got < len)
		return ferror(r->fp) ? BLK_IO : BLK_SHORT;
	uint32_t crc = itr_get32(r->blk + ITR_B_CRC);
	itr_put32(r->blk + ITR_B_CRC, 0);
	uint32_t c = itr_crc32c(0, r->blk, ITR_BLK_HDR + len);
	itr_put32(r->blk + ITR_B_CRC, crc);
	return c == crc ? BLK_OK : BLK_CRC;
}

/*
 * After damage at off: find the next intact block at or after from.  Returns 1 with
 * the block loaded at *found, 0 when none is left, < 0 on I/O error.
 */
static int resync(struct itr_reader *r, uint64_t from, uint64_t *found)
{
	uint8_t scan[SCAN_CHUNK];
	uint64_t pos = from;
	for (;;) {
		size_t got;
		if (read_at(r, pos, scan, sizeof(scan), &got))
			return ITR_E_IO;
		if (got < 4)
			return 0;
		for (size_t i = 0; i + 4 <= got; i++) {
			if (itr_get32(scan + i) != ITR_BLOCK_MAGIC)
				continue;
			uint32_t nrec;
			uint64_t cand = pos + i;
			if (i + ITR_BLK_HDR <= got) {
				/* Cheap plausibility check on the bytes in hand first. */
				uint32_t l = itr_get32(scan + i + ITR_B_LEN);
				uint32_t n = itr_get32(scan + i + ITR_B_NREC);
				if (l > r->hdr.block_max || l < ITR_REC_HDR || n == 0 ||
				    n > l / ITR_REC_HDR)
					continue;
			}
			if (r->resync_spent > RESYNC_BUDGET)
				return -100;
			r->resync_spent += 4096;   /* a seek and a buffer refill */
			enum blk_result br = load_block(r, cand, &nrec);
			r->resync_spent += ITR_BLK_HDR + (br == BLK_BAD ? 0 :
				itr_get32(r->blk + ITR_B_LEN));
			if (br == BLK_IO)
				return ITR_E_IO;
			if (br == BLK_OK) {
				*found = cand;
				return 1;
			}
		}
		pos += got - 3;
	}
}

/* Make the block at r->blk current (already loaded and checked), starting at off. */
static int enter_block(struct itr_reader *r, uint64_t off)
{
	uint32_t len = itr_get32(r->blk + ITR_B_LEN);
	uint64_t seq = itr_get64(r->blk + ITR_B_SEQ);
	r->blk_off = off;
	r->pos = off + ITR_BLK_HDR + len;
	r->cur = r->blk + ITR_BLK_HDR;
	r->end = r->cur + len;
	r->blk_nrec = itr_get32(r->blk + ITR_B_NREC);
	r->blk_seen = 0;
	r->ts = itr_get64(r->blk + ITR_B_BASE_TS);
	r->st.blocks++;
	int rc = 0;
	if (seq != r->next_seq) {
		if (seq > r->next_seq) {
			fmt(r->what, sizeof(r->what), "blocks %llu..%llu missing",
			    (unsigned long long)r->next_seq, (unsigned long long)seq - 1);
			rc = damage(r, ITR_DMG_SEQ_GAP, off, 0, 0, seq - r->next_seq);
		} else {
			fmt(r->what, sizeof(r->what), "block %llu after block %llu (out of order "
			    "or repeated)", (unsigned long long)seq,
			    (unsigned long long)r->next_seq - 1);
			rc = damage(r, ITR_DMG_SEQ_GAP, off, 0, 0, 0);
		}
	}
	r->next_seq = seq + 1;
	return rc;
}

static const char *blk_why(enum blk_result br)
{
	switch (br) {
	case BLK_SHORT: return "block cut short by the end of the file";
	case BLK_BAD: return "impossible block header";
	case BLK_CRC: return "block checksum mismatch";
	default: return "unreadable block";
	}
}

/* Load the next block, recovering from damage.  1: a block is current; 0: the end. */
static int next_block(struct itr_reader *r)
{
	uint32_t nrec;
	uint64_t off = r->pos;
	enum blk_result br = load_block(r, off, &nrec);
	if (br == BLK_OK)
		return enter_block(r, off) ? ITR_E_DAMAGED : 1;
	if (br == BLK_IO)
		return ITR_E_IO;
	if (br == BLK_EOF) {
		r->finished = 1;
		if (!r->st.end_seen) {
			fmt(r->what, sizeof(r->what), "the trace ends at offset %llu without "
			    "an END record: cut short, records after it are lost",
			    (unsigned long long)off);
			return damage(r, ITR_DMG_NO_END, off, 0, 0, 0);
		}
		return 0;
	}
	enum itr_damage_kind kind = br == BLK_SHORT ? ITR_DMG_TRUNCATED :
		br == BLK_CRC ? ITR_DMG_CRC : ITR_DMG_BLOCK_HEADER;
	uint64_t found = 0;
	int rs = 0;
	if (!r->seekable) {
		kind = ITR_DMG_NO_RESYNC;
	} else {
		rs = resync(r, off + 1, &found);
		if (rs == ITR_E_IO)
			return rs;
	}
	uint64_t lost = rs == 1 ? found - off : (r->file_size > off ? r->file_size - off : 0);
	if (rs == -100) {
		kind = ITR_DMG_RESYNC_LIMIT;
		fmt(r->what, sizeof(r->what), "%s at offset %llu; gave up looking for an intact "
		    "block (hostile input?)", blk_why(br), (unsigned long long)off);
	} else {
		fmt(r->what, sizeof(r->what), "%s at offset %llu: %llu bytes skipped%s",
		    blk_why(br), (unsigned long long)off, (unsigned long long)lost,
		    rs == 1 ? ", reading goes on at the next intact block" :
			      ", nothing intact after it");
	}
	int rc = damage(r, kind, off, lost, nrec, 0);
	if (rc)
		return rc;
	if (rs != 1) {
		r->finished = 1;
		return 0;
	}
	return enter_block(r, found) ? ITR_E_DAMAGED : 1;
}

static int bad_record(struct itr_reader *r, const char *why)
{
	uint64_t off = r->blk_off + ITR_BLK_HDR + (uint64_t)(r->cur - (r->blk + ITR_BLK_HDR));
	uint64_t left = r->blk_nrec > r->blk_seen ? r->blk_nrec - r->blk_seen : 0;
	fmt(r->what, sizeof(r->what), "%s at offset %llu in block %llu: rest of the block "
	    "(%llu bytes) skipped", why, (unsigned long long)off,
	    (unsigned long long)(r->next_seq - 1), (unsigned long long)(r->end - r->cur));
	int rc = damage(r, ITR_DMG_RECORD, off, (uint64_t)(r->end - r->cur), left, 0);
	r->cur = r->end;
	return rc;
}

int itr_reader_next(struct itr_reader *r, struct itr_rec *rec)
{
	if (!r || !rec)
		return ITR_E_INVAL;
	for (;;) {
		if (r->cur >= r->end) {
			if (r->finished)
				return 0;
			int rc = next_block(r);
			if (rc <= 0)
				return rc;
			continue;
		}
		const uint8_t *p = r->cur;
		size_t avail = (size_t)(r->end - p);
		uint32_t len;
		if (avail < ITR_REC_HDR || (len = itr_get16(p + ITR_R_LEN)) < ITR_REC_HDR ||
		    len > avail) {
			int rc = bad_record(r, "record length impossible");
			if (rc)
				return rc;
			continue;
		}
		r->cur = p + len;
		r->blk_seen++;
		r->ts += (uint64_t)(int64_t)(int32_t)itr_get32(p + ITR_R_TS_DELTA);
		uint8_t type = p[ITR_R_TYPE];
		if (type == ITR_REC_TIME) {
			if (len >= ITR_REC_HDR + ITR_PL_TIME)
				r->ts = itr_get64(p + ITR_REC_HDR);
			continue;
		}
		rec->type = type;
		rec->flags = p[ITR_R_FLAGS];
		rec->domain = itr_get16(p + ITR_R_DOMAIN);
		rec->cpu = itr_get16(p + ITR_R_CPU);
		rec->len = len - ITR_REC_HDR;
		rec->payload = p + ITR_REC_HDR;
		rec->ts = r->ts;
		rec->index = r->st.records;
		rec->offset = r->blk_off + (uint64_t)(p - r->blk);
		int min = itr_rec_min_payload(type);
		if (min < 0)
			r->st.unknown_records++;
		else if (rec->len < (uint32_t)min)
			r->st.short_records++;
		if (type == ITR_REC_END && rec->len >= ITR_PL_END) {
			uint64_t want = itr_get64(rec->payload);
			r->st.end_seen = 1;
			if (want > r->st.records) {
				uint64_t miss = want - r->st.records;
				fmt(r->what, sizeof(r->what), "END counts %llu records, %llu were "
				    "read: %llu lost in all", (unsigned long long)want,
				    (unsigned long long)r->st.records,
				    (unsigned long long)miss);
				uint64_t known = r->st.records_lost;
				int rc = damage(r, ITR_DMG_COUNT, rec->offset, 0,
						miss > known ? miss - known : 0, 0);
				if (rc)
					return rc;
			}
		}
		r->st.records++;
		return 1;
	}
}
