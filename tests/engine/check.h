/*
 * check.h: the tiny check layer of the engine tests.
 *
 * A failing check prints "FAIL file:line: what: expected X got Y" and is counted; a
 * test program ends with check_summary(), which prints "N passed, M failed" and
 * returns the exit status (0 all passed, 1 any failed).
 */
#ifndef ENGINE_CHECK_H
#define ENGINE_CHECK_H

#include <stdint.h>
#include <stdio.h>

extern unsigned long check_passed, check_failed;

void check_u64(const char *file, int line, uint64_t exp, uint64_t got, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
void check_reason(const char *file, int line, int exp, int got, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
void check_true(const char *file, int line, int cond, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int check_summary(void);

/* CHECK_EQ(expected, got, "what %d", ...): integers, printed in hex and decimal. */
#define CHECK_EQ(exp, got, ...) \
	check_u64(__FILE__, __LINE__, (uint64_t)(exp), (uint64_t)(got), __VA_ARGS__)
/* CHECK_REASON(expected, got, ...): enum vits_reason values, printed by name. */
#define CHECK_REASON(exp, got, ...) \
	check_reason(__FILE__, __LINE__, (int)(exp), (int)(got), __VA_ARGS__)
/* CHECK(cond, ...): a condition; "expected true got false". */
#define CHECK(cond, ...) check_true(__FILE__, __LINE__, !!(cond), __VA_ARGS__)

#endif /* ENGINE_CHECK_H */
