/*
 * standalone_main.c: a driver that runs fuzz target inputs without libFuzzer, so the
 * corpus is a regression suite with gcc (ctest fuzz_corpus_<target>) and a finding
 * reproduces outside the fuzzer.
 *
 * Usage: fuzz_<target> [options] FILE|DIR...
 *   --itr OUT      also write the trace of running the (single) input to OUT (.itr),
 *                  for its-trace dump / replay
 *   --no-abort     report an oracle failure and go on (exit 1 at the end)
 *   -v             print each operation as it runs
 * Arguments starting with '-' that it does not know (libFuzzer flags) are ignored.
 * Exit 0 when every input passed, 1 when one failed (without --no-abort the first
 * failure aborts, as under libFuzzer), 2 on bad usage or unreadable input.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_prog.h"
#ifndef FUZZ_NO_TRACE
#include "itr_reader.h"
#include "itr_writer.h"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));
int fuzz_target_write_itr(const uint8_t *data, size_t size, const char *path) __attribute__((weak));
int fuzz_target_failed(void) __attribute__((weak));

#ifndef FUZZ_NO_TRACE
/*
 * What replay needs beyond the trace header (host geometry, K, SYNC squashing, the
 * translation cache, the memory cap, the physical queue bound), as the program
 * header of fuzz_prog.h chooses it for a single-domain target (fuzz_prog.c,
 * decode_header: the same tables).  Written as the "vits-config" NOTE replay reads
 * (docs/trace-format.md).  Returns 0 when the target is not a single-domain one.
 */
static int config_note(const char *target, const uint8_t *d, size_t n, char *out, size_t len)
{
	static const uint32_t caps[8] = { 0, 0, 1, 2, 3, 4, 8, 16 };
	static const uint32_t xc[4] = { 256, 1, 2, 16 };
	static const uint32_t kth[4] = { 0, 1, 2, 8 };
	uint8_t h[FZ_HDR_BYTES] = { 0 };
	memcpy(h, d, n < FZ_HDR_BYTES ? n : FZ_HDR_BYTES);
	int wrap = !strcmp(target, "wrap"), policy = !strcmp(target, "policy");
	if (!wrap && !policy && strcmp(target, "cmdq"))
		return 0;
	int host = wrap || policy || ((h[0] >> 3) & 1);
	uint32_t physq = caps[(h[1] >> 4) & 7];
	if (wrap && physq == 0)
		physq = 1 + (h[1] >> 4);
	if (policy || !host)
		physq = 0;
	uint32_t intid_bits = (h[3] & 3) == 3 ? 16 : 14;
	uint32_t memcap = (h[3] & 0x80) ? (intid_bits == 14 ? (200u << 10) : (1300u << 10))
					 : (64u << 20);
	int k = snprintf(out, len, "vits-config k=%u squash=%u xlate=%u memcap=%u",
			 kth[(h[4] >> 2) & 3], (h[1] >> 7) & 1, xc[h[4] & 3], memcap);
	if (host)
		snprintf(out + k, len - (size_t)k, " pcpus=%u plpis=256 peventid=%u physq=%u",
			 1 + ((h[5] >> 4) & 3), (h[5] & 0x40) ? 3 : 16, physq);
	return 1;
}

/* Rewrite the trace at path with the configuration note first and the header flags
 * of what the target's trace observes (fuzz_prog.c leaves them 0). */
static int annotate_itr(const char *path, const uint8_t *d, size_t n)
{
	char note[256], tmp[4096], msg[256];
	struct itr_reader *rd;
	if (itr_reader_open(path, NULL, &rd, msg, sizeof(msg)))
		return -1;
	struct itr_header hd = *itr_reader_header(rd);
	const char *t = strstr(hd.source_desc, "fuzz target ");
	if (!t || !config_note(t + 12, d, n, note, sizeof(note))) {
		itr_reader_close(rd);
		return 0;
	}
	/* fuzz_prog.c writes the engine's enum vits_policy where the format wants enum
	 * itr_policy (forward = 2): a lazy-global run read as eager. */
	int host = strstr(note, "pcpus=") != NULL;
	hd.policy = host ? (uint16_t)(ITR_POL_FORWARD + hd.policy) : ITR_POL_NONE;
	hd.source = ITR_SRC_SYNTHETIC;
	hd.flags |= ITR_HF_HAS_OUTCOMES | (host ? ITR_HF_HAS_PHYS : 0);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	struct itr_writer *w;
	if (itr_writer_open(tmp, &hd, &w)) {
		itr_reader_close(rd);
		return -1;
	}
	int rc = itr_writer_note(w, 0, 0, note);
	struct itr_rec r;
	int got;
	while (!rc && (got = itr_reader_next(rd, &r)) > 0)
		if (r.type != ITR_REC_END)
			rc = itr_writer_add(w, &r);
	itr_reader_close(rd);
	if (itr_writer_close(w) || rc || rename(tmp, path)) {
		remove(tmp);
		return -1;
	}
	return 0;
}
#endif

