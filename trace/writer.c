/*
 * writer.c: the .itr block writer.
 */
#define _POSIX_C_SOURCE 200809L
#include "itr_writer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "itr_crc32.h"
#include "itr_encode.h"

struct itr_writer {
	FILE *fp;
	int own_fp;
	int err;                /* first error, sticky */
	uint32_t block_max;
	uint8_t *buf;           /* ITR_BLK_HDR + block_max bytes */
	uint32_t used;          /* payload bytes in buf */
	uint32_t nrec;          /* records in buf */
	uint64_t seq;           /* number of the block being filled */
	uint64_t base_ts;       /* time base of the block */
	uint64_t last_ts;       /* ts of the last record (delta reference) */
	uint64_t records;
};

void itr_header_init(struct itr_header *h)
{
	memset(h, 0, sizeof(*h));
	h->major = ITR_VERSION_MAJOR;
	h->minor = 0;   /* the lowest minor that holds what is written: 1.0 unless the
			 * caller writes records of a later minor (SNAPSHOT: 1.1) */
	h->block_max = ITR_BLOCK_DEFAULT;
	h->error_mode = 0xff;
}

static int encode_header(const struct itr_header *h, uint8_t **out, uint32_t *len)
{
	if (h->nr_domains > ITR_MAX_DOMAINS || (h->nr_domains && !h->domains))
		return ITR_E_INVAL;
	uint32_t n = ITR_HDR_FIXED + (uint32_t)h->nr_domains * ITR_DOMAIN_DESC;
	uint8_t *b = calloc(1, n);
	if (!b)
		return ITR_E_NOMEM;
	memcpy(b + ITR_H_MAGIC, itr_magic, ITR_MAGIC_LEN);
	itr_put16(b + ITR_H_MAJOR, ITR_VERSION_MAJOR);
	itr_put16(b + ITR_H_MINOR, h->minor < ITR_VERSION_MINOR ? h->minor : ITR_VERSION_MINOR);
	itr_put32(b + ITR_H_LEN, n);
	itr_put32(b + ITR_H_FLAGS, h->flags);
	itr_put32(b + ITR_H_BLOCK_MAX, h->block_max);
	itr_put16(b + ITR_H_SOURCE, h->source);
	itr_put16(b + ITR_H_POLICY, h->policy);
	itr_put16(b + ITR_H_NR_DOMAINS, h->nr_domains);
	b[ITR_H_ERROR_MODE] = h->error_mode;
	itr_put32(b + ITR_H_NR_VCPUS, h->nr_vcpus);
	b[ITR_H_DEVID_BITS] = h->devid_bits;
	b[ITR_H_EVENTID_BITS] = h->eventid_bits;
	b[ITR_H_CID_BITS] = h->cid_bits;
	b[ITR_H_INTID_BITS] = h->intid_bits;
	itr_put32(b + ITR_H_BUDGET, h->budget);
	itr_put64(b + ITR_H_TYPER, h->typer);
	itr_put32(b + ITR_H_IIDR, h->iidr);
	itr_put64(b + ITR_H_START_NS, h->start_ns);
	size_t dl = strnlen(h->source_desc, ITR_SOURCE_DESC);
	memcpy(b + ITR_H_SOURCE_DESC, h->source_desc, dl);   /* NUL-padded by calloc */
	for (unsigned i = 0; i < h->nr_domains; i++) {
		uint8_t *d = b + ITR_HDR_FIXED + i * ITR_DOMAIN_DESC;
		itr_put16(d, h->domains[i].id);
		itr_put16(d + 2, h->domains[i].flags);
		itr_put32(d + 4, h->domains[i].nr_vcpus);
	}
	itr_put32(b + ITR_H_CRC, itr_crc32c(0, b, n));
	*out = b;
	*len = n;
	return 0;
}

static int wr(struct itr_writer *w, const void *p, size_t n)
{
	if (w->err)
		return w->err;
	if (fwrite(p, 1, n, w->fp) != n)
		w->err = ITR_E_IO;
	return w->err;
}

