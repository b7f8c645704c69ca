/*
 * itr_format.h: the .itr trace format on disk (docs/trace-format.md is its prose).
 *
 * Freestanding: constants, record layouts and little-endian accessors only, so the
 * in-engine recorder (built -ffreestanding) and the hosted reader and writer share
 * one definition of every byte.
 *
 * A file is a header, then blocks.  A block is a 32-byte block header and a payload
 * of whole records; the block header carries a CRC-32C of itself and the payload.
 * A record is a 12-byte record header and a payload whose layout depends on the type.
 * All integers are little-endian and unaligned; readers use the itr_get* helpers.
 */
#ifndef ITR_FORMAT_H
#define ITR_FORMAT_H

#include <stddef.h>
#include <stdint.h>

/* ---- Versions ---------------------------------------------------------------------
 * Major: a reader refuses a file whose major version is newer than its own.
 * Minor: a newer minor only adds record types (skipped by length by older readers)
 * or appends fields to the end of a payload or of the header (ignored by them). */
#define ITR_VERSION_MAJOR 1u
#define ITR_VERSION_MINOR 1u     /* 1.1: SNAPSHOT records */

/* ---- File header ------------------------------------------------------------------- */

/* 8 bytes, PNG-style: a high byte, then text, then CR LF, ^Z and LF, so that line-ending
 * conversion or a 7-bit channel damages the magic and the file is refused at once. */
#define ITR_MAGIC_LEN 8u
static const uint8_t itr_magic[ITR_MAGIC_LEN] = { 0x89, 'I', 'T', 'R', '\r', '\n', 0x1a, '\n' };

#define ITR_HDR_FIXED      128u     /* bytes of the fixed part (version 1.0) */
#define ITR_HDR_MAX        65536u   /* a reader refuses a longer header */
#define ITR_DOMAIN_DESC    8u       /* bytes per domain descriptor after the fixed part */
#define ITR_MAX_DOMAINS    ((ITR_HDR_MAX - ITR_HDR_FIXED) / ITR_DOMAIN_DESC)
#define ITR_SOURCE_DESC    56u      /* bytes of the NUL-padded capture description */

/* Offsets in the fixed header. */
enum {
	ITR_H_MAGIC = 0,        /* u8[8] */
	ITR_H_MAJOR = 8,        /* u16 */
	ITR_H_MINOR = 10,       /* u16 */
	ITR_H_LEN = 12,         /* u32: header bytes, fixed part + domains + future fields */
	ITR_H_CRC = 16,         /* u32: CRC-32C of the header_len bytes with this field 0 */
	ITR_H_FLAGS = 20,       /* u32: ITR_HF_* */
	ITR_H_BLOCK_MAX = 24,   /* u32: largest block payload in the file */
	ITR_H_SOURCE = 28,      /* u16: enum itr_source */
	ITR_H_POLICY = 30,      /* u16: enum itr_policy */
	ITR_H_NR_DOMAINS = 32,  /* u16: domain descriptors following the fixed part */
	ITR_H_ERROR_MODE = 34,  /* u8: enum vits_error_mode, 0xff unknown */
	ITR_H_RSVD0 = 35,       /* u8 */
	ITR_H_NR_VCPUS = 36,    /* u32: vCPUs (RDbase values) of the traced ITS, 0 unknown */
	ITR_H_DEVID_BITS = 40,  /* u8 each: geometry, as TYPER reports it (bits, not bits-1) */
	ITR_H_EVENTID_BITS = 41,
	ITR_H_CID_BITS = 42,
	ITR_H_INTID_BITS = 43,
	ITR_H_BUDGET = 44,      /* u32: commands per call, 0 unlimited */
	ITR_H_TYPER = 48,       /* u64: GITS_TYPER as the guest saw it, 0 unknown */
	ITR_H_IIDR = 56,        /* u32: GITS_IIDR, 0 unknown */
	ITR_H_RSVD1 = 60,       /* u32 */
	ITR_H_START_NS = 64,    /* u64: wall-clock time of the capture start (Unix ns), 0 unknown */
	ITR_H_SOURCE_DESC = 72, /* char[56]: free text, e.g. the captured log's name */
};

/* Domain descriptor: u16 domain id, u16 flags (0), u32 vCPUs. */

