/*
 * test_trace_format.c: the .itr format round trip: every engine event type, metadata
 * and unknown records, chunking, time deltas, header fields and versions, CRC-32C.
 */
#define _POSIX_C_SOURCE 200809L
#include <string.h>
#include <unistd.h>

#include "itr_crc32.h"
#include "itr_decode.h"
#include "itr_encode.h"
#include "itr_reader.h"
#include "itr_writer.h"
#include "tcheck.h"

static char path[256];

static void test_crc(void)
{
	CHECK_EQ(0xE3069283u, itr_crc32c(0, "123456789", 9));
	CHECK_EQ(0xE3069283u, itr_crc32c_soft(0, "123456789", 9));
	CHECK_EQ(0xE3069283u, itr_crc32c(itr_crc32c(0, "1234", 4), "56789", 5));
	uint8_t buf[1100];
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	for (size_t off = 0; off < 9; off++)
		for (size_t len = 0; len < 1000; len += 37)
			CHECK_EQ(itr_crc32c_soft(0, buf + off, len), itr_crc32c(0, buf + off, len));
}

/* One event of every engine type, in a fixed order. */
static uint8_t memdata[10000];

static int make_events(struct vits_event *ev)
{
	int n = 0;
	for (size_t i = 0; i < sizeof(memdata); i++)
		memdata[i] = (uint8_t)(i ^ (i >> 8));
	memset(ev, 0, sizeof(*ev) * 16);
	ev[n].type = VITS_EV_MMIO_READ; ev[n].domain = 3;
	ev[n].u.mmio.offset = GITS_TYPER; ev[n].u.mmio.value = 0x1f0001efb1ull; ev[n].u.mmio.size = 8;
	n++;
	ev[n].type = VITS_EV_MMIO_WRITE; ev[n].domain = 3;
	ev[n].u.mmio.offset = GITS_CBASER; ev[n].u.mmio.value = 0xb80000004217040full;
	ev[n].u.mmio.size = 8;
	n++;
	ev[n].type = VITS_EV_MEM_READ; ev[n].domain = 3;
	ev[n].u.mem.gpa = 0x42170000; ev[n].u.mem.data = memdata; ev[n].u.mem.len = 32;
	n++;
	ev[n].type = VITS_EV_CMD; ev[n].domain = 3;
	ev[n].u.cmd.offset = 9 * 32; ev[n].u.cmd.cmd = its_mk_mapti(0x10, 0, 8192, 0);
	ev[n].u.cmd.outcome = VITS_CMD_OK;
	n++;
	ev[n].type = VITS_EV_CMD; ev[n].domain = 3;
	ev[n].u.cmd.offset = 32767 * 32; ev[n].u.cmd.cmd = its_mk_devev(ITS_OP_INV, 7, 3);
	ev[n].u.cmd.outcome = VITS_CMD_SKIPPED; ev[n].u.cmd.reason = VITS_R_EVENT_UNMAPPED;
	ev[n].u.cmd.e_its = vits_reason_e_its(VITS_R_EVENT_UNMAPPED, ITS_OP_INV);
	n++;
	ev[n].type = VITS_EV_INJECT; ev[n].domain = 3;
	ev[n].u.inject.vcpu = 1; ev[n].u.inject.intid = 8193;
	n++;
	ev[n].type = VITS_EV_PHYS_CMD; ev[n].domain = 3;
	ev[n].u.phys.cmd = its_mk_sync(2); ev[n].u.phys.cause = VITS_CAUSE_GUEST_CMD;
	ev[n].u.phys.cause_offset = 10 * 32; ev[n].u.phys.cause_opcode = ITS_OP_SYNC;
	n++;
	ev[n].type = VITS_EV_CREADR; ev[n].domain = 3;
	ev[n].u.creadr.creadr = 0x1a0; ev[n].u.creadr.stalled = 1;
	n++;
	ev[n].type = VITS_EV_MSI; ev[n].domain = 3;
	ev[n].u.msi.devid = 0x10; ev[n].u.msi.eventid = 2; ev[n].u.msi.reason = VITS_R_ITS_DISABLED;
	n++;
	ev[n].type = VITS_EV_PROP_TABLE; ev[n].domain = 3;
	ev[n].u.prop.gpa = 0x43000000; ev[n].u.prop.id_bits = 16;
	n++;
	ev[n].type = VITS_EV_HOST_LPI; ev[n].domain = 3;
	ev[n].u.host_lpi.plpi = 9000; ev[n].u.host_lpi.intid = 8200; ev[n].u.host_lpi.reason = 0;
	n++;
	ev[n].type = VITS_EV_ASSIGN; ev[n].domain = 3;
	ev[n].u.assign.vdevid = 0x10; ev[n].u.assign.pdevid = 0x200; ev[n].u.assign.assigned = 1;
	n++;
	ev[n].type = VITS_EV_PROP_WRITE; ev[n].domain = 3;
	ev[n].u.prop_write.gpa = 0x43000001; ev[n].u.prop_write.value = 0xa1;
	ev[n].u.prop_write.len = 1;
	n++;
	ev[n].type = VITS_EV_MEM_READ; ev[n].domain = 3;     /* split into 3 chunks */
	ev[n].u.mem.gpa = 0x50000000; ev[n].u.mem.data = memdata; ev[n].u.mem.len = 10000;
	ev[n].u.mem.result = 0;
	n++;
	return n;
}

