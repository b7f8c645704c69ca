/*
 * test_guest_ram.c: sparse guest RAM: bounds, overflow at 2^64, sparse backing,
 * zero reads of untouched pages, no partial writes, adjacent regions.
 */
#include <string.h>

#include "guest_ram.h"
#include "tcheck.h"

static void t_bounds(struct tstate *t)
{
	struct guest_ram *ram = guest_ram_create();
	if (!ram || guest_ram_add_region(ram, 0x40000000, 0x10000))
		t_broken("guest_ram setup");
	T_EQ(t, "contains: whole region", 1, guest_ram_contains(ram, 0x40000000, 0x10000));
	T_EQ(t, "contains: one byte past the end", 0, guest_ram_contains(ram, 0x40000000, 0x10001));
	T_EQ(t, "contains: one byte before the start", 0, guest_ram_contains(ram, 0x3fffffff, 2));
	T_EQ(t, "contains: last byte", 1, guest_ram_contains(ram, 0x4000ffff, 1));
	T_EQ(t, "contains: first byte after", 0, guest_ram_contains(ram, 0x40010000, 1));
	T_EQ(t, "contains: len 0 is contained", 1, guest_ram_contains(ram, 0, 0));

	uint8_t buf[16] = { 0 };
	T_EQ(t, "read straddling the end fails", -1, guest_ram_read(ram, 0x4000fff8, buf, 16));
	T_EQ(t, "read below the region fails", -1, guest_ram_read(ram, 0x3ffffff8, buf, 16));
	memset(buf, 0xab, sizeof(buf));
	T_EQ(t, "write straddling the end fails", -1, guest_ram_write(ram, 0x4000fff8, buf, 16));
	uint8_t back[8];
	T_EQ(t, "last 8 bytes readable", 0, guest_ram_read(ram, 0x4000fff8, back, 8));
	T_EQ(t, "no partial write: byte 0 of the failed write still zero", 0, back[0]);
	T_EQ(t, "no partial write: byte 7 still zero", 0, back[7]);

	struct guest_ram_stats st;
	guest_ram_get_stats(ram, &st);
	T_EQ(t, "faults counted", 3, st.faults);
	T_EQ(t, "successful reads counted", 1, st.reads);
	T_EQ(t, "no page backed by failed writes", 0, st.pages);

	T_EQ(t, "overlapping region refused", -1, guest_ram_add_region(ram, 0x4000f000, 0x2000));
	T_EQ(t, "zero-size region refused", -1, guest_ram_add_region(ram, 0x1000, 0));
	guest_ram_destroy(ram);
}

static void t_overflow(struct tstate *t)
{
	struct guest_ram *ram = guest_ram_create();
	if (!ram)
		t_broken("guest_ram_create");
	T_EQ(t, "region wrapping past 2^64 refused", -1,
	     guest_ram_add_region(ram, UINT64_MAX - 0xfff, 0x2000));
	T_EQ(t, "region ending exactly at 2^64 accepted", 0,
	     guest_ram_add_region(ram, UINT64_MAX - 0xfff, 0x1000));
	T_EQ(t, "contains: last byte of the address space", 1,
	     guest_ram_contains(ram, UINT64_MAX, 1));
	T_EQ(t, "contains: range wrapping to 0 refused", 0, guest_ram_contains(ram, UINT64_MAX, 2));
	T_EQ(t, "contains: huge len refused", 0, guest_ram_contains(ram, UINT64_MAX - 0xfff, UINT64_MAX));
	T_EQ(t, "contains: len 2^64-1 from 1 refused", 0, guest_ram_contains(ram, 1, UINT64_MAX));
	uint8_t b[4] = { 1, 2, 3, 4 };
	T_EQ(t, "write of the top 4 bytes", 0, guest_ram_write(ram, UINT64_MAX - 3, b, 4));
	T_EQ(t, "write wrapping past 2^64 refused", -1, guest_ram_write(ram, UINT64_MAX - 1, b, 4));
	uint8_t r[4] = { 0 };
	T_EQ(t, "read back the top 4 bytes", 0, guest_ram_read(ram, UINT64_MAX - 3, r, 4));
	T_EQ(t, "top byte value", 4, r[3]);
	/* A region at 0 and the top one do not make a wrapping range contained. */
	T_EQ(t, "region at 0 accepted", 0, guest_ram_add_region(ram, 0, 0x1000));
	T_EQ(t, "contains: top-to-0 wrap still refused", 0, guest_ram_contains(ram, UINT64_MAX, 2));
	guest_ram_destroy(ram);
}