enum itr_header_flags {
	ITR_HF_NO_TIMESTAMPS = 1u << 0,  /* the source has no clock: every ts is 0 */
	ITR_HF_HAS_PHYS = 1u << 1,       /* the source observes physical commands */
	ITR_HF_HAS_OUTCOMES = 1u << 2,   /* the source observes command outcomes */
	ITR_HF_GEOMETRY_INFERRED = 1u << 3, /* geometry partly guessed (see NOTE records) */
	ITR_HF_HAS_INFERRED = 1u << 4,   /* some records are inferred (INFERRED records say how) */
};

enum itr_source {
	ITR_SRC_UNKNOWN = 0,
	ITR_SRC_RECORDER = 1,   /* the in-engine recorder (trace/recorder.c) */
	ITR_SRC_QEMU_LOG = 2,   /* its-trace import --from qemu */
	ITR_SRC_SYNTHETIC = 3,  /* made by a test or a fuzzer */
	ITR_SRC_LTTNG = 4,
	ITR_SRC_EBPF = 5,
	ITR_SRC_CTF = 6,
	ITR_SRC_COUNT
};

enum itr_policy {
	ITR_POL_UNKNOWN = 0,
	ITR_POL_NONE = 1,       /* a full ITS emulation with no physical side (QEMU) */
	ITR_POL_FORWARD = 2,
	ITR_POL_EAGER = 3,
	ITR_POL_LAZY = 4,
	ITR_POL_LAZY_GLOBAL = 5,
	ITR_POL_VIRTUAL = 6,
	ITR_POL_COUNT
};

/* ---- Blocks ------------------------------------------------------------------------ */

#define ITR_BLOCK_MAGIC   0x31425449u  /* "ITB1" */
#define ITR_BLK_HDR       32u
#define ITR_BLOCK_DEFAULT 65536u       /* payload bytes a writer collects before a flush */
#define ITR_BLOCK_LIMIT   (1u << 20)   /* a reader refuses a larger block (constant memory) */

enum {
	ITR_B_MAGIC = 0,        /* u32 */
	ITR_B_LEN = 4,          /* u32: payload bytes */
	ITR_B_NREC = 8,         /* u32: records in the payload */
	ITR_B_CRC = 12,         /* u32: CRC-32C of the 32 header bytes (this field 0) + payload */
	ITR_B_SEQ = 16,         /* u64: block number, 0 for the first */
	ITR_B_BASE_TS = 24,     /* u64: time base of the first record's delta */
};

/* ---- Records ----------------------------------------------------------------------- */

#define ITR_REC_HDR 12u
#define ITR_REC_MAX 65535u     /* len is a u16 */

enum {
	ITR_R_TYPE = 0,         /* u8: enum itr_rec_type */
	ITR_R_FLAGS = 1,        /* u8: ITR_RF_* */
	ITR_R_LEN = 2,          /* u16: record bytes including this header */
	ITR_R_DOMAIN = 4,       /* u16 */
	ITR_R_CPU = 6,          /* u16: ITR_CPU_UNKNOWN when the source does not say */
	ITR_R_TS_DELTA = 8,     /* i32: ns since the previous record of the block */
};

#define ITR_CPU_UNKNOWN 0xffffu

enum itr_rec_flags {
	ITR_RF_INFERRED = 1u << 0,   /* filled in by a rule (the INFERRED record before it says) */
	ITR_RF_BAD_ACCESS = 1u << 1, /* MMIO: the access was refused as a bad access */
	ITR_RF_CONT = 1u << 2,       /* MEM_READ: a later chunk of one larger read;
				      * SNAPSHOT: a later chunk of one snapshot */
};

/* Record types.  0x01..0x3f: engine events, one per enum vits_ev_type and with the
 * same number.  0x40..0x5f: stream metadata.  0x60..0x7f: expected effects from an
 * importer (what another implementation did).  Unknown types are skipped by length. */
enum itr_rec_type {
	ITR_REC_MMIO_READ = 0x01,   /* u64 offset, u64 value, u8 size, u8[3] */
	ITR_REC_MMIO_WRITE = 0x02,  /* same */
	ITR_REC_MEM_READ = 0x03,    /* u64 gpa, i32 result, u32 total_len, u8 data[] */
	ITR_REC_CMD = 0x04,         /* u16 slot, u8 outcome, u8 reason, u8 cmd[32] */
	ITR_REC_INJECT = 0x05,      /* u32 vcpu, u32 intid */
	ITR_REC_PHYS_CMD = 0x06,    /* u8 cause, u8 cause_opcode, u16 cause_slot, u8 cmd[32] */
	ITR_REC_CREADR = 0x07,      /* u32 creadr, u8 stalled, u8[3] */
	ITR_REC_MSI = 0x08,         /* u32 devid, u32 eventid, u8 reason, u8[3] */
	ITR_REC_PROP_TABLE = 0x09,  /* u64 gpa, u8 id_bits, u8[3] */
	ITR_REC_HOST_LPI = 0x0a,    /* u32 plpi, u32 intid, u8 reason, u8[3] */
	ITR_REC_ASSIGN = 0x0b,      /* u32 vdevid, u32 pdevid, u8 assigned, u8[3] */
	ITR_REC_PROP_WRITE = 0x0c,  /* u64 gpa, u64 value, u8 len, u8[3] */

