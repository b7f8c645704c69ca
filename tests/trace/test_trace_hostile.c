/*
 * test_trace_hostile.c: the reader on damaged and hostile files.  It must never crash
 * or hang, must return every record before the damage (and those of intact blocks
 * after it), and must say that something was lost.
 */
#define _POSIX_C_SOURCE 200809L
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "itr_crc32.h"
#include "itr_reader.h"
#include "itr_writer.h"
#include "tcheck.h"

#define MAXREC 512

struct orig {
	uint8_t type;
	uint32_t len;
	uint64_t ts;
	uint8_t payload[64];
	uint64_t offset;
};

static struct orig orig[MAXREC];
static int norig;
static uint8_t file[1 << 16];
static size_t fsize;
static uint32_t hdr_len;
static char path[256], bad[256];

static void make_trace(void)
{
	struct itr_header h;
	itr_header_init(&h);
	h.block_max = 256;
	h.source = ITR_SRC_SYNTHETIC;
	struct itr_writer *w;
	if (itr_writer_open(path, &h, &w))
		BROKEN("cannot write %s", path);
	for (int i = 0; i < 120; i++) {
		struct vits_event ev = { .type = VITS_EV_CMD, .domain = (uint16_t)(i & 1) };
		ev.u.cmd.offset = (uint32_t)i * 32;
		ev.u.cmd.cmd = its_mk_mapti((uint32_t)i, (uint32_t)i * 3, 8192 + (uint32_t)i, 1);
		itr_writer_event(w, 1000u * (uint64_t)i, (uint16_t)(i % 4), 0, &ev);
		struct vits_event m = { .type = VITS_EV_MSI, .domain = 0 };
		m.u.msi.devid = (uint32_t)i;
		m.u.msi.eventid = 7;
		itr_writer_event(w, 1000u * (uint64_t)i + 500, 0, 0, &m);
	}
	if (itr_writer_close(w))
		BROKEN("close failed");
	FILE *f = fopen(path, "rb");
	fsize = fread(file, 1, sizeof(file), f);
	fclose(f);
	hdr_len = itr_get32(file + ITR_H_LEN);

	struct itr_reader *r;
	if (itr_reader_open(path, NULL, &r, NULL, 0))
		BROKEN("cannot read the pristine trace");
	struct itr_rec rec;
	while (itr_reader_next(r, &rec) > 0 && norig < MAXREC) {
		struct orig *o = &orig[norig++];
		o->type = rec.type;
		o->len = rec.len;
		o->ts = rec.ts;
		o->offset = rec.offset;
		memcpy(o->payload, rec.payload, rec.len < 64 ? rec.len : 64);
	}
	if (itr_reader_stats(r)->damage_events)
		BROKEN("the pristine trace reads as damaged");
	itr_reader_close(r);
}

static void write_bad(const uint8_t *b, size_t n)
{
	FILE *f = fopen(bad, "wb");
	if (!f)
		BROKEN("cannot write %s", bad);
	if (n)
		fwrite(b, 1, n, f);
	fclose(f);
}

static int same(const struct itr_rec *rec, const struct orig *o)
{
	return rec->type == o->type && rec->len == o->len && rec->ts == o->ts &&
	       !memcmp(rec->payload, o->payload, o->len < 64 ? o->len : 64);
}

struct outcome {
	int open_rc;
	int nrec;            /* records returned */
	int subseq;          /* every record returned is an original, in order */
	int prefix;          /* the first records are exactly originals 0..k-1 */
	uint64_t damage;
	int idx[MAXREC + 64];
};

