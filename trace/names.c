/*
 * names.c: error strings and the names of record types, sources, policies and rules.
 */
#include "itr_types.h"

static const char *const err_str[ITR_E_COUNT] = {
	[0] = "success",
	[-ITR_E_INVAL] = "invalid argument",
	[-ITR_E_NOMEM] = "out of memory",
	[-ITR_E_IO] = "input/output error",
	[-ITR_E_NOT_ITR] = "not an .itr trace (bad magic or too short)",
	[-ITR_E_VERSION] = "trace format version newer than this reader",
	[-ITR_E_HEADER] = "trace header damaged",
	[-ITR_E_SHORT] = "record payload too short for its type",
	[-ITR_E_TYPE] = "unknown record type",
	[-ITR_E_TOO_BIG] = "beyond the format's size limits",
	[-ITR_E_DAMAGED] = "trace damaged",
	[-ITR_E_PARSE] = "nothing in the input could be read",
};

const char *itr_strerror(int err)
{
	if (err > 0 || err <= -ITR_E_COUNT)
		return "unknown error";
	return err_str[-err];
}

const char *itr_rec_type_name(unsigned type)
{
	switch (type) {
	case ITR_REC_MMIO_READ: return "MMIO_READ";
	case ITR_REC_MMIO_WRITE: return "MMIO_WRITE";
	case ITR_REC_MEM_READ: return "MEM_READ";
	case ITR_REC_CMD: return "CMD";
	case ITR_REC_INJECT: return "INJECT";
	case ITR_REC_PHYS_CMD: return "PHYS_CMD";
	case ITR_REC_CREADR: return "CREADR";
	case ITR_REC_MSI: return "MSI";
	case ITR_REC_PROP_TABLE: return "PROP_TABLE";
	case ITR_REC_HOST_LPI: return "HOST_LPI";
	case ITR_REC_ASSIGN: return "ASSIGN";
	case ITR_REC_PROP_WRITE: return "PROP_WRITE";
	case ITR_REC_LOSS: return "LOSS";
	case ITR_REC_CHECKPOINT: return "CHECKPOINT";
	case ITR_REC_TIME: return "TIME";
	case ITR_REC_NOTE: return "NOTE";
	case ITR_REC_INFERRED: return "INFERRED";
	case ITR_REC_END: return "END";
	case ITR_REC_SNAPSHOT: return "SNAPSHOT";
	case ITR_REC_EXP_DTE: return "EXP_DTE";
	case ITR_REC_EXP_ITE: return "EXP_ITE";
	case ITR_REC_EXP_CTE: return "EXP_CTE";
	default: return "UNKNOWN";
	}
}

int itr_rec_min_payload(unsigned type)
{
	switch (type) {
	case ITR_REC_MMIO_READ:
	case ITR_REC_MMIO_WRITE: return ITR_PL_MMIO;
	case ITR_REC_MEM_READ: return ITR_PL_MEM_READ;
	case ITR_REC_CMD: return ITR_PL_CMD;
	case ITR_REC_INJECT: return ITR_PL_INJECT;
	case ITR_REC_PHYS_CMD: return ITR_PL_PHYS_CMD;
	case ITR_REC_CREADR: return ITR_PL_CREADR;
	case ITR_REC_MSI: return ITR_PL_MSI;
	case ITR_REC_PROP_TABLE: return ITR_PL_PROP_TABLE;
	case ITR_REC_HOST_LPI: return ITR_PL_HOST_LPI;
	case ITR_REC_ASSIGN: return ITR_PL_ASSIGN;
	case ITR_REC_PROP_WRITE: return ITR_PL_PROP_WRITE;
	case ITR_REC_LOSS: return ITR_PL_LOSS;
	case ITR_REC_CHECKPOINT: return ITR_PL_CHECKPOINT;
	case ITR_REC_TIME: return ITR_PL_TIME;
	case ITR_REC_NOTE: return ITR_PL_NOTE;
	case ITR_REC_INFERRED: return ITR_PL_INFERRED;
	case ITR_REC_END: return ITR_PL_END;
	case ITR_REC_SNAPSHOT: return ITR_PL_SNAPSHOT;
	case ITR_REC_EXP_DTE: return ITR_PL_EXP_DTE;
	case ITR_REC_EXP_ITE: return ITR_PL_EXP_ITE;
	case ITR_REC_EXP_CTE: return ITR_PL_EXP_CTE;
	default: return -1;
	}
}

static const char *const src_names[ITR_SRC_COUNT] = {
	[ITR_SRC_UNKNOWN] = "unknown", [ITR_SRC_RECORDER] = "recorder",
	[ITR_SRC_QEMU_LOG] = "qemu-log", [ITR_SRC_SYNTHETIC] = "synthetic",
	[ITR_SRC_LTTNG] = "lttng", [ITR_SRC_EBPF] = "ebpf", [ITR_SRC_CTF] = "ctf",
};

const char *itr_source_name(unsigned src)
{
	return src < ITR_SRC_COUNT ? src_names[src] : "unknown";
}

static const char *const pol_names[ITR_POL_COUNT] = {
	[ITR_POL_UNKNOWN] = "unknown", [ITR_POL_NONE] = "none", [ITR_POL_FORWARD] = "forward",
	[ITR_POL_EAGER] = "eager", [ITR_POL_LAZY] = "lazy",
	[ITR_POL_LAZY_GLOBAL] = "lazy-global", [ITR_POL_VIRTUAL] = "virtual",
};

const char *itr_policy_name(unsigned pol)
{
	return pol < ITR_POL_COUNT ? pol_names[pol] : "unknown";
}

static const struct { const char *name, *text; } rules[ITR_RULE_COUNT] = {
	[ITR_RULE_NONE] = { "none", "observed, not inferred" },
	[ITR_RULE_QEMU_UNPRINTED] = { "qemu-unprinted",
		"QEMU's trace does not print these command fields; they are left zero" },
	[ITR_RULE_LINUX_SYNC_TARGET] = { "linux-sync-target",
		"the Linux driver sends SYNC to the redistributor of the collection the previous "
		"command used (for MOVI and DISCARD the event's collection before the command)" },
	[ITR_RULE_LINUX_INVALL_AFTER_MAPC] = { "linux-invall-after-mapc",
		"the Linux driver sends INVALL for the collection it has just mapped with MAPC" },
	[ITR_RULE_UNRESOLVED_ZERO] = { "unresolved-zero",
		"no rule could fill the field; it is zero" },
	[ITR_RULE_CMDQ_BASE_UNKNOWN] = { "cmdq-base-unknown",
		"CBASER was never seen: the slot address is the queue offset alone" },
	[ITR_RULE_NOT_ENCODABLE] = { "not-encodable",
		"GICv4 fields that the shared command encoders do not cover are left zero" },
};

const char *itr_rule_name(unsigned rule)
{
	return rule < ITR_RULE_COUNT ? rules[rule].name : "unknown-rule";
}

const char *itr_rule_text(unsigned rule)
{
	return rule < ITR_RULE_COUNT ? rules[rule].text : "a rule this reader does not know";
}
