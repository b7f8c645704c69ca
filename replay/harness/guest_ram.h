/*
 * guest_ram.h: sparse guest physical memory for the host harness.
 *
 * A guest's RAM is one or more non-overlapping regions (base, size).  Pages of 4 KiB
 * are backed lazily on first write, so a test can describe a 64 GiB guest and touch a
 * few pages; a read of a page never written returns zeros.  Every access is checked
 * against the regions first and is refused whole (no partial write) when any byte
 * lies outside all of them: the engine must never get bytes from outside guest RAM.
 *
 * Not thread-safe: one owner serialises calls, as the engine's embedder does.
 */
#ifndef HARNESS_GUEST_RAM_H
#define HARNESS_GUEST_RAM_H

#include <stddef.h>
#include <stdint.h>

#define GUEST_RAM_PAGE_SHIFT 12u
#define GUEST_RAM_PAGE_SIZE  (1u << GUEST_RAM_PAGE_SHIFT)
#define GUEST_RAM_MAX_REGIONS 16u

struct guest_ram;

/* Access counters, for tests and benchmarks. */
struct guest_ram_stats {
	uint64_t reads, read_bytes;      /* successful guest_ram_read calls */
	uint64_t writes, write_bytes;    /* successful guest_ram_write calls */
	uint64_t faults;                 /* reads or writes refused (outside RAM) */
	uint64_t pages;                  /* pages currently backed */
};

/* A RAM with no regions yet.  Returns NULL when out of memory. */
struct guest_ram *guest_ram_create(void);
void guest_ram_destroy(struct guest_ram *ram);

/* Add [base, base + size).  size > 0, the region may end exactly at 2^64 but not
 * wrap, and must not overlap an existing region.  0, or -1 (bad range, overlap, or
 * GUEST_RAM_MAX_REGIONS reached). */
int guest_ram_add_region(struct guest_ram *ram, uint64_t base, uint64_t size);

/* 1 when every byte of [gpa, gpa + len) lies in some region (a range may span
 * adjacent regions), else 0.  A range that would wrap past 2^64 is not contained.
 * len 0 is contained. */
int guest_ram_contains(const struct guest_ram *ram, uint64_t gpa, uint64_t len);

/* Copy len bytes; 0, or -1 with nothing done when the range is not contained (or,
 * for a write, when backing memory cannot be allocated). */
int guest_ram_read(struct guest_ram *ram, uint64_t gpa, void *buf, size_t len);
int guest_ram_write(struct guest_ram *ram, uint64_t gpa, const void *buf, size_t len);

/* val as the 8 little-endian bytes guest memory holds. */
static inline void guest_ram_le64(uint8_t out[8], uint64_t val)
{
	for (unsigned i = 0; i < 8; i++)
		out[i] = (uint8_t)(val >> (8 * i));
}

/* Little-endian 64-bit helpers on top of read/write. */
int guest_ram_read_u64(struct guest_ram *ram, uint64_t gpa, uint64_t *val);
int guest_ram_write_u64(struct guest_ram *ram, uint64_t gpa, uint64_t val);

/* Forget every page (all of RAM reads as zero again); regions are kept. */
void guest_ram_clear(struct guest_ram *ram);

void guest_ram_get_stats(const struct guest_ram *ram, struct guest_ram_stats *out);

/* The regions, for embedders that lay out memory: 0..count-1; -1 when out of range. */
unsigned guest_ram_region_count(const struct guest_ram *ram);
int guest_ram_region(const struct guest_ram *ram, unsigned i, uint64_t *base, uint64_t *size);

#endif /* HARNESS_GUEST_RAM_H */