static void read_bad(struct outcome *oc)
{
	memset(oc, 0, sizeof(*oc));
	struct itr_reader *r;
	oc->open_rc = itr_reader_open(bad, NULL, &r, NULL, 0);
	oc->subseq = oc->prefix = 1;
	if (oc->open_rc)
		return;
	struct itr_rec rec;
	int j = 0, rc, guard = 0;
	while ((rc = itr_reader_next(r, &rec)) > 0 && guard++ < 100000) {
		while (j < norig && !same(&rec, &orig[j]))
			j++;
		if (j == norig) {
			oc->subseq = 0;
		} else {
			if (j != oc->nrec)
				oc->prefix = 0;
			oc->idx[oc->nrec < MAXREC + 63 ? oc->nrec : MAXREC + 63] = j;
			j++;
		}
		oc->nrec++;
	}
	CHECK(rc == 0, "reader ended with %d", rc);
	CHECK(guard < 100000, "reader did not stop");
	oc->damage = itr_reader_stats(r)->damage_events;
	itr_reader_close(r);
}

/* Records of the original whose record bytes all lie before cut, in whole blocks. */
static int complete_before(size_t cut)
{
	/* Find the last block boundary <= cut: walk blocks of the pristine file. */
	size_t pos = hdr_len, good_end = hdr_len;
	while (pos + ITR_BLK_HDR <= fsize) {
		size_t end = pos + ITR_BLK_HDR + itr_get32(file + pos + ITR_B_LEN);
		if (end > cut)
			break;
		good_end = end;
		pos = end;
	}
	int n = 0;
	while (n < norig && orig[n].offset < good_end)
		n++;
	return n;
}

static void test_truncation(void)
{
	int checked = 0;
	for (size_t cut = 0; cut <= fsize; cut++) {
		write_bad(file, cut);
		struct outcome oc;
		read_bad(&oc);
		if (cut < hdr_len) {
			CHECK(oc.open_rc == ITR_E_NOT_ITR || oc.open_rc == ITR_E_HEADER,
			      "cut at %zu (inside the header): open gave %d", cut, oc.open_rc);
			continue;
		}
		CHECK(oc.open_rc == 0, "cut at %zu: open gave %d", cut, oc.open_rc);
		CHECK(oc.prefix && oc.subseq, "cut at %zu: records are not a prefix", cut);
		int want = complete_before(cut);
		CHECK(oc.nrec >= want, "cut at %zu: %d records read, %d lie in whole blocks",
		      cut, oc.nrec, want);
		if (cut < fsize)
			CHECK(oc.damage >= 1, "cut at %zu: no damage reported", cut);
		else
			CHECK(oc.damage == 0 && oc.nrec == norig, "the whole file: %d of %d, "
			      "%llu damage", oc.nrec, norig, (unsigned long long)oc.damage);
		checked++;
	}
	printf("truncation: %d cuts checked of a %zu-byte file, %d records\n", checked, fsize,
	       norig);
}

static void test_bit_flips(void)
{
	static uint8_t b[sizeof(file)];
	int n = 0;
	/* Every bit of the header and the first blocks, one bit of each later byte. */
	for (size_t i = 0; i < fsize; i++) {
		for (int bit = 0; bit < 8; bit++) {
			if (i >= hdr_len + 600 && bit != (int)(i % 8))
				continue;
			memcpy(b, file, fsize);
			b[i] ^= (uint8_t)(1u << bit);
			write_bad(b, fsize);
			struct outcome oc;
			read_bad(&oc);
			n++;
			if (i < hdr_len) {
				CHECK(oc.open_rc < 0, "flip %zu.%d in the header: accepted", i, bit);
				continue;
			}
			CHECK(oc.subseq, "flip %zu.%d: a record that was never written", i, bit);
			CHECK(oc.damage >= 1, "flip %zu.%d: damage not reported", i, bit);
			/* One block (at most 256 bytes: 21 records) or the END is lost, no more. */
			CHECK(oc.nrec >= norig - 22, "flip %zu.%d: only %d of %d records", i, bit,
			      oc.nrec, norig);
		}
	}
	printf("bit flips: %d, each one reported, no record invented\n", n);
}

