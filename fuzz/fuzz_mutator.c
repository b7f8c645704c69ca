/*
 * fuzz_mutator.c: the structure-aware mutator of the program targets
 * (LLVMFuzzerCustomMutator).  It works on whole operations: insert a fresh one,
 * delete, swap, duplicate, set one field to an edge value, retune the header; one time
 * in four it leaves the bytes to libFuzzer's own mutator (LLVMFuzzerMutate), which the
 * dictionaries steer.  Every result is a valid program, as every byte string is.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_prog.h"

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);

static uint32_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (uint32_t)(*s >> 11);
}

/* Edge values for a field byte: the pickers in fuzz_prog.c treat >= 0xe0 / 0xf0 as
 * "an edge of the geometry", small values as IDs that collide. */
static const uint8_t edges[] = { 0x00, 0x01, 0x02, 0x03, 0x07, 0x0f, 0x10, 0x1f, 0x20, 0x7f,
				 0x80, 0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xf0,
				 0xf1, 0xf2, 0xf3, 0xfe, 0xff };

/* Kinds weighted towards commands and kicks. */
static unsigned pick_kind(uint64_t *s)
{
	static const uint8_t w[FZ_OP_COUNT] = {
		[FZ_OP_CMD] = 30, [FZ_OP_RAWCMD] = 2, [FZ_OP_BURST] = 4, [FZ_OP_KICK] = 12,
		[FZ_OP_CWRITER] = 4, [FZ_OP_CBASER] = 3, [FZ_OP_CTLR] = 3, [FZ_OP_BASER] = 2,
		[FZ_OP_L1] = 1, [FZ_OP_PROP] = 10, [FZ_OP_MSI] = 8, [FZ_OP_RESUME] = 4,
		[FZ_OP_DRAIN] = 4, [FZ_OP_PROPTABLE] = 1, [FZ_OP_MMIO] = 3, [FZ_OP_HOSTLPI] = 4,
		[FZ_OP_ASSIGN] = 2, [FZ_OP_RESET] = 1,
	};
	unsigned total = 0;
	for (unsigned i = 0; i < FZ_OP_COUNT; i++)
		total += w[i];
	unsigned p = rnd(s) % total;
	for (unsigned i = 0; i < FZ_OP_COUNT; i++) {
		if (p < w[i])
			return i;
		p -= w[i];
	}
	return FZ_OP_CMD;
}

static uint8_t field_byte(uint64_t *s)
{
	unsigned r = rnd(s) % 8;
	if (r < 5)
		return (uint8_t)(rnd(s) & 0x0f);      /* small: colliding IDs */
	if (r < 7)
		return edges[rnd(s) % sizeof(edges)];
	return (uint8_t)rnd(s);
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
	uint64_t s = seed * 0x9e3779b97f4a7c15ull + 1;
	if (size < FZ_HDR_BYTES || rnd(&s) % 4 == 0) {
		if (size < FZ_HDR_BYTES && max_size >= FZ_HDR_BYTES) {
			memset(data + size, 0, FZ_HDR_BYTES - size);
			size = FZ_HDR_BYTES;
		}
		return LLVMFuzzerMutate(data, size, max_size);
	}
	size_t starts[FZ_MAX_OPS + 1];
	size_t n = fuzz_split_ops(data, size, starts, FZ_MAX_OPS);
	starts[n] = size;
	uint8_t tmp[64];
	/* Cases 0..5 work on operations; a new header (case 6, 1 in 24) is rarer, as it
	 * costs a new engine instance (fuzz_prog.c caches one per geometry). */
	unsigned what = rnd(&s) % 24;
	if (what > 6)
		what = rnd(&s) % 6;
	switch (what) {
	case 0:
	case 1: {       /* insert a fresh op at an op boundary */
		unsigned k = pick_kind(&s), len = 1 + fuzz_op_len(k);
		if (size + len > max_size)
			break;
		size_t at = n ? starts[rnd(&s) % (n + 1)] : size;
		tmp[0] = (uint8_t)k;
		for (unsigned i = 1; i < len; i++)
			tmp[i] = field_byte(&s);
		if (k == FZ_OP_CMD)
			tmp[6] |= (uint8_t)(rnd(&s) & 2);        /* often kick after it */
		memmove(data + at + len, data + at, size - at);
		memcpy(data + at, tmp, len);
		return size + len;
	}
	case 2: {       /* delete an op */
		if (n == 0)
			break;
		size_t i = rnd(&s) % n, a = starts[i], b = starts[i + 1];
		memmove(data + a, data + b, size - b);
		return size - (b - a);
	}
	case 3: {       /* swap two adjacent ops */
		if (n < 2)
			break;
		size_t i = rnd(&s) % (n - 1);
		size_t a = starts[i], b = starts[i + 1], c = starts[i + 2];
		uint8_t buf[128];
		if (c - a > sizeof(buf))
			break;
		memcpy(buf, data + b, c - b);
		memcpy(buf + (c - b), data + a, b - a);
		memcpy(data + a, buf, c - a);
		return size;
	}
	case 4: {       /* duplicate an op */
		if (n == 0)
			break;
		size_t i = rnd(&s) % n, a = starts[i], len = starts[i + 1] - a;
		if (size + len > max_size || len > sizeof(tmp))
			break;
		memcpy(tmp, data + a, len);
		memmove(data + a + len, data + a, size - a);
		memcpy(data + a, tmp, len);
		return size + len;
	}
	case 5: {       /* set one field of an op to an edge value */
		if (n == 0)
			break;
		size_t i = rnd(&s) % n, a = starts[i], len = starts[i + 1] - a;
		if (len < 2)
			break;
		data[a + 1 + rnd(&s) % (len - 1)] = edges[rnd(&s) % sizeof(edges)];
		return size;
	}
	case 6:         /* retune the header */
		data[rnd(&s) % FZ_HDR_BYTES] ^= (uint8_t)(1u << (rnd(&s) % 8));
		return size;
	default:
		break;
	}
	return LLVMFuzzerMutate(data, size, max_size);
}
