/*
 * tcheck.h: PASS/FAIL reporting for the harness tests.
 *
 * Each check prints one line: "PASS name" or "FAIL name: expected X, got Y".  A test
 * program exits 0 when all passed, 1 when a check failed, 2 when it could not run
 * (setup broke), as the style guide's libfdt habit says.
 */
#ifndef TESTS_HARNESS_TCHECK_H
#define TESTS_HARNESS_TCHECK_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#define T_EXIT_PASS 0
#define T_EXIT_FAIL 1
#define T_EXIT_BROKEN 2

struct tstate {
	unsigned pass, fail;
	bool quiet_pass;      /* print only failures (for checks in loops) */
};

static inline bool t_ok(struct tstate *t, bool ok, const char *name, const char *fmt, ...)
{
	if (ok) {
		t->pass++;
		if (!t->quiet_pass)
			printf("PASS %s\n", name);
		return true;
	}
	t->fail++;
	printf("FAIL %s: ", name);
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	return false;
}

/* A function, not a macro body, so each argument is evaluated exactly once. */
static inline bool t_eq(struct tstate *t, const char *name, uint64_t expected, uint64_t got)
{
	return t_ok(t, expected == got, name,
		    "expected %" PRIu64 " (%#" PRIx64 "), got %" PRIu64 " (%#" PRIx64 ")",
		    expected, expected, got, got);
}

#define T_EQ(t, name, expected, got) t_eq((t), (name), (uint64_t)(expected), (uint64_t)(got))

#define T_TRUE(t, name, cond) t_ok((t), (cond), (name), "expected %s to hold", #cond)

/* Stop now: the test cannot go on (exit code 2). */
static inline void t_broken(const char *why)
{
	printf("BROKEN %s\n", why);
	exit(T_EXIT_BROKEN);
}

static inline int t_finish(const struct tstate *t, const char *prog)
{
	printf("%s: %u passed, %u failed\n", prog, t->pass, t->fail);
	return t->fail ? T_EXIT_FAIL : T_EXIT_PASS;
}

#endif /* TESTS_HARNESS_TCHECK_H */
