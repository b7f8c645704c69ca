/*
 * errors.c: names of API errors and of guest-command failure reasons.
 */
#include "vits_internal.h"

static const char *const err_names[VITS_E_COUNT] = {
	[0] = "success",
	[1] = "invalid argument",
	[2] = "out of memory or over the instance's memory cap",
	[3] = "identifier beyond the configured geometry",
	[4] = "not allowed in the current state",
	[5] = "nothing mapped there",
	[6] = "already exists",
	[7] = "physical command queue full, try again",
	[8] = "fixed-size table full",
};

const char *vits_strerror(int err)
{
	/* Compare before negating: -INT_MIN does not exist. */
	if (err > 0 || err <= -VITS_E_COUNT)
		return "unknown error";
	return err_names[-err];
}

static const char *const reason_names[VITS_R_COUNT] = {
	[VITS_R_NONE] = "NONE",
	[VITS_R_DEVICE_OOR] = "DEVICE_OOR",
	[VITS_R_DEVICE_UNMAPPED] = "DEVICE_UNMAPPED",
	[VITS_R_EVENT_OOR] = "EVENT_OOR",
	[VITS_R_EVENT_UNMAPPED] = "EVENT_UNMAPPED",
	[VITS_R_EVENT_MAPPED] = "EVENT_MAPPED",
	[VITS_R_ITT_SIZE_OOR] = "ITT_SIZE_OOR",
	[VITS_R_ITT_OUTSIDE_RAM] = "ITT_OUTSIDE_RAM",
	[VITS_R_COLLECTION_OOR] = "COLLECTION_OOR",
	[VITS_R_COLLECTION_UNMAPPED] = "COLLECTION_UNMAPPED",
	[VITS_R_PROCNUM_OOR] = "PROCNUM_OOR",
	[VITS_R_INTID_OOR] = "INTID_OOR",
	[VITS_R_DEVICE_TABLE] = "DEVICE_TABLE",
	[VITS_R_NO_MEMORY] = "NO_MEMORY",
	[VITS_R_MEM_FAULT] = "MEM_FAULT",
	[VITS_R_UNSUPPORTED] = "UNSUPPORTED",
	[VITS_R_UNKNOWN_OPCODE] = "UNKNOWN_OPCODE",
	[VITS_R_ITS_DISABLED] = "ITS_DISABLED",
	[VITS_R_NOT_ASSIGNED] = "NOT_ASSIGNED",
	[VITS_R_CLEARED] = "CLEARED",
};

const char *vits_reason_name(enum vits_reason r)
{
	if ((unsigned)r >= VITS_R_COUNT || reason_names[r] == NULL)
		return "UNKNOWN";
	return reason_names[r];
}

/*
 * The error codes Linux's ITS driver names (E_ITS_*, from the architecture's list):
 * 0x01 | opcode | cause.  Commands or causes the list has no code for return 0.
 */
uint32_t vits_reason_e_its(enum vits_reason r, unsigned opcode)
{
	bool unmapped_int = r == VITS_R_DEVICE_OOR || r == VITS_R_DEVICE_UNMAPPED ||
			    r == VITS_R_EVENT_OOR || r == VITS_R_EVENT_UNMAPPED ||
			    r == VITS_R_COLLECTION_UNMAPPED;

	if (r == VITS_R_NONE)
		return 0;
	switch (opcode) {
	case ITS_OP_MOVI:
		if (r == VITS_R_COLLECTION_OOR || r == VITS_R_COLLECTION_UNMAPPED)
			return 0x010109;
		return unmapped_int ? 0x010107 : 0;
	case ITS_OP_INT:
		return unmapped_int ? 0x010307 : 0;
	case ITS_OP_CLEAR:
		return unmapped_int ? 0x010507 : 0;
	case ITS_OP_MAPD:
		if (r == VITS_R_DEVICE_OOR || r == VITS_R_DEVICE_TABLE)
			return 0x010801;
		return r == VITS_R_ITT_SIZE_OOR ? 0x010802 : 0;
	case ITS_OP_MAPC:
		if (r == VITS_R_PROCNUM_OOR)
			return 0x010902;
		return r == VITS_R_COLLECTION_OOR ? 0x010903 : 0;
	case ITS_OP_MAPTI:
	case ITS_OP_MAPI:
		if (r == VITS_R_DEVICE_OOR || r == VITS_R_DEVICE_UNMAPPED)
			return 0x010a04;
		if (r == VITS_R_EVENT_OOR)
			return 0x010a05;
		if (r == VITS_R_INTID_OOR)
			return 0x010a06;
		return r == VITS_R_COLLECTION_OOR ? 0x010903 : 0;
	case ITS_OP_INV:
		return unmapped_int ? 0x010c07 : 0;
	case ITS_OP_INVALL:
		return (r == VITS_R_COLLECTION_OOR || r == VITS_R_COLLECTION_UNMAPPED) ? 0x010d09 : 0;
	case ITS_OP_MOVALL:
		return r == VITS_R_PROCNUM_OOR ? 0x010e01 : 0;
	case ITS_OP_DISCARD:
		return unmapped_int ? 0x010f07 : 0;
	default:
		return 0;
	}
}