/* Build a file of the pristine header and one block with the given payload and a
 * correct CRC: hostile content that the checksum does not catch. */
static size_t hostile_block(uint8_t *b, const uint8_t *payload, uint32_t len, uint32_t nrec)
{
	memcpy(b, file, hdr_len);
	uint8_t *k = b + hdr_len;
	memset(k, 0, ITR_BLK_HDR);
	itr_put32(k + ITR_B_MAGIC, ITR_BLOCK_MAGIC);
	itr_put32(k + ITR_B_LEN, len);
	itr_put32(k + ITR_B_NREC, nrec);
	memcpy(k + ITR_BLK_HDR, payload, len);
	itr_put32(k + ITR_B_CRC, itr_crc32c(0, k, ITR_BLK_HDR + len));
	return hdr_len + ITR_BLK_HDR + len;
}

static void test_absurd(void)
{
	static uint8_t b[1 << 16];
	struct outcome oc;
	uint8_t pl[240];

	/* A record claiming 65535 bytes inside a 24-byte block. */
	memset(pl, 0, sizeof(pl));
	pl[0] = ITR_REC_CMD;
	itr_put16(pl + ITR_R_LEN, 0xffff);
	write_bad(b, hostile_block(b, pl, 24, 2));
	read_bad(&oc);
	CHECK(oc.open_rc == 0 && oc.nrec == 0 && oc.damage >= 1, "record len 65535: %d recs, "
	      "%llu damage", oc.nrec, (unsigned long long)oc.damage);

	/* Record lengths 0 and 5 (shorter than a record header). */
	itr_put16(pl + ITR_R_LEN, 0);
	write_bad(b, hostile_block(b, pl, 24, 2));
	read_bad(&oc);
	CHECK(oc.nrec == 0 && oc.damage >= 1, "record len 0: %d recs", oc.nrec);
	itr_put16(pl + ITR_R_LEN, 5);
	write_bad(b, hostile_block(b, pl, 24, 2));
	read_bad(&oc);
	CHECK(oc.nrec == 0 && oc.damage >= 1, "record len 5: %d recs", oc.nrec);

	/* A known type with a too-short payload: returned, flagged short, no crash. */
	itr_put16(pl + ITR_R_LEN, ITR_REC_HDR + 2);
	write_bad(b, hostile_block(b, pl, ITR_REC_HDR + 2, 1));
	{
		struct itr_reader *r;
		CHECK_EQ(0, itr_reader_open(bad, NULL, &r, NULL, 0));
		struct itr_rec rec;
		CHECK_EQ(1, itr_reader_next(r, &rec));
		CHECK_EQ(2, rec.len);
		while (itr_reader_next(r, &rec) > 0)
			;
		CHECK_EQ(1, itr_reader_stats(r)->short_records);
		itr_reader_close(r);
	}

	/* Block length 0xffffffff, record count 0xffffffff. */
	size_t n = hostile_block(b, pl, 24, 1);
	itr_put32(b + hdr_len + ITR_B_LEN, 0xffffffffu);
	write_bad(b, n);
	read_bad(&oc);
	CHECK(oc.nrec == 0 && oc.damage >= 1, "block len 4G: %d recs", oc.nrec);
	n = hostile_block(b, pl, 24, 1);
	itr_put32(b + hdr_len + ITR_B_NREC, 0xffffffffu);
	write_bad(b, n);
	read_bad(&oc);
	CHECK(oc.nrec == 0 && oc.damage >= 1, "nrec 4G: %d recs", oc.nrec);

	/* Header: length 4 GiB, 65535 domains in a short header, block_max 4 GiB. */
	struct { int off, width; uint32_t v; } hp[] = {
		{ ITR_H_LEN, 4, 0xffffffffu }, { ITR_H_NR_DOMAINS, 2, 0xffff },
		{ ITR_H_BLOCK_MAX, 4, 0xffffffffu }, { ITR_H_BLOCK_MAX, 4, 0 },
	};
	for (size_t i = 0; i < sizeof(hp) / sizeof(hp[0]); i++) {
		memcpy(b, file, fsize);
		if (hp[i].width == 4)
			itr_put32(b + hp[i].off, hp[i].v);
		else
			itr_put16(b + hp[i].off, (uint16_t)hp[i].v);
		uint32_t hl = itr_get32(b + ITR_H_LEN);
		if (hl <= fsize) {
			itr_put32(b + ITR_H_CRC, 0);
			itr_put32(b + ITR_H_CRC, itr_crc32c(0, b, hl));
		}
		write_bad(b, fsize);
		read_bad(&oc);
		CHECK(oc.open_rc == ITR_E_HEADER, "hostile header field %d: open gave %d",
		      hp[i].off, oc.open_rc);
	}
}