static int run_file(const char *path, const char *itr)
{
	FILE *fp = fopen(path, "rb");
	if (!fp) {
		perror(path);
		return 2;
	}
	size_t cap = 4096, n = 0;
	uint8_t *buf = malloc(cap);
	for (;;) {
		if (n == cap)
			buf = realloc(buf, cap *= 2);
		size_t r = fread(buf + n, 1, cap - n, fp);
		if (r == 0)
			break;
		n += r;
	}
	fclose(fp);
	if (itr) {
		if (!fuzz_target_write_itr || fuzz_target_write_itr(buf, n, itr) < 0
#ifndef FUZZ_NO_TRACE
		    || annotate_itr(itr, buf, n) < 0
#endif
		   )
			fprintf(stderr, "%s: cannot write a trace for this target\n", itr);
		else
			fprintf(stderr, "trace of %s written to %s\n", path, itr);
	}
	int rc = LLVMFuzzerTestOneInput(buf, n);
	if (fuzz_target_failed && fuzz_target_failed())
		rc = 1;
	free(buf);
	return rc ? 1 : 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_path(const char *path, const char *itr, unsigned *count)
{
	struct stat st;
	if (stat(path, &st)) {
		perror(path);
		return 2;
	}
	if (!S_ISDIR(st.st_mode)) {
		++*count;
		return run_file(path, itr);
	}
	DIR *d = opendir(path);
	if (!d) {
		perror(path);
		return 2;
	}
	char **names = NULL;
	size_t nn = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		names = realloc(names, (nn + 1) * sizeof(*names));
		size_t l = strlen(path) + strlen(e->d_name) + 2;
		names[nn] = malloc(l);
		snprintf(names[nn++], l, "%s/%s", path, e->d_name);
	}
	closedir(d);
	qsort(names, nn, sizeof(*names), cmp_str);
	int worst = 0;
	for (size_t i = 0; i < nn; i++) {
		struct stat s2;
		if (stat(names[i], &s2) == 0 && S_ISREG(s2.st_mode)) {
			++*count;
			int rc = run_file(names[i], NULL);
			if (rc) {
				fprintf(stderr, "FAIL %s\n", names[i]);
				if (rc > worst)
					worst = rc;
			}
		}
		free(names[i]);
	}
	free(names);
	return worst;
}

int main(int argc, char **argv)
{
	const char *itr = NULL;
	int worst = 0;
	unsigned count = 0, files = 0;
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--itr") && i + 1 < argc) {
			itr = argv[++i];
		} else if (!strcmp(argv[i], "--no-abort")) {
			fuzz_set_abort(0);
		} else if (!strcmp(argv[i], "-v")) {
			fuzz_set_verbose(1);
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("usage: %s [--itr OUT.itr] [--no-abort] [-v] FILE|DIR...\n"
			       "Runs each input through the target's oracles; prints the first "
			       "failure.\nExample: %s --itr crash.itr crash-1234\n", argv[0], argv[0]);
			return 0;
		} else if (argv[i][0] == '-') {
			continue;       /* a libFuzzer flag */
		} else {
			files++;
			int rc = run_path(argv[i], itr, &count);
			if (rc > worst)
				worst = rc;
		}
	}
	if (files == 0) {
		fprintf(stderr, "usage: %s [--itr OUT.itr] [--no-abort] [-v] FILE|DIR...\n", argv[0]);
		return 2;
	}
	fprintf(stderr, "%u input(s), %s\n", count, worst ? "FAILED" : "all passed");
	return worst;
}