int itr_writer_fopen(FILE *fp, int own_fp, const struct itr_header *h, struct itr_writer **out)
{
	if (!fp || !h || !out)
		return ITR_E_INVAL;
	uint32_t bm = h->block_max ? h->block_max : ITR_BLOCK_DEFAULT;
	if (bm < 256 || bm > ITR_BLOCK_LIMIT)
		return ITR_E_INVAL;
	struct itr_header hh = *h;
	hh.block_max = bm;
	uint8_t *hb;
	uint32_t hl;
	int rc = encode_header(&hh, &hb, &hl);
	if (rc)
		return rc;
	struct itr_writer *w = calloc(1, sizeof(*w));
	if (!w || !(w->buf = malloc(ITR_BLK_HDR + bm))) {
		free(w);
		free(hb);
		return ITR_E_NOMEM;
	}
	w->fp = fp;
	w->own_fp = own_fp;
	w->block_max = bm;
	rc = wr(w, hb, hl);
	free(hb);
	if (rc) {
		free(w->buf);
		free(w);
		return rc;
	}
	*out = w;
	return 0;
}

int itr_writer_open(const char *path, const struct itr_header *h, struct itr_writer **out)
{
	if (!path)
		return ITR_E_INVAL;
	if (strcmp(path, "-") == 0)
		return itr_writer_fopen(stdout, 0, h, out);
	FILE *fp = fopen(path, "wb");
	if (!fp)
		return ITR_E_IO;
	int rc = itr_writer_fopen(fp, 1, h, out);
	if (rc)
		fclose(fp);
	return rc;
}

int itr_writer_flush(struct itr_writer *w)
{
	if (!w)
		return ITR_E_INVAL;
	if (w->err || w->nrec == 0)
		return w->err;
	uint8_t *b = w->buf;
	itr_put32(b + ITR_B_MAGIC, ITR_BLOCK_MAGIC);
	itr_put32(b + ITR_B_LEN, w->used);
	itr_put32(b + ITR_B_NREC, w->nrec);
	itr_put32(b + ITR_B_CRC, 0);
	itr_put64(b + ITR_B_SEQ, w->seq);
	itr_put64(b + ITR_B_BASE_TS, w->base_ts);
	itr_put32(b + ITR_B_CRC, itr_crc32c(0, b, ITR_BLK_HDR + w->used));
	wr(w, b, ITR_BLK_HDR + w->used);
	w->seq++;
	w->used = 0;
	w->nrec = 0;
	if (!w->err && fflush(w->fp) != 0)
		w->err = ITR_E_IO;
	return w->err;
}

/* Room for n more payload bytes in the block, flushing first when needed. */
static uint8_t *reserve(struct itr_writer *w, uint32_t n, uint64_t ts)
{
	if (w->used + n > w->block_max && itr_writer_flush(w))
		return NULL;
	if (w->nrec == 0) {
		w->base_ts = ts;
		w->last_ts = ts;
	}
	return w->buf + ITR_BLK_HDR + w->used;
}

static void put_hdr(uint8_t *p, uint8_t type, uint8_t flags, uint32_t len, uint16_t domain,
		    uint16_t cpu, int32_t delta)
{
	p[ITR_R_TYPE] = type;
	p[ITR_R_FLAGS] = flags;
	itr_put16(p + ITR_R_LEN, (uint16_t)len);
	itr_put16(p + ITR_R_DOMAIN, domain);
	itr_put16(p + ITR_R_CPU, cpu);
	itr_put32(p + ITR_R_TS_DELTA, (uint32_t)delta);
}

