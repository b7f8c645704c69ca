/*
 * cmd.h: the its-trace subcommands and what they share.
 *
 * Exit codes (DESIGN.md "The its-trace command line"): 0 success, 1 a finding,
 * 2 bad usage or bad input (a damaged trace included: what could be read is still
 * printed, and stderr says what was lost).
 */
#ifndef ITS_TRACE_CMD_H
#define ITS_TRACE_CMD_H

#include <stdint.h>
#include <stdio.h>

#include "itr_reader.h"

#define EXIT_OK 0
#define EXIT_FINDING 1
#define EXIT_BAD 2

/* Each takes the arguments after the subcommand name (argv[0] is the name). */
int cmd_import(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_whatif(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_minimize(int argc, char **argv);
int cmd_checkpoint(int argc, char **argv);

/* "its-trace" (for messages). */
extern const char *prog;

/* Print "its-trace SUB: message" on stderr. */
void err_msg(const char *sub, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A numeric option value: decimal or 0x-hex, no sign, nothing after it, within
 * [min, max].  0 and *out set, or -1. */
int opt_u64(const char *arg, uint64_t min, uint64_t max, uint64_t *out);

/* Usage error: message, then a hint to --help; returns EXIT_BAD. */
int usage_error(const char *sub, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Open a trace for reading; damage is reported on stderr as it is met, and counted in
 * *damaged.  Returns NULL after printing why (the caller exits EXIT_BAD). */
struct itr_reader *open_trace(const char *sub, const char *path, int *damaged);

/* Exit code after reading a trace: EXIT_BAD when it was damaged (with a summary). */
int finish_trace(const char *sub, const char *path, struct itr_reader *r, int read_rc);

#endif /* ITS_TRACE_CMD_H */