static int same_event(const struct vits_event *a, const struct vits_event *b)
{
	if (a->type != b->type || a->domain != b->domain)
		return 0;
	switch (a->type) {
	case VITS_EV_MMIO_READ:
	case VITS_EV_MMIO_WRITE:
		return a->u.mmio.offset == b->u.mmio.offset && a->u.mmio.value == b->u.mmio.value &&
		       a->u.mmio.size == b->u.mmio.size;
	case VITS_EV_CMD:
		return a->u.cmd.offset == b->u.cmd.offset &&
		       !memcmp(&a->u.cmd.cmd, &b->u.cmd.cmd, sizeof(a->u.cmd.cmd)) &&
		       a->u.cmd.outcome == b->u.cmd.outcome && a->u.cmd.reason == b->u.cmd.reason &&
		       a->u.cmd.e_its == b->u.cmd.e_its;
	case VITS_EV_INJECT:
		return !memcmp(&a->u.inject, &b->u.inject, sizeof(a->u.inject));
	case VITS_EV_PHYS_CMD:
		return !memcmp(&a->u.phys.cmd, &b->u.phys.cmd, sizeof(a->u.phys.cmd)) &&
		       a->u.phys.cause == b->u.phys.cause &&
		       a->u.phys.cause_offset == b->u.phys.cause_offset &&
		       a->u.phys.cause_opcode == b->u.phys.cause_opcode;
	case VITS_EV_CREADR:
		return a->u.creadr.creadr == b->u.creadr.creadr &&
		       a->u.creadr.stalled == b->u.creadr.stalled;
	case VITS_EV_MSI:
		return a->u.msi.devid == b->u.msi.devid && a->u.msi.eventid == b->u.msi.eventid &&
		       a->u.msi.reason == b->u.msi.reason;
	case VITS_EV_PROP_TABLE:
		return a->u.prop.gpa == b->u.prop.gpa && a->u.prop.id_bits == b->u.prop.id_bits;
	case VITS_EV_HOST_LPI:
		return a->u.host_lpi.plpi == b->u.host_lpi.plpi &&
		       a->u.host_lpi.intid == b->u.host_lpi.intid &&
		       a->u.host_lpi.reason == b->u.host_lpi.reason;
	case VITS_EV_ASSIGN:
		return a->u.assign.vdevid == b->u.assign.vdevid &&
		       a->u.assign.pdevid == b->u.assign.pdevid &&
		       a->u.assign.assigned == b->u.assign.assigned;
	case VITS_EV_PROP_WRITE:
		return a->u.prop_write.gpa == b->u.prop_write.gpa &&
		       a->u.prop_write.value == b->u.prop_write.value &&
		       a->u.prop_write.len == b->u.prop_write.len;
	}
	return 0;
}

static struct itr_domain doms[2] = { { 3, 0, 4 }, { 9, 0, 2 } };

static void header(struct itr_header *h, uint32_t block_max)
{
	itr_header_init(h);
	h->block_max = block_max;
	h->source = ITR_SRC_SYNTHETIC;
	h->policy = ITR_POL_LAZY;
	h->flags = ITR_HF_HAS_PHYS | ITR_HF_HAS_OUTCOMES;
	h->nr_vcpus = 4;
	h->devid_bits = 20;
	h->eventid_bits = 16;
	h->cid_bits = 16;
	h->intid_bits = 16;
	h->typer = 0x1f0001efb1ull;
	h->iidr = 0x5600043b;
	h->error_mode = 1;
	h->budget = 64;
	h->nr_domains = 2;
	h->domains = doms;
	snprintf(h->source_desc, sizeof(h->source_desc), "test_trace_format");
}