/* Start a record of total length n at time ts: returns where its payload goes. */
static uint8_t *begin(struct itr_writer *w, uint8_t type, uint8_t flags, uint32_t n,
		      uint16_t domain, uint16_t cpu, uint64_t ts)
{
	uint8_t *p = reserve(w, n, ts);
	if (!p)
		return NULL;
	int64_t d = (int64_t)(ts - w->last_ts);
	if (d > INT32_MAX || d < INT32_MIN) {
		/* A TIME record resets the base; it must share the block with the record. */
		p = reserve(w, ITR_REC_HDR + ITR_PL_TIME + n, ts);
		if (!p)
			return NULL;
		if (w->nrec) {
			put_hdr(p, ITR_REC_TIME, 0, ITR_REC_HDR + ITR_PL_TIME, domain, cpu, 0);
			itr_put64(p + ITR_REC_HDR, ts);
			w->used += ITR_REC_HDR + ITR_PL_TIME;
			w->nrec++;
			p += ITR_REC_HDR + ITR_PL_TIME;
		}
		w->last_ts = ts;
		d = 0;
	}
	w->last_ts = ts;
	put_hdr(p, type, flags, n, domain, cpu, (int32_t)d);
	w->used += n;
	w->nrec++;
	return p + ITR_REC_HDR;
}

static int add_raw(struct itr_writer *w, const struct itr_rec *r)
{
	if (w->err)
		return w->err;
	if (r->len > ITR_REC_MAX - ITR_REC_HDR || ITR_REC_HDR + r->len > w->block_max)
		return ITR_E_TOO_BIG;
	uint8_t *p = begin(w, r->type, r->flags, ITR_REC_HDR + r->len, r->domain, r->cpu, r->ts);
	if (!p)
		return w->err;
	if (r->len)
		memcpy(p, r->payload, r->len);
	w->records++;
	return 0;
}

int itr_writer_add(struct itr_writer *w, const struct itr_rec *r)
{
	/* TIME and END are the writer's own framing. */
	if (!w || !r || (r->len && !r->payload) || r->type == ITR_REC_TIME ||
	    r->type == ITR_REC_END)
		return ITR_E_INVAL;
	return add_raw(w, r);
}

int itr_writer_event(struct itr_writer *w, uint64_t ts, uint16_t cpu, uint8_t flags,
		     const struct vits_event *ev)
{
	if (!w || !ev)
		return ITR_E_INVAL;
	uint8_t fixed[ITR_EV_FIXED_MAX], type;
	int n = itr_encode_event(ev, fixed, &type);
	if (n < 0)
		return ITR_E_TYPE;
	struct itr_rec r = { .type = type, .flags = flags, .domain = ev->domain, .cpu = cpu,
			     .ts = ts, .len = (uint32_t)n, .payload = fixed };
	if (type != ITR_REC_MEM_READ)
		return itr_writer_add(w, &r);

	/* Guest-memory reads: one record per chunk, the later ones marked CONT. */
	uint8_t buf[ITR_PL_MEM_READ + ITR_MEM_CHUNK];
	uint32_t len = ev->u.mem.data ? ev->u.mem.len : 0, off = 0;
	uint32_t chunk = w->block_max - ITR_REC_HDR - ITR_PL_MEM_READ;
	if (chunk > ITR_MEM_CHUNK)
		chunk = ITR_MEM_CHUNK;
	do {
		uint32_t c = len - off > chunk ? chunk : len - off;
		itr_encode_mem_prefix(buf, ev->u.mem.gpa + off, ev->u.mem.result, len);
		if (c)
			memcpy(buf + ITR_PL_MEM_READ, ev->u.mem.data + off, c);
		r.payload = buf;
		r.len = ITR_PL_MEM_READ + c;
		r.flags = (uint8_t)(flags | (off ? ITR_RF_CONT : 0));
		int rc = itr_writer_add(w, &r);
		if (rc)
			return rc;
		off += c;
	} while (off < len);
	return 0;
}

int itr_writer_loss(struct itr_writer *w, uint64_t ts, uint16_t domain, uint16_t cpu,
		    uint64_t dropped, uint32_t cause)
{
	uint8_t p[ITR_PL_LOSS];
	itr_put64(p, dropped);
	itr_put32(p + 8, cause);
	itr_put32(p + 12, cpu);
	struct itr_rec r = { .type = ITR_REC_LOSS, .domain = domain, .cpu = cpu, .ts = ts,
			     .len = sizeof(p), .payload = p };
	return itr_writer_add(w, &r);
}