static uint64_t rng = 88172645463325252ull;
static uint64_t xorshift(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void test_garbage_and_resync(void)
{
	static uint8_t b[1 << 20];
	struct outcome oc;
	/* 1 MiB of noise after a valid header. */
	memcpy(b, file, hdr_len);
	for (size_t i = hdr_len; i < sizeof(b); i++)
		b[i] = (uint8_t)xorshift();
	write_bad(b, sizeof(b));
	read_bad(&oc);
	CHECK(oc.open_rc == 0 && oc.nrec == 0 && oc.damage >= 1, "noise: %d recs", oc.nrec);

	/* Fake block magics with plausible headers everywhere: must give up in time. */
	memcpy(b, file, hdr_len);
	for (size_t i = hdr_len; i + 12 <= sizeof(b); i += 12) {
		itr_put32(b + i, ITR_BLOCK_MAGIC);
		itr_put32(b + i + 4, 200);
		itr_put32(b + i + 8, 3);
	}
	write_bad(b, sizeof(b));
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	read_bad(&oc);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	CHECK(oc.nrec == 0 && oc.damage >= 1 && s < 30, "magic spam: %d recs in %.1f s",
	      oc.nrec, s);

	/* Damage in the middle: the blocks after it are read again. */
	memcpy(b, file, fsize);
	size_t mid = orig[norig / 2].offset;
	for (int i = 0; i < 20; i++)
		b[mid + (size_t)i] ^= 0x5a;
	write_bad(b, fsize);
	read_bad(&oc);
	CHECK(oc.damage >= 1, "middle damage not reported");
	CHECK(oc.subseq, "middle damage: invented records");
	CHECK(oc.nrec >= norig - 44 && oc.nrec < norig, "middle damage: %d of %d records",
	      oc.nrec, norig);
	CHECK(oc.nrec > 0 && oc.idx[oc.nrec - 1] == norig - 1,
	      "middle damage: the last record (END) was not read");
	/* Strict mode stops at the first damage. */
	struct itr_reader *r;
	struct itr_reader_opts o = { .sz = sizeof(o), .strict = 1 };
	CHECK_EQ(0, itr_reader_open(bad, &o, &r, NULL, 0));
	struct itr_rec rec;
	int rc, k = 0;
	while ((rc = itr_reader_next(r, &rec)) > 0)
		k++;
	CHECK_EQ((uint64_t)(int64_t)ITR_E_DAMAGED, (uint64_t)(int64_t)rc);
	CHECK(k < norig / 2 + 1, "strict: read %d records past the damage", k);
	itr_reader_close(r);
}

int main(void)
{
	snprintf(path, sizeof(path), "/tmp/test_trace_hostile.%d.itr", (int)getpid());
	snprintf(bad, sizeof(bad), "/tmp/test_trace_hostile.%d.bad.itr", (int)getpid());
	make_trace();
	test_truncation();
	test_bit_flips();
	test_absurd();
	test_garbage_and_resync();
	unlink(path);
	unlink(bad);
	return t_done("trace_hostile");
}