/* Timestamps: small steps, a jump of 10 s (beyond a 32-bit delta), a step back. */
static uint64_t ts_of(int i)
{
	static const uint64_t base[] = { 5, 100, 10000000123ull, 10000000200ull, 9000000000ull };
	return base[i % 5] + (uint64_t)(i / 5) * 20000000000ull;
}

static void test_round_trip(uint32_t block_max)
{
	struct vits_event ev[16];
	int nev = make_events(ev);
	struct itr_header h;
	header(&h, block_max);
	struct itr_writer *w;
	if (itr_writer_open(path, &h, &w))
		BROKEN("cannot write %s", path);
	int nrec = 0;
	for (int rep = 0; rep < 3; rep++) {
		for (int i = 0; i < nev; i++) {
			CHECK_EQ(0, itr_writer_event(w, ts_of(nrec), (uint16_t)(i % 3), 0, &ev[i]));
			nrec++;
		}
	}
	/* Metadata, an unknown type and a longer-than-needed payload (a newer minor). */
	uint8_t unk[40] = { 1, 2, 3 }, msi[20] = { 0x10, 0, 0, 0, 5, 0, 0, 0, 0, 0xaa, 0xbb };
	struct itr_rec ru = { .type = 0x7e, .domain = 9, .cpu = 1, .ts = 77, .len = 40,
			      .payload = unk };
	struct itr_rec rm = { .type = ITR_REC_MSI, .domain = 9, .cpu = 1, .ts = 78, .len = 20,
			      .payload = msi };
	CHECK_EQ(0, itr_writer_add(w, &ru));
	CHECK_EQ(0, itr_writer_add(w, &rm));
	CHECK_EQ(0, itr_writer_loss(w, 79, 9, 2, 12345, ITR_LOSS_RING_FULL));
	CHECK_EQ(0, itr_writer_checkpoint(w, 80, 9, 2, 42, ITR_FP_EMBEDDER, "fingerprint", 11));
	CHECK_EQ(0, itr_writer_note(w, 81, 9, "a note"));
	CHECK_EQ(0, itr_writer_inferred(w, 82, 9, ITR_RULE_LINUX_SYNC_TARGET, ITR_REC_CMD,
					ITR_CMDF_RDBASE, "why"));
	struct itr_rec bad = { .type = ITR_REC_END, .len = 0 };
	CHECK_EQ(ITR_E_INVAL, itr_writer_add(w, &bad));
	bad.type = ITR_REC_TIME;
	CHECK_EQ(ITR_E_INVAL, itr_writer_add(w, &bad));
	uint64_t written = itr_writer_records(w);
	CHECK_EQ(0, itr_writer_close(w));

	struct itr_reader *r;
	char msg[200];
	if (itr_reader_open(path, NULL, &r, msg, sizeof(msg)))
		BROKEN("cannot read back %s: %s", path, msg);
	const struct itr_header *rh = itr_reader_header(r);
	CHECK_EQ(ITR_VERSION_MAJOR, rh->major);
	CHECK_EQ(ITR_SRC_SYNTHETIC, rh->source);
	CHECK_EQ(ITR_POL_LAZY, rh->policy);
	CHECK_EQ(h.flags, rh->flags);
	CHECK_EQ(20, rh->devid_bits);
	CHECK_EQ(0x1f0001efb1ull, rh->typer);
	CHECK_EQ(0x5600043b, rh->iidr);
	CHECK_EQ(64, rh->budget);
	CHECK_EQ(1, rh->error_mode);
	CHECK_EQ(2, rh->nr_domains);
	CHECK_EQ(9, rh->domains[1].id);
	CHECK_EQ(2, rh->domains[1].nr_vcpus);
	CHECK(!strcmp(rh->source_desc, "test_trace_format"), "source_desc '%s'", rh->source_desc);

	struct itr_rec rec;
	int k = 0;
	for (int rep = 0; rep < 3; rep++) {
		for (int i = 0; i < nev; i++, k++) {
			struct vits_event got;
			uint32_t csz = block_max && block_max - 28 < ITR_MEM_CHUNK ?
				block_max - 28 : ITR_MEM_CHUNK;
			int chunks = ev[i].type == VITS_EV_MEM_READ ?
				(int)((ev[i].u.mem.len + csz - 1) / csz) : 1;
			uint32_t off = 0;
			for (int c = 0; c < chunks; c++) {
				CHECK_EQ(1, itr_reader_next(r, &rec));
				CHECK_EQ(ts_of(k), rec.ts);
				CHECK_EQ(i % 3, rec.cpu);
				CHECK_EQ(ev[i].type, rec.type);
				CHECK_EQ(c ? ITR_RF_CONT : 0, rec.flags);
				CHECK_EQ(0, itr_decode_event(rec.type, rec.payload, rec.len, rec.domain,
							     &got));
				if (ev[i].type == VITS_EV_MEM_READ) {
					uint32_t want = ev[i].u.mem.len - off > csz ?
						csz : ev[i].u.mem.len - off;
					CHECK_EQ(ev[i].u.mem.gpa + off, got.u.mem.gpa);
					CHECK_EQ(want, got.u.mem.len);
					CHECK(!memcmp(got.u.mem.data, ev[i].u.mem.data + off, want),
					      "MEM_READ bytes differ at chunk %d", c);
					off += want;
				} else {
					CHECK(same_event(&ev[i], &got), "event %d (type %u) differs "
					      "after the round trip", i, ev[i].type);
				}
			}
		}
	}
	CHECK_EQ(1, itr_reader_next(r, &rec));
	CHECK_EQ(0x7e, rec.type);
	CHECK_EQ(40, rec.len);
	CHECK_EQ(77, rec.ts);
	CHECK_EQ(1, itr_reader_next(r, &rec));
	CHECK_EQ(ITR_REC_MSI, rec.type);
	CHECK_EQ(20, rec.len);
	char line[256];
	itr_rec_format(&rec, line, sizeof(line));
	CHECK(!strcmp(line, "dev=0x10 ev=5 result=ok"), "MSI line '%s'", line);
	CHECK_EQ(1, itr_reader_next(r, &rec));
	CHECK_EQ(ITR_REC_LOSS, rec.type);
	CHECK_EQ(12345, itr_get64(rec.payload));
	CHECK_EQ(1, itr_reader_next(r, &rec));
	CHECK_EQ(ITR_REC_CHECKPOINT, rec.type);
	CHECK(!memcmp(rec.payload + ITR_PL_CHECKPOINT, "fingerprint", 11), "fingerprint bytes");
	CHECK_EQ(1, itr_reader_next(r, &rec));
	CHECK_EQ(ITR_REC_NOTE, rec.type);
	CHECK_EQ(1, itr_reader_next(r, &rec));
	CHECK_EQ(ITR_REC_INFERRED, rec.type);
	itr_rec_format(&rec, line, sizeof(line));
	CHECK(!strcmp(line, "rule=linux-sync-target of=CMD fields=rdbase text=why"),
	      "INFERRED line '%s'", line);
	CHECK_EQ(1, itr_reader_next(r, &rec));
	CHECK_EQ(ITR_REC_END, rec.type);
	CHECK_EQ(written, itr_get64(rec.payload));
	CHECK_EQ(0, itr_reader_next(r, &rec));
	const struct itr_read_stats *st = itr_reader_stats(r);
	CHECK_EQ(0, st->damage_events);
	CHECK_EQ(1, st->end_seen);
	CHECK_EQ(1, st->unknown_records);
	CHECK_EQ(written + 1, st->records);
	if (block_max == 256)
		CHECK(st->blocks > 20, "only %llu blocks with 256-byte blocks",
		      (unsigned long long)st->blocks);
	itr_reader_close(r);
}

