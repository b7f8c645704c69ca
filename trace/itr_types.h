/*
 * itr_types.h: types and error codes shared by the hosted trace API (reader, writer,
 * decoder, importer, sink).  The on-disk layout is in itr_format.h.
 *
 * Every function returns int: >= 0 a result, < 0 an ITR_E_* code; itr_strerror()
 * names it.  The library never prints: damage and import diagnostics go to callbacks.
 */
#ifndef ITR_TYPES_H
#define ITR_TYPES_H

#include <stddef.h>
#include <stdint.h>

#include "itr_format.h"

#ifdef __cplusplus
extern "C" {
#endif

enum itr_err {
	ITR_OK = 0,
	ITR_E_INVAL = -1,       /* a NULL pointer or an argument out of range */
	ITR_E_NOMEM = -2,       /* malloc failed */
	ITR_E_IO = -3,          /* the operating system refused a read or write (see errno) */
	ITR_E_NOT_ITR = -4,     /* not a trace: the magic is wrong or the file is too short */
	ITR_E_VERSION = -5,     /* a newer major version than this reader understands */
	ITR_E_HEADER = -6,      /* the file header is damaged (CRC or impossible values) */
	ITR_E_SHORT = -7,       /* a record payload shorter than its type needs */
	ITR_E_TYPE = -8,        /* a record type this code does not know */
	ITR_E_TOO_BIG = -9,     /* a record or header beyond the format's limits */
	ITR_E_DAMAGED = -10,    /* the trace is damaged and the caller asked for strict reading */
	ITR_E_PARSE = -11,      /* an import source had nothing that could be read */
	ITR_E_COUNT = 12
};

/* Name and description of an ITR_E_* code; never NULL. */
const char *itr_strerror(int err);

struct itr_domain {
	uint16_t id;
	uint16_t flags;
	uint32_t nr_vcpus;
};

/* The file header, decoded. */
struct itr_header {
	uint16_t major, minor;
	uint32_t flags;             /* ITR_HF_* */
	uint32_t block_max;         /* writer: payload bytes per block (0: ITR_BLOCK_DEFAULT) */
	uint16_t source;            /* enum itr_source */
	uint16_t policy;            /* enum itr_policy */
	uint8_t error_mode;         /* enum vits_error_mode, 0xff unknown */
	uint32_t nr_vcpus;
	uint8_t devid_bits, eventid_bits, cid_bits, intid_bits;
	uint32_t budget;
	uint64_t typer;
	uint32_t iidr;
	uint64_t start_ns;
	char source_desc[ITR_SOURCE_DESC + 1];  /* NUL-terminated */
	uint16_t nr_domains;
	const struct itr_domain *domains;       /* nr_domains entries */
};

/* One record.  The reader fills every field; payload points into its block buffer and
 * stays valid until the next call.  The writer reads type, flags, domain, cpu, ts,
 * len and payload. */
struct itr_rec {
	uint8_t type;               /* enum itr_rec_type */
	uint8_t flags;              /* ITR_RF_* */
	uint16_t domain;
	uint16_t cpu;
	uint32_t len;               /* payload bytes */
	uint64_t ts;                /* ns, absolute */
	const uint8_t *payload;
	uint64_t index;             /* reader: 0-based record number among the records read */
	uint64_t offset;            /* reader: file offset of the record header */
};

/* Names for display and JSON; never NULL ("?" or "unknown" when out of range). */
const char *itr_rec_type_name(unsigned type);   /* "CMD", "MSI", ... */
const char *itr_source_name(unsigned src);      /* "qemu-log", "recorder", ... */
const char *itr_policy_name(unsigned pol);      /* "forward", ... */
const char *itr_rule_name(unsigned rule);       /* "linux-sync-target", ... */
const char *itr_rule_text(unsigned rule);       /* one sentence saying what it assumes */

/* The payload length a known type needs at least, or -1 for an unknown type. */
int itr_rec_min_payload(unsigned type);

#ifdef __cplusplus
}
#endif

#endif /* ITR_TYPES_H */
