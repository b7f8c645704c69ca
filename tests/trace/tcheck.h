/*
 * tcheck.h: checks for the trace tests.  A failing check prints what was expected and
 * what came; the program exits 1 when any check failed, 2 when the test itself broke
 * (a file could not be made), 0 when all passed.
 */
#ifndef TRACE_TCHECK_H
#define TRACE_TCHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

static int t_pass, t_fail;

#define CHECK(cond, ...) do {                                                       \
	if (cond) {                                                                 \
		t_pass++;                                                           \
	} else {                                                                    \
		t_fail++;                                                           \
		fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);     \
		fprintf(stderr, __VA_ARGS__);                                       \
		fputc('\n', stderr);                                                \
	}                                                                           \
} while (0)

#define CHECK_EQ(exp, got) do {                                                     \
	uint64_t e_ = (uint64_t)(exp), g_ = (uint64_t)(got);                        \
	CHECK(e_ == g_, "expected %s = %" PRIu64 " (0x%" PRIx64 "), got %" PRIu64   \
	      " (0x%" PRIx64 ")", #got, e_, e_, g_, g_);                            \
} while (0)

#define BROKEN(...) do {                                                            \
	fprintf(stderr, "BROKEN %s:%d: ", __FILE__, __LINE__);                      \
	fprintf(stderr, __VA_ARGS__);                                               \
	fputc('\n', stderr);                                                        \
	exit(2);                                                                    \
} while (0)

static inline int t_done(const char *name)
{
	printf("%s: %d passed, %d failed\n", name, t_pass, t_fail);
	return t_fail ? 1 : 0;
}

#endif /* TRACE_TCHECK_H */
