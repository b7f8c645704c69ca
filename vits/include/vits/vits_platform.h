/*
 * vits_platform.h: the engine's only platform seam.
 *
 * Everything vits/ needs from its environment comes through this header: fixed-width
 * integer types and the four memory primitives.  It includes freestanding headers
 * only (C11 4p6), so the engine builds with -ffreestanding -nostdlib.  A hypervisor
 * that lacks these headers drops in its own copy of this file that provides the same
 * names; nothing else in vits/ needs porting.
 */
#ifndef VITS_PLATFORM_H
#define VITS_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Compilers lower these to inline code or to memcpy/memset/memmove/memcmp, which
 * every freestanding environment must provide (C11 and GCC's documented contract). */
#define vits_memcpy(d, s, n)  __builtin_memcpy((d), (s), (n))
#define vits_memset(d, c, n)  __builtin_memset((d), (c), (n))
#define vits_memmove(d, s, n) __builtin_memmove((d), (s), (n))
#define vits_memcmp(a, b, n)  __builtin_memcmp((a), (b), (n))

#define vits_likely(x)   __builtin_expect(!!(x), 1)
#define vits_unlikely(x) __builtin_expect(!!(x), 0)

#endif /* VITS_PLATFORM_H */
