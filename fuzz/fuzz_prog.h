/*
 * fuzz_prog.h: the fuzzers' shared core.
 *
 * A fuzzer input is a *program*: an 8-byte header that picks the geometry and knobs,
 * then a list of guest operations, each one kind byte followed by a payload whose
 * length the kind decides (fuzz_op_len).  The decoder is total: every byte string is
 * some program (a short tail is padded with zeros, kinds are taken modulo the number
 * of kinds), and the executor is bounded (FZ_MAX_OPS operations, FZ_MAX_SLOTS command
 * slots written, FZ_MAX_CMDS commands run (FZ_MAX_CMDS_CMDQ for cmdq), bounded
 * resume loops).
 *
 * The executor drives one vITS through the host harness (replay/harness) exactly as a
 * guest and an embedder would: MMIO register writes, command slots in guest RAM,
 * property-table stores (trapped through vits_prop_write), device MSIs, physical LPIs,
 * budget resumes and physical-queue drains.  The oracles (docs/fuzzing.md) run after
 * every operation and inside the engine's trace hook; the first failure is printed
 * and abort()ed, so libFuzzer records a crash and the standalone driver fails.
 */
#ifndef FUZZ_PROG_H
#define FUZZ_PROG_H

#include <stddef.h>
#include <stdint.h>

#define FZ_HDR_BYTES 8u
#define FZ_MAX_OPS   512u
#define FZ_MAX_SLOTS 4096u
/* Guest commands an input may run: the ops after the one that reaches it are not
 * run (the end-of-input settle and oracles still are).  Without it the corpus drifts
 * to inputs that replay a full queue hundreds of times (libFuzzer's hit-count
 * buckets reward every doubling), at ~1 us a command.  cmdq runs on a far lower
 * bound: its queue-wrap paths are the wrap target's work (tiny queues), and the bug
 * zoo finds every cmdq mutant at this bound (docs/fuzzing.md, "Fifth round"). */
#ifndef FZ_MAX_CMDS
#define FZ_MAX_CMDS  2048u
#endif
#ifndef FZ_MAX_CMDS_CMDQ
#define FZ_MAX_CMDS_CMDQ 128u
#endif

/* Operation kinds; the kind byte is taken modulo FZ_OP_COUNT. */
enum fz_op_kind {
	FZ_OP_CMD = 0,     /* structured command into the next slot [sel a b c d flags junk] */
	FZ_OP_RAWCMD,      /* 32 raw bytes into the next slot */
	FZ_OP_BURST,       /* n+1 commands of one template [n sel a] then kick */
	FZ_OP_KICK,        /* CWRITER := driver write pointer [how] */
	FZ_OP_CWRITER,     /* CWRITER := an edge value [sel x] */
	FZ_OP_CBASER,      /* CBASER write [flags pages addr] */
	FZ_OP_CTLR,        /* GITS_CTLR [val] */
	FZ_OP_BASER,       /* GITS_BASER0 [flags pages noise] */
	FZ_OP_L1,          /* toggle a level-1 device-table entry [idx] */
	FZ_OP_PROP,        /* property byte store, trapped [intid value flags] */
	FZ_OP_MSI,         /* device MSI [dev ev] */
	FZ_OP_RESUME,      /* vits_resume [n] */
	FZ_OP_DRAIN,       /* the physical ITS consumes its queue [how] */
	FZ_OP_PROPTABLE,   /* GICR_PROPBASER changes [bits addr] */
	FZ_OP_MMIO,        /* other register accesses [sel size val] */
	FZ_OP_HOSTLPI,     /* a physical LPI fires [which] */
	FZ_OP_ASSIGN,      /* assign / unassign a device [dev how] */
	FZ_OP_RESET,       /* vits_reset: the guest reboots [x] */
	FZ_OP_COUNT
};

/* Payload bytes of each kind (not counting the kind byte). */
unsigned fuzz_op_len(unsigned kind);
const char *fuzz_op_name(unsigned kind);

/* What a target changes in the header-decoded setup. */
enum fz_target {
	FZ_T_CMDQ = 0,     /* one vITS, host optional, every knob from the header */
	FZ_T_WRAP,         /* tiny guest and physical queues, host with assigned devices */
	FZ_T_POLICY,       /* the same program under every policy, host always */
};

/* Run one input; 0 when every oracle held.  On an oracle failure: print, then abort()
 * unless fuzz_set_abort(0) (the driver's --no-abort, used to write reproducers). */
int fuzz_run(enum fz_target t, const uint8_t *data, size_t size);

/* Same, for one policy only (policy < 0: the header's). */
int fuzz_run_policy(enum fz_target t, const uint8_t *data, size_t size, int policy);

void fuzz_set_abort(int on);
void fuzz_set_verbose(int on);        /* print each operation as it runs */
/* For targets with their own executor (fuzz_multidomain.c): the driver's settings,
 * and the result of the last input (what fuzz_target_failed() reports). */
int fuzz_get_abort(void);
int fuzz_get_verbose(void);
void fuzz_set_failed(int failed);

/* Write the trace of running this input (the engine's events, every domain) to an
 * .itr file; 0 or -1.  Used by the driver's --itr and, when FUZZ_ITR_DIR is set, by
 * the targets on a failure (fuzz-<hash>.itr there).  Without the trace library
 * (FUZZ_NO_TRACE) it returns -1. */
int fuzz_write_itr(enum fz_target t, const uint8_t *data, size_t size, const char *path);

/* Name of a target ("cmdq"). */
const char *fuzz_target_name(enum fz_target t);

#ifndef FUZZ_NO_TRACE
struct itr_header;
struct vits_config;
/* The header of a fuzz target's trace: vc's geometry, policy (the format's numbering;
 * none without a host), error mode and budget; synthetic source; outcomes (and
 * physical commands, with a host) observed. */
void fuzz_itr_header(struct itr_header *hd, const struct vits_config *vc, int host,
		     const char *target);

struct vits_host_config;
/* The "vits-config" NOTE text (docs/trace-format.md) for vc, with the host's geometry
 * and the physical queue bound physq when host is not NULL; extra (or NULL) is
 * appended as more key=value words. */
void fuzz_config_note(char *buf, size_t len, const struct vits_config *vc,
		      const struct vits_host_config *host, uint32_t physq, const char *extra);
#endif

/* Where a campaign keeps the trace of a failing input: $FUZZ_ITR_DIR/fuzz-<target>-
 * <hash of the input>.itr.  0, or -1 when FUZZ_ITR_DIR is not set. */
int fuzz_itr_path(char *buf, size_t len, const char *target, const uint8_t *data,
		  size_t size);

/* ---- program building (seed generator, mutator) ----------------------------------- */

struct fz_buf {
	uint8_t *p;
	size_t n, cap;
};

void fz_emit(struct fz_buf *b, const void *bytes, size_t n);
void fz_emit_op(struct fz_buf *b, unsigned kind, const uint8_t *payload);

/* Byte offsets of the ops of a program (after the header): fills starts[] with at
 * most max entries; returns the count.  Every byte string parses. */
size_t fuzz_split_ops(const uint8_t *data, size_t size, size_t *starts, size_t max);

#endif /* FUZZ_PROG_H */
