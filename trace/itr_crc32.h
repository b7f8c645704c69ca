/*
 * itr_crc32.h: CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of
 * .itr headers and blocks.  Chosen over the zlib CRC-32 because x86-64 (SSE4.2) and
 * Arm v8 compute it in hardware, which keeps checksums off the reader's profile.
 */
#ifndef ITR_CRC32_H
#define ITR_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* Continue a CRC: start with crc = 0; itr_crc32c(itr_crc32c(0, a), b) == crc of a||b.
 * itr_crc32c(0, "123456789", 9) == 0xE3069283. */
uint32_t itr_crc32c(uint32_t crc, const void *buf, size_t len);

/* The portable table-driven path alone, for tests and benchmarks. */
uint32_t itr_crc32c_soft(uint32_t crc, const void *buf, size_t len);

#endif /* ITR_CRC32_H */