static void t_sparse(struct tstate *t)
{
	struct guest_ram *ram = guest_ram_create();
	/* 64 GiB guest: only touched pages may be backed. */
	if (!ram || guest_ram_add_region(ram, 0x40000000, 64ull << 30))
		t_broken("64 GiB region");
	uint8_t z[64];
	memset(z, 0x5a, sizeof(z));
	T_EQ(t, "read of a never-written page", 0, guest_ram_read(ram, 0x40000000 + (32ull << 30), z, 64));
	int zeros = 1;
	for (unsigned i = 0; i < sizeof(z); i++)
		zeros &= z[i] == 0;
	T_EQ(t, "never-written page reads as zeros", 1, zeros);

	struct guest_ram_stats st;
	guest_ram_get_stats(ram, &st);
	T_EQ(t, "reads do not back pages", 0, st.pages);

	/* A write straddling a page boundary backs exactly two pages. */
	uint8_t w[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	uint64_t at = 0x40000000 + (10ull << 30) + 0xffc;
	T_EQ(t, "write across a page boundary", 0, guest_ram_write(ram, at, w, 8));
	guest_ram_get_stats(ram, &st);
	T_EQ(t, "two pages backed", 2, st.pages);
	uint8_t rb[8] = { 0 };
	T_EQ(t, "read across the boundary", 0, guest_ram_read(ram, at, rb, 8));
	T_EQ(t, "bytes round-trip", 0, memcmp(w, rb, 8));

	/* Many scattered pages: the hash table grows and finds them all. */
	for (uint64_t i = 0; i < 5000; i++)
		guest_ram_write_u64(ram, 0x40000000 + i * 0x101000, i * 7 + 1);
	int all = 1;
	for (uint64_t i = 0; i < 5000; i++) {
		uint64_t v = 0;
		all &= guest_ram_read_u64(ram, 0x40000000 + i * 0x101000, &v) == 0 && v == i * 7 + 1;
	}
	T_EQ(t, "5000 scattered u64 round-trip", 1, all);
	guest_ram_get_stats(ram, &st);
	T_EQ(t, "pages backed after scatter", 5002, st.pages);

	guest_ram_clear(ram);
	uint64_t v = 1;
	guest_ram_read_u64(ram, 0x40000000, &v);
	T_EQ(t, "clear: reads zero again", 0, v);
	guest_ram_get_stats(ram, &st);
	T_EQ(t, "clear: no page backed", 0, st.pages);
	guest_ram_destroy(ram);
}

static void t_adjacent(struct tstate *t)
{
	struct guest_ram *ram = guest_ram_create();
	if (!ram || guest_ram_add_region(ram, 0x2000, 0x1000) ||
	    guest_ram_add_region(ram, 0x1000, 0x1000) || guest_ram_add_region(ram, 0x5000, 0x1000))
		t_broken("adjacent regions");
	T_EQ(t, "range spanning two adjacent regions", 1, guest_ram_contains(ram, 0x1ff0, 0x20));
	T_EQ(t, "range spanning a hole", 0, guest_ram_contains(ram, 0x2ff0, 0x2020));
	uint8_t b[32] = { 9 };
	T_EQ(t, "write spanning adjacent regions", 0, guest_ram_write(ram, 0x1ff0, b, 32));
	T_EQ(t, "region count", 3, guest_ram_region_count(ram));
	uint64_t base = 0, size = 0;
	T_EQ(t, "region 1 query", 0, guest_ram_region(ram, 1, &base, &size));
	T_EQ(t, "region 1 base", 0x1000, base);
	T_EQ(t, "region 1 size", 0x1000, size);
	T_EQ(t, "region out of range", -1, guest_ram_region(ram, 3, &base, &size));
	guest_ram_destroy(ram);
}

int main(void)
{
	struct tstate t = { 0 };
	t_bounds(&t);
	t_overflow(&t);
	t_sparse(&t);
	t_adjacent(&t);
	return t_finish(&t, "test_guest_ram");
}