	ITR_REC_LOSS = 0x40,        /* u64 dropped, u32 cause, u32 cpu_or_ring */
	ITR_REC_CHECKPOINT = 0x41,  /* u64 seq, u16 kind, u16 fp_len, u32 0, u8 fp[fp_len] */
	ITR_REC_TIME = 0x42,        /* u64 ts: absolute time of this record and the base */
	ITR_REC_NOTE = 0x43,        /* text, UTF-8, no NUL */
	ITR_REC_INFERRED = 0x44,    /* u16 rule, u8 target_type, u8 0, u32 fields, text */
	ITR_REC_END = 0x45,         /* u64 records before it, u64 blocks before its own */
	ITR_REC_SNAPSHOT = 0x46,    /* (1.1) u32 total bytes, u32 offset of this chunk, u8 data[]:
				     * one chunk of an engine-state snapshot (replay/rp_snapshot.c,
				     * docs/replay.md); later chunks carry ITR_RF_CONT */

	ITR_REC_EXP_DTE = 0x60,     /* u32 devid, u8 valid, u8 size, u16 0, u64 itt_addr */
	ITR_REC_EXP_ITE = 0x61,     /* u64 itt_addr, u32 devid, u32 eventid, u32 intid,
				     * u32 doorbell, u16 icid, u16 vpeid, u8 valid,
				     * u8 inttype, u8 devid_known, u8 0 */
	ITR_REC_EXP_CTE = 0x62,     /* u16 icid, u8 valid, u8 0, u32 0, u64 rdbase */
};

/* Minimum payload bytes of each known type; a shorter record is malformed.  A longer
 * one is accepted (a newer minor version may append fields). */
enum {
	ITR_PL_MMIO = 20,
	ITR_PL_MEM_READ = 16,       /* + data */
	ITR_PL_CMD = 36,
	ITR_PL_INJECT = 8,
	ITR_PL_PHYS_CMD = 36,
	ITR_PL_CREADR = 8,
	ITR_PL_MSI = 12,
	ITR_PL_PROP_TABLE = 12,
	ITR_PL_HOST_LPI = 12,
	ITR_PL_ASSIGN = 12,
	ITR_PL_PROP_WRITE = 20,
	ITR_PL_LOSS = 16,
	ITR_PL_CHECKPOINT = 16,     /* + fp */
	ITR_PL_TIME = 8,
	ITR_PL_NOTE = 0,
	ITR_PL_INFERRED = 8,        /* + text */
	ITR_PL_END = 16,
	ITR_PL_SNAPSHOT = 8,        /* + data */
	ITR_PL_EXP_DTE = 16,
	ITR_PL_EXP_ITE = 32,
	ITR_PL_EXP_CTE = 16,
};

/* Field bits of an INFERRED record about a command (CMD, MEM_READ of a command slot):
 * which fields of the 32 bytes a rule filled.  Fixed here, not derived from
 * its_cmd.def, so that the meaning of a bit never changes. */
enum itr_cmd_field_bit {
	ITR_CMDF_OPCODE = 1u << 0,
	ITR_CMDF_DEVID = 1u << 1,
	ITR_CMDF_EVENTID = 1u << 2,
	ITR_CMDF_SIZE = 1u << 3,
	ITR_CMDF_PINTID = 1u << 4,
	ITR_CMDF_ICID = 1u << 5,
	ITR_CMDF_ITT_ADDR = 1u << 6,
	ITR_CMDF_RDBASE = 1u << 7,
	ITR_CMDF_VALID = 1u << 8,
	ITR_CMDF_RDBASE2 = 1u << 9,
	ITR_CMDF_VPEID = 1u << 10,
	ITR_CMDF_GICV4 = 1u << 11,   /* GICv4 fields the shared encoders do not cover */
	ITR_CMDF_ADDRESS = 1u << 30, /* MEM_READ: the guest address */
	ITR_CMDF_COUNT_BITS = 12,
};