static void test_format_line(void)
{
	uint8_t p[ITR_PL_CMD];
	struct its_cmd c = its_mk_mapti(0x10, 0, 8192, 0);
	itr_put16(p, 9);
	p[2] = VITS_CMD_OK;
	p[3] = 0;
	its_cmd_to_bytes(&c, p + 4);
	struct itr_rec r = { .type = ITR_REC_CMD, .len = sizeof(p), .payload = p };
	char line[256];
	itr_rec_format(&r, line, sizeof(line));
	CHECK(!strcmp(line, "slot=9 MAPTI dev=0x10 ev=0 lpi=8192 icid=0 outcome=ok"),
	      "expected the issue's example, got '%s'", line);
	CHECK_EQ(48, ITR_CMD_REC_BYTES);
}

/* Rewrite the header of the file at path with f applied, CRC recomputed. */
static void patch_header(void (*f)(uint8_t *h, uint32_t *len), const char *out)
{
	FILE *in = fopen(path, "rb");
	if (!in)
		BROKEN("cannot reopen %s", path);
	static uint8_t buf[1 << 20];
	size_t n = fread(buf, 1, sizeof(buf), in);
	fclose(in);
	uint32_t len = itr_get32(buf + ITR_H_LEN), nl = len;
	static uint8_t h[ITR_HDR_MAX];
	memset(h, 0, sizeof(h));
	memcpy(h, buf, len);
	f(h, &nl);
	itr_put32(h + ITR_H_LEN, nl);
	itr_put32(h + ITR_H_CRC, 0);
	itr_put32(h + ITR_H_CRC, itr_crc32c(0, h, nl));
	FILE *o = fopen(out, "wb");
	if (!o)
		BROKEN("cannot write %s", out);
	fwrite(h, 1, nl, o);
	fwrite(buf + len, 1, n - len, o);
	fclose(o);
}

