/*
 * guest_ram.c: sparse guest RAM (see guest_ram.h).
 *
 * Regions are kept as inclusive [base, last] pairs so a region may end at 2^64
 * without its end overflowing.  Backed pages live in an open-addressing hash table
 * keyed by page number (linear probing, never deleted except all at once), which
 * keeps a 64 GiB guest cheap when a test touches a handful of pages.
 */
#include "guest_ram.h"

#include <stdlib.h>
#include <string.h>

struct gram_region {
	uint64_t base, last;   /* inclusive, so [0, 2^64) is representable */
};

struct gram_slot {
	uint64_t pfn;
	uint8_t *page;         /* NULL: empty slot */
};

struct guest_ram {
	struct gram_region regions[GUEST_RAM_MAX_REGIONS];
	unsigned nr_regions;
	struct gram_slot *slots;
	size_t cap;            /* slots, a power of two (0 before the first write) */
	size_t used;
	/* The page of the last lookup: command slots, ITT and table entries come in
	 * runs on one page.  Pages are only freed all at once (gram_free_pages). */
	uint64_t last_pfn;
	uint8_t *last_page;
	struct guest_ram_stats stats;
};

struct guest_ram *guest_ram_create(void)
{
	return calloc(1, sizeof(struct guest_ram));
}

static void gram_free_pages(struct guest_ram *ram)
{
	for (size_t i = 0; i < ram->cap; i++)
		free(ram->slots[i].page);
	free(ram->slots);
	ram->slots = NULL;
	ram->cap = 0;
	ram->last_page = NULL;
	ram->used = 0;
}

void guest_ram_destroy(struct guest_ram *ram)
{
	if (!ram)
		return;
	gram_free_pages(ram);
	free(ram);
}

void guest_ram_clear(struct guest_ram *ram)
{
	gram_free_pages(ram);
	ram->stats.pages = 0;
}

int guest_ram_add_region(struct guest_ram *ram, uint64_t base, uint64_t size)
{
	if (!ram || size == 0 || ram->nr_regions >= GUEST_RAM_MAX_REGIONS)
		return -1;
	if (size - 1 > UINT64_MAX - base)
		return -1;
	uint64_t last = base + (size - 1);
	for (unsigned i = 0; i < ram->nr_regions; i++) {
		const struct gram_region *r = &ram->regions[i];
		if (base <= r->last && r->base <= last)
			return -1;
	}
	ram->regions[ram->nr_regions].base = base;
	ram->regions[ram->nr_regions].last = last;
	ram->nr_regions++;
	return 0;
}

unsigned guest_ram_region_count(const struct guest_ram *ram)
{
	return ram->nr_regions;
}

int guest_ram_region(const struct guest_ram *ram, unsigned i, uint64_t *base, uint64_t *size)
{
	if (i >= ram->nr_regions)
		return -1;
	*base = ram->regions[i].base;
	/* A region covering all 2^64 bytes cannot report its size; it wraps to 0. */
	*size = ram->regions[i].last - ram->regions[i].base + 1;
	return 0;
}

int guest_ram_contains(const struct guest_ram *ram, uint64_t gpa, uint64_t len)
{
	if (len == 0)
		return 1;
	if (len - 1 > UINT64_MAX - gpa)
		return 0;
	uint64_t last = gpa + (len - 1);
	uint64_t cur = gpa;
	/* Each step consumes one region, so at most nr_regions steps. */
	for (unsigned step = 0; step <= ram->nr_regions; step++) {
		const struct gram_region *hit = NULL;
		for (unsigned i = 0; i < ram->nr_regions; i++) {
			if (ram->regions[i].base <= cur && cur <= ram->regions[i].last) {
				hit = &ram->regions[i];
				break;
			}
		}
		if (!hit)
			return 0;
		if (last <= hit->last)
			return 1;
		cur = hit->last + 1;   /* hit->last < last, so no wrap */
	}
	return 0;
}

/* splitmix64 finaliser: page numbers are sequential, so spread them over the table. */
static size_t gram_hash(uint64_t pfn)
{
	pfn ^= pfn >> 30;
	pfn *= 0xbf58476d1ce4e5b9ull;
	pfn ^= pfn >> 27;
	pfn *= 0x94d049bb133111ebull;
	pfn ^= pfn >> 31;
	return (size_t)pfn;
}

static uint8_t *gram_lookup(struct guest_ram *ram, uint64_t pfn)
{
	if (ram->last_page != NULL && ram->last_pfn == pfn)
		return ram->last_page;
	if (ram->cap == 0)
		return NULL;
	size_t mask = ram->cap - 1;
	for (size_t i = gram_hash(pfn) & mask;; i = (i + 1) & mask) {
		if (!ram->slots[i].page)
			return NULL;
		if (ram->slots[i].pfn == pfn) {
			ram->last_pfn = pfn;
			ram->last_page = ram->slots[i].page;
			return ram->last_page;
		}
	}
}