#define ITR_CHECKPOINT_FP_MAX 64u   /* fingerprint bytes a checkpoint may carry */
#define ITR_MEM_CHUNK 4096u         /* a MEM_READ record carries at most this many bytes */

/* A command record is the 12-byte header + 36 bytes: 48 bytes. */
#define ITR_CMD_REC_BYTES (ITR_REC_HDR + ITR_PL_CMD)

/* CMD outcome and reasons: enum vits_outcome / enum vits_reason, or these when the
 * source did not observe them (an import from QEMU's log, for one). */
#define ITR_OUTCOME_UNOBSERVED 0xffu
#define ITR_REASON_UNOBSERVED  0xffu

enum itr_loss_cause {
	ITR_LOSS_RING_FULL = 1,     /* the recorder's ring had no room */
	ITR_LOSS_TOO_BIG = 2,       /* an event larger than the ring could hold */
	ITR_LOSS_SOURCE = 3,        /* the capture source reported lost events */
};

/* Checkpoint fingerprint kinds. */
enum itr_fp_kind {
	ITR_FP_EMBEDDER = 0,        /* opaque bytes from the embedder's function */
	ITR_FP_VITS_V1 = 1,         /* the engine state hash, version 1 (replay/) */
};

/* Rules an importer used to fill a gap (DESIGN.md "Traces with gaps").  Numbers are
 * part of the format: never reuse one. */
enum itr_rule {
	ITR_RULE_NONE = 0,
	ITR_RULE_QEMU_UNPRINTED = 1,      /* QEMU does not print these fields: left zero */
	ITR_RULE_LINUX_SYNC_TARGET = 2,   /* Linux's SYNC targets the collection the previous
					   * command used (MOVI: the old one) */
	ITR_RULE_LINUX_INVALL_AFTER_MAPC = 3, /* Linux sends INVALL for the collection it
					   * has just mapped (its_cpu_init_collection) */
	ITR_RULE_UNRESOLVED_ZERO = 4,     /* no rule applied: the field is zero */
	ITR_RULE_CMDQ_BASE_UNKNOWN = 5,   /* CBASER never seen: slot address is offset only */
	ITR_RULE_NOT_ENCODABLE = 6,       /* GICv4 fields the shared encoders do not place */
	ITR_RULE_COUNT
};

/* ---- Little-endian accessors (unaligned) --------------------------------------------- */

/* On a little-endian host an access is one unaligned load or store (the compiler turns
 * the fixed-size memcpy into it); elsewhere bytes are assembled one by one. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ITR_LE_NATIVE 1
#else
#define ITR_LE_NATIVE 0
#endif

static inline uint16_t itr_get16(const uint8_t *p)
{
#if ITR_LE_NATIVE
	uint16_t v;
	__builtin_memcpy(&v, p, 2);
	return v;
#else
	return (uint16_t)(p[0] | (p[1] << 8));
#endif
}

static inline uint32_t itr_get32(const uint8_t *p)
{
#if ITR_LE_NATIVE
	uint32_t v;
	__builtin_memcpy(&v, p, 4);
	return v;
#else
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
#endif
}

static inline uint64_t itr_get64(const uint8_t *p)
{
#if ITR_LE_NATIVE
	uint64_t v;
	__builtin_memcpy(&v, p, 8);
	return v;
#else
	return (uint64_t)itr_get32(p) | ((uint64_t)itr_get32(p + 4) << 32);
#endif
}

static inline void itr_put16(uint8_t *p, uint16_t v)
{
#if ITR_LE_NATIVE
	__builtin_memcpy(p, &v, 2);
#else
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
#endif
}

static inline void itr_put32(uint8_t *p, uint32_t v)
{
#if ITR_LE_NATIVE
	__builtin_memcpy(p, &v, 4);
#else
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
#endif
}

static inline void itr_put64(uint8_t *p, uint64_t v)
{
#if ITR_LE_NATIVE
	__builtin_memcpy(p, &v, 8);
#else
	itr_put32(p, (uint32_t)v);
	itr_put32(p + 4, (uint32_t)(v >> 32));
#endif
}

/* A command's four doublewords as the 32 little-endian bytes of the queue (the same
 * bytes as its_cmd_to_bytes, in four stores on a little-endian host). */
static inline void itr_put_cmd(uint8_t *p, const uint64_t dw[4])
{
	itr_put64(p, dw[0]);
	itr_put64(p + 8, dw[1]);
	itr_put64(p + 16, dw[2]);
	itr_put64(p + 24, dw[3]);
}

#endif /* ITR_FORMAT_H */
