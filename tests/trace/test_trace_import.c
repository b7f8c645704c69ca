/*
 * test_trace_import.c: its-trace import --from qemu, on real logs and on made-up ones.
 *
 * Real logs (arguments: LOG CMDQ pairs): every command slot re-encoded from QEMU's
 * decoding must equal the bytes the Linux driver wrote (cmdq.bin, saved from guest
 * memory: slot N holds the last command processed at N), inferred operands included;
 * and each CWRITER write must come before the commands it ran, which end at its value.
 */
#define _POSIX_C_SOURCE 200809L
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "itr_import.h"
#include "itr_reader.h"
#include "tcheck.h"

static char out[256];

struct diags {
	uint64_t line[32];
	int kind[32];
	int n;
};

static void on_diag(void *ctx, const struct itr_import_diag *d)
{
	struct diags *ds = ctx;
	if (ds->n < 32) {
		ds->line[ds->n] = d->line;
		ds->kind[ds->n++] = d->kind;
	}
}

static void check_real(const char *log, const char *cmdq)
{
	static uint8_t raw[1 << 20], last[1 << 20];
	static uint8_t seen[32768];
	FILE *f = fopen(cmdq, "rb");
	if (!f)
		BROKEN("cannot open %s", cmdq);
	size_t nraw = fread(raw, 1, sizeof(raw), f);
	fclose(f);
	struct itr_import_result res;
	struct diags ds = { .n = 0 };
	struct itr_import_opts o = { .sz = sizeof(o), .on_diag = on_diag, .ctx = &ds };
	char msg[256];
	int rc = itr_import_qemu(log, out, &o, &res, msg, sizeof(msg));
	CHECK(rc == 0, "%s: import failed: %s", log, msg);
	if (rc)
		return;
	CHECK_EQ(0, res.unknown + res.malformed + res.warnings);
	struct itr_reader *r;
	if (itr_reader_open(out, NULL, &r, msg, sizeof(msg)))
		BROKEN("%s", msg);
	memset(seen, 0, sizeof(seen));
	struct itr_rec rec;
	uint64_t base = 0, qslots = 0, batch_end = ~0ull, slots = 0, batches = 0, bad_order = 0;
	int64_t last_slot = -1;
	while (itr_reader_next(r, &rec) > 0) {
		if (rec.type == ITR_REC_MMIO_WRITE) {
			uint64_t off = itr_get64(rec.payload), val = itr_get64(rec.payload + 8);
			if (off == GITS_CBASER) {
				base = GITS_FIELD_GET(val, CBASER, PA) << 12;
				qslots = (GITS_FIELD_GET(val, CBASER, SIZE) + 1) * 4096 / 32;
			}
			if (last_slot >= 0 && batch_end != ~0ull &&
			    (uint64_t)(last_slot + 1) % qslots != batch_end)
				bad_order++;
			last_slot = -1;
			batch_end = ~0ull;
			if (off == GITS_CWRITER) {
				batch_end = GITS_FIELD_GET(val, CWRITER, OFFSET);
				batches++;
			}
		} else if (rec.type == ITR_REC_MEM_READ && rec.len == ITR_PL_MEM_READ + 32) {
			uint64_t slot = (itr_get64(rec.payload) - base) / 32;
			if (slot < 32768) {
				memcpy(last + slot * 32, rec.payload + ITR_PL_MEM_READ, 32);
				seen[slot] = 1;
			}
		} else if (rec.type == ITR_REC_CMD) {
			last_slot = itr_get16(rec.payload);
		}
	}
	itr_reader_close(r);
	uint64_t mism = 0;
	for (size_t s = 0; s < 32768 && (s + 1) * 32 <= nraw; s++) {
		if (!seen[s])
			continue;
		slots++;
		if (memcmp(last + s * 32, raw + s * 32, 32)) {
			if (mism++ < 3)
				fprintf(stderr, "  slot %zu differs from guest memory\n", s);
		}
	}
	CHECK(mism == 0, "%s: %llu of %llu slots differ from %s", log, (unsigned long long)mism,
	      (unsigned long long)slots, cmdq);
	CHECK(slots > 0, "%s: no command slots", log);
	CHECK(bad_order == 0, "%s: %llu CWRITER writes not right before their commands", log,
	      (unsigned long long)bad_order);
	printf("%s: %llu commands, %llu slots equal to guest memory, %llu batches in order\n",
	       log, (unsigned long long)res.commands, (unsigned long long)slots,
	       (unsigned long long)batches);
}