static void major2(uint8_t *h, uint32_t *len) { itr_put16(h + ITR_H_MAJOR, 2); (void)len; }
static void minor9(uint8_t *h, uint32_t *len) { itr_put16(h + ITR_H_MINOR, 9); (void)len; }
static void longer(uint8_t *h, uint32_t *len) { h[*len] = 0x55; *len += 40; }

static void test_versions(void)
{
	struct itr_header h;
	header(&h, 0);
	struct itr_writer *w;
	if (itr_writer_open(path, &h, &w))
		BROKEN("cannot write");
	struct vits_event ev[16];
	make_events(ev);
	itr_writer_event(w, 1, 0, 0, &ev[3]);
	itr_writer_close(w);

	char p2[300], msg[200];
	snprintf(p2, sizeof(p2), "%s.v", path);
	struct itr_reader *r;
	patch_header(major2, p2);
	CHECK_EQ((uint64_t)(int64_t)ITR_E_VERSION, (uint64_t)(int64_t)itr_reader_open(p2, NULL, &r,
									msg, sizeof(msg)));
	CHECK(strstr(msg, "2.0 is newer than this reader") != NULL, "message: '%s'", msg);

	patch_header(minor9, p2);
	CHECK_EQ(0, itr_reader_open(p2, NULL, &r, msg, sizeof(msg)));
	if (!t_fail) {
		struct itr_rec rec;
		CHECK_EQ(1, itr_reader_next(r, &rec));
		CHECK_EQ(ITR_REC_CMD, rec.type);
		CHECK_EQ(9, itr_reader_header(r)->minor);
		itr_reader_close(r);
	}
	patch_header(longer, p2);   /* header fields of a newer minor: skipped */
	CHECK_EQ(0, itr_reader_open(p2, NULL, &r, msg, sizeof(msg)));
	if (!t_fail) {
		struct itr_rec rec;
		CHECK_EQ(1, itr_reader_next(r, &rec));
		CHECK_EQ(ITR_REC_CMD, rec.type);
		CHECK_EQ(1, itr_reader_next(r, &rec));
		CHECK_EQ(ITR_REC_END, rec.type);
		CHECK_EQ(0, itr_reader_stats(r)->damage_events);
		itr_reader_close(r);
	}
	/* Not a trace at all. */
	FILE *f = fopen(p2, "wb");
	fputs("gicv3_its_read GICv3 ITS read: offset 0x0 data 0x0 size 4\n", f);
	fclose(f);
	CHECK_EQ((uint64_t)(int64_t)ITR_E_NOT_ITR,
		 (uint64_t)(int64_t)itr_reader_open(p2, NULL, &r, msg, sizeof(msg)));
	CHECK_EQ((uint64_t)(int64_t)ITR_E_IO,
		 (uint64_t)(int64_t)itr_reader_open("/nonexistent/x.itr", NULL, &r, msg,
						    sizeof(msg)));
	unlink(p2);
}

int main(void)
{
	snprintf(path, sizeof(path), "/tmp/test_trace_format.%d.itr", (int)getpid());
	test_crc();
	test_format_line();
	test_round_trip(0);
	test_round_trip(256);
	test_versions();
	unlink(path);
	return t_done("trace_format");
}