static void gram_insert_slot(struct gram_slot *slots, size_t cap, uint64_t pfn, uint8_t *page)
{
	size_t mask = cap - 1;
	size_t i = gram_hash(pfn) & mask;
	while (slots[i].page)
		i = (i + 1) & mask;
	slots[i].pfn = pfn;
	slots[i].page = page;
}

/* Keep the load factor at or below 1/2 so probes stay short. */
static int gram_grow(struct guest_ram *ram)
{
	size_t ncap = ram->cap ? ram->cap * 2 : 64;
	struct gram_slot *ns = calloc(ncap, sizeof(*ns));
	if (!ns)
		return -1;
	for (size_t i = 0; i < ram->cap; i++)
		if (ram->slots[i].page)
			gram_insert_slot(ns, ncap, ram->slots[i].pfn, ram->slots[i].page);
	free(ram->slots);
	ram->slots = ns;
	ram->cap = ncap;
	return 0;
}

static uint8_t *gram_get_or_add(struct guest_ram *ram, uint64_t pfn)
{
	uint8_t *p = gram_lookup(ram, pfn);
	if (p)
		return p;
	if ((ram->used + 1) * 2 > ram->cap && gram_grow(ram))
		return NULL;
	p = calloc(1, GUEST_RAM_PAGE_SIZE);
	if (!p)
		return NULL;
	gram_insert_slot(ram->slots, ram->cap, pfn, p);
	ram->used++;
	ram->stats.pages = ram->used;
	return p;
}

int guest_ram_read(struct guest_ram *ram, uint64_t gpa, void *buf, size_t len)
{
	if (!guest_ram_contains(ram, gpa, len)) {
		ram->stats.faults++;
		return -1;
	}
	uint8_t *out = buf;
	size_t done = 0;
	while (done < len) {
		uint64_t a = gpa + done;
		size_t off = (size_t)(a & (GUEST_RAM_PAGE_SIZE - 1));
		size_t n = GUEST_RAM_PAGE_SIZE - off;
		if (n > len - done)
			n = len - done;
		const uint8_t *p = gram_lookup(ram, a >> GUEST_RAM_PAGE_SHIFT);
		if (p)
			memcpy(out + done, p + off, n);
		else
			memset(out + done, 0, n);
		done += n;
	}
	ram->stats.reads++;
	ram->stats.read_bytes += len;
	return 0;
}

int guest_ram_write(struct guest_ram *ram, uint64_t gpa, const void *buf, size_t len)
{
	if (!guest_ram_contains(ram, gpa, len)) {
		ram->stats.faults++;
		return -1;
	}
	/* Back every page first: a failed allocation then leaves RAM as it was, since
	 * fresh pages read as zero exactly like missing ones. */
	for (size_t done = 0; done < len;) {
		uint64_t a = gpa + done;
		size_t n = GUEST_RAM_PAGE_SIZE - (size_t)(a & (GUEST_RAM_PAGE_SIZE - 1));
		if (!gram_get_or_add(ram, a >> GUEST_RAM_PAGE_SHIFT))
			return -1;
		done += n < len - done ? n : len - done;
	}
	const uint8_t *in = buf;
	for (size_t done = 0; done < len;) {
		uint64_t a = gpa + done;
		size_t off = (size_t)(a & (GUEST_RAM_PAGE_SIZE - 1));
		size_t n = GUEST_RAM_PAGE_SIZE - off;
		if (n > len - done)
			n = len - done;
		memcpy(gram_lookup(ram, a >> GUEST_RAM_PAGE_SHIFT) + off, in + done, n);
		done += n;
	}
	ram->stats.writes++;
	ram->stats.write_bytes += len;
	return 0;
}

int guest_ram_read_u64(struct guest_ram *ram, uint64_t gpa, uint64_t *val)
{
	uint8_t b[8];
	if (guest_ram_read(ram, gpa, b, sizeof(b)))
		return -1;
	uint64_t v = 0;
	for (unsigned i = 0; i < 8; i++)
		v |= (uint64_t)b[i] << (8 * i);
	*val = v;
	return 0;
}

int guest_ram_write_u64(struct guest_ram *ram, uint64_t gpa, uint64_t val)
{
	uint8_t b[8];
	guest_ram_le64(b, val);
	return guest_ram_write(ram, gpa, b, sizeof(b));
}

void guest_ram_get_stats(const struct guest_ram *ram, struct guest_ram_stats *out)
{
	*out = ram->stats;
}