static void write_file(const char *p, const char *text)
{
	FILE *f = fopen(p, "wb");
	if (!f)
		BROKEN("cannot write %s", p);
	fputs(text, f);
	fclose(f);
}

static void test_made_up(void)
{
	char log[300], msg[256];
	snprintf(log, sizeof(log), "%s.log", out);
	write_file(log,
		"gicv3_its_read GICv3 ITS read: offset 0x8 data 0x1f0001efb1 size 8\n"
		"this is not a trace line\n"
		"gicv3_its_cmd_mapd GICv3 ITS: command MAPD DeviceID 0xZZ Size 0x1 V 1\n"
		"1234@1700000000.000100:gicv3_its_write GICv3 ITS write: offset 0x80 "
		"data 0xb80000004217040f size 8\n"
		"1234@1700000000.000200:gicv3_its_process_command GICv3 ITS: processing command "
		"at offset 0x0: 0x8\n"
		"1234@1700000000.000210:gicv3_its_cmd_mapd GICv3 ITS: command MAPD DeviceID 0x10 "
		"Size 0x1 ITT_addr 0x4236b2 V 1\n"
		"1234@1700000000.000220:gicv3_its_dte_write GICv3 ITS: Device Table write for "
		"DeviceID 0x10: valid 1 size 0x1 ITTaddr 0x4236b2\n"
		"1234@1700000000.000300:gicv3_its_write GICv3 ITS write: offset 0x88 data 0x20 "
		"size 4\n"
		"\n"
		"gicv3_its_frobnicate GICv3 ITS: something new\n"
		"gicv3_its_read GICv3 ITS read: offset 0x0 data 0x1 size 4 extra\n"
		"gicv3_its_read GICv3 ITS read: offset 0x0 data 0x11112222333344445 size 4\n");
	struct diags ds = { .n = 0 };
	struct itr_import_opts o = { .sz = sizeof(o), .on_diag = on_diag, .ctx = &ds,
				     .domain = 7 };
	struct itr_import_result res;
	CHECK_EQ(0, itr_import_qemu(log, out, &o, &res, msg, sizeof(msg)));
	CHECK_EQ(12, res.lines);
	CHECK_EQ(2, res.unknown);
	CHECK_EQ(3, res.malformed);
	CHECK_EQ(5, ds.n);
	static const uint64_t want_line[5] = { 2, 3, 10, 11, 12 };
	static const int want_kind[5] = { ITR_DIAG_UNKNOWN, ITR_DIAG_MALFORMED, ITR_DIAG_UNKNOWN,
					  ITR_DIAG_MALFORMED, ITR_DIAG_MALFORMED };
	for (int i = 0; i < 5 && i < ds.n; i++) {
		CHECK_EQ(want_line[i], ds.line[i]);
		CHECK_EQ(want_kind[i], ds.kind[i]);
	}
	CHECK_EQ(1, res.commands);
	CHECK_EQ(1, res.by_command[ITS_IDX_MAPD]);
	CHECK_EQ(1, res.reordered);

	struct itr_reader *r;
	if (itr_reader_open(out, NULL, &r, msg, sizeof(msg)))
		BROKEN("%s", msg);
	const struct itr_header *h = itr_reader_header(r);
	CHECK_EQ(16, h->devid_bits);
	CHECK_EQ(ITR_SRC_QEMU_LOG, h->source);
	CHECK(!(h->flags & ITR_HF_NO_TIMESTAMPS), "timestamps were not seen");
	static const uint8_t want_type[] = { ITR_REC_MMIO_READ, ITR_REC_MMIO_WRITE,
		ITR_REC_MMIO_WRITE, ITR_REC_MEM_READ, ITR_REC_CMD, ITR_REC_EXP_DTE, ITR_REC_END };
	struct itr_rec rec;
	int i = 0;
	while (itr_reader_next(r, &rec) > 0) {
		if (i < (int)sizeof(want_type))
			CHECK_EQ(want_type[i], rec.type);
		if (rec.type != ITR_REC_END)
			CHECK_EQ(7, rec.domain);
		if (i == 2) {   /* the CWRITER write, moved before its command */
			CHECK_EQ(GITS_CWRITER, itr_get64(rec.payload));
			CHECK_EQ(100000, rec.ts);    /* stamped with its batch's start */
		}
		if (i == 3)
			CHECK_EQ(0x42170000, itr_get64(rec.payload));
		if (rec.type == ITR_REC_CMD) {
			struct its_cmd c;
			its_cmd_from_bytes(&c, rec.payload + 4);
			CHECK_EQ(0x4236b2, its_cmd_get_itt_addr(&c));
			CHECK_EQ(ITR_OUTCOME_UNOBSERVED, rec.payload[2]);
		}
		if (rec.type == ITR_REC_EXP_DTE)
			CHECK_EQ(0x4236b200, itr_get64(rec.payload + 8));   /* >> 8 undone */
		i++;
	}
	CHECK_EQ(sizeof(want_type), i);
	itr_reader_close(r);

	/* Nothing readable: an error, and no output left behind. */
	write_file(log, "");
	CHECK_EQ((uint64_t)(int64_t)ITR_E_PARSE,
		 (uint64_t)(int64_t)itr_import_qemu(log, out, NULL, &res, msg, sizeof(msg)));
	CHECK(access(out, F_OK) != 0, "output left after a failed import");
	write_file(log, "hello\nworld\n");
	CHECK_EQ((uint64_t)(int64_t)ITR_E_PARSE,
		 (uint64_t)(int64_t)itr_import_qemu(log, out, NULL, &res, msg, sizeof(msg)));
	CHECK(strstr(msg, "no QEMU ITS trace events") != NULL, "message '%s'", msg);
	CHECK_EQ((uint64_t)(int64_t)ITR_E_IO,
		 (uint64_t)(int64_t)itr_import_qemu("/nonexistent.log", out, NULL, &res, msg,
						    sizeof(msg)));
	unlink(log);
}

