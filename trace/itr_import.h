/*
 * itr_import.h: importers from other capture sources into .itr traces.
 */
#ifndef ITR_IMPORT_H
#define ITR_IMPORT_H

#include "itr_types.h"
#include "vits.h"

#ifdef __cplusplus
extern "C" {
#endif

enum itr_diag_kind {
	ITR_DIAG_UNKNOWN = 1,   /* a line that is not a QEMU ITS trace event */
	ITR_DIAG_MALFORMED,     /* an ITS trace event whose text does not parse */
	ITR_DIAG_WARNING,       /* parsed, but out of place (e.g. a command line alone) */
};

struct itr_import_diag {
	enum itr_diag_kind kind;
	uint64_t line;          /* 1-based line number in the log */
	const char *text;       /* the line (possibly cut at 200 characters) */
	const char *why;
};

struct itr_import_opts {
	size_t sz;              /* sizeof(struct itr_import_opts) */
	uint16_t domain;        /* domain id of the records (default 0) */
	uint32_t nr_vcpus;      /* 0: largest MAPC RDbase in the log + 1 */
	void (*on_diag)(void *ctx, const struct itr_import_diag *d);
	void *ctx;
};

struct itr_import_result {
	uint64_t lines;             /* lines read */
	uint64_t used;              /* lines turned into records */
	uint64_t ignored;           /* QEMU ITS events with nothing to record (table reads) */
	uint64_t unknown, malformed, warnings;
	uint64_t records;           /* records written */
	uint64_t commands;          /* CMD records */
	uint64_t by_command[ITS_IDX_COUNT];
	uint64_t other_commands;    /* GICv4 and unknown opcodes */
	uint64_t msis;
	uint64_t inferred;          /* records marked inferred */
	uint64_t reordered;         /* register writes moved before the commands they ran */
	uint64_t queue_wraps;
};

/*
 * Convert a QEMU `-trace 'gicv3_its*'` log (plain or gzip) to an .itr trace at out.
 * Every unknown or malformed line is counted and passed to on_diag with its number.
 * Returns 0; ITR_E_PARSE when no line could be read as a QEMU ITS event (out is then
 * removed); ITR_E_IO when the log cannot be read or out written (msg says which).
 */
int itr_import_qemu(const char *log_path, const char *out_path,
		    const struct itr_import_opts *opts, struct itr_import_result *res,
		    char *msg, size_t msglen);

#ifdef __cplusplus
}
#endif

#endif /* ITR_IMPORT_H */