int itr_writer_note(struct itr_writer *w, uint64_t ts, uint16_t domain, const char *text)
{
	if (!text)
		return ITR_E_INVAL;
	size_t n = strlen(text);
	if (n > ITR_REC_MAX - ITR_REC_HDR)
		n = ITR_REC_MAX - ITR_REC_HDR;
	struct itr_rec r = { .type = ITR_REC_NOTE, .domain = domain, .cpu = ITR_CPU_UNKNOWN,
			     .ts = ts, .len = (uint32_t)n, .payload = (const uint8_t *)text };
	return itr_writer_add(w, &r);
}

int itr_writer_inferred(struct itr_writer *w, uint64_t ts, uint16_t domain, uint16_t rule,
			uint8_t target_type, uint32_t fields, const char *text)
{
	uint8_t p[ITR_PL_INFERRED + 512];
	size_t n = text ? strlen(text) : 0;
	if (n > sizeof(p) - ITR_PL_INFERRED)
		n = sizeof(p) - ITR_PL_INFERRED;
	itr_put16(p, rule);
	p[2] = target_type;
	p[3] = 0;
	itr_put32(p + 4, fields);
	if (n)
		memcpy(p + ITR_PL_INFERRED, text, n);
	struct itr_rec r = { .type = ITR_REC_INFERRED, .domain = domain, .cpu = ITR_CPU_UNKNOWN,
			     .ts = ts, .len = (uint32_t)(ITR_PL_INFERRED + n), .payload = p };
	return itr_writer_add(w, &r);
}

int itr_writer_checkpoint(struct itr_writer *w, uint64_t ts, uint16_t domain, uint16_t cpu,
			  uint64_t seq, uint16_t kind, const void *fp, uint16_t fp_len)
{
	if (fp_len > ITR_CHECKPOINT_FP_MAX || (fp_len && !fp))
		return ITR_E_INVAL;
	uint8_t p[ITR_PL_CHECKPOINT + ITR_CHECKPOINT_FP_MAX];
	itr_put64(p, seq);
	itr_put16(p + 8, kind);
	itr_put16(p + 10, fp_len);
	itr_put32(p + 12, 0);
	if (fp_len)
		memcpy(p + ITR_PL_CHECKPOINT, fp, fp_len);
	struct itr_rec r = { .type = ITR_REC_CHECKPOINT, .domain = domain, .cpu = cpu, .ts = ts,
			     .len = ITR_PL_CHECKPOINT + fp_len, .payload = p };
	return itr_writer_add(w, &r);
}

uint64_t itr_writer_records(const struct itr_writer *w)
{
	return w ? w->records : 0;
}

static void release(struct itr_writer *w)
{
	if (w->own_fp)
		fclose(w->fp);
	free(w->buf);
	free(w);
}

int itr_writer_close(struct itr_writer *w)
{
	if (!w)
		return ITR_E_INVAL;
	uint8_t p[ITR_PL_END];
	uint64_t blocks = w->seq;   /* blocks written before the one holding END */
	itr_put64(p, w->records);
	itr_put64(p + 8, blocks);
	/* END goes last in a block of its own when the current one is full. */
	struct itr_rec r = { .type = ITR_REC_END, .cpu = ITR_CPU_UNKNOWN, .ts = w->last_ts,
			     .len = sizeof(p), .payload = p };
	if (w->used + ITR_REC_HDR + ITR_PL_END > w->block_max) {
		itr_writer_flush(w);
		itr_put64(p + 8, w->seq);
	}
	add_raw(w, &r);
	itr_writer_flush(w);
	int rc = w->err;
	if (w->own_fp) {
		if (fclose(w->fp) != 0 && !rc)
			rc = ITR_E_IO;
		w->own_fp = 0;
	} else if (!rc && fflush(w->fp) != 0) {
		rc = ITR_E_IO;
	}
	release(w);
	return rc;
}

void itr_writer_abort(struct itr_writer *w)
{
	if (w)
		release(w);
}