/* A gzip log cut in half: what was read is kept, the damage is a warning. */
static void test_cut_gzip(const char *gzlog)
{
	char cut[300], msg[256];
	snprintf(cut, sizeof(cut), "%s.cut.gz", out);
	FILE *f = fopen(gzlog, "rb");
	if (!f)
		BROKEN("cannot open %s", gzlog);
	static uint8_t b[1 << 20];
	size_t n = fread(b, 1, sizeof(b), f);
	fclose(f);
	f = fopen(cut, "wb");
	fwrite(b, 1, n / 2, f);
	fclose(f);
	struct diags ds = { .n = 0 };
	struct itr_import_opts o = { .sz = sizeof(o), .on_diag = on_diag, .ctx = &ds };
	struct itr_import_result res;
	CHECK_EQ(0, itr_import_qemu(cut, out, &o, &res, msg, sizeof(msg)));
	CHECK(res.warnings >= 1, "a cut gzip log gave no warning");
	CHECK(res.commands > 0, "nothing kept from the cut log");
	unlink(cut);
}

int main(int argc, char **argv)
{
	snprintf(out, sizeof(out), "/tmp/test_trace_import.%d.itr", (int)getpid());
	test_made_up();
	for (int i = 1; i + 1 < argc; i += 2)
		check_real(argv[i], argv[i + 1]);
	if (argc > 1)
		test_cut_gzip(argv[1]);
	unlink(out);
	return t_done("trace_import");
}
