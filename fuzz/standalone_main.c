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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));
int fuzz_target_write_itr(const uint8_t *data, size_t size, const char *path) __attribute__((weak));
int fuzz_target_failed(void) __attribute__((weak));


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
		if (!fuzz_target_write_itr || fuzz_target_write_itr(buf, n, itr) < 0)
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
