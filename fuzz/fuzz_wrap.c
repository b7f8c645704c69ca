/*
 * fuzz_wrap.c: libFuzzer target "wrap" (docs/fuzzing.md).  The input is a program of
 * guest operations (fuzz_prog.h); the oracles abort on the first failure.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_prog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int fuzz_target_write_itr(const uint8_t *data, size_t size, const char *path);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_run(FZ_T_WRAP, data, size);
	return 0;
}

/* The standalone driver's --itr: the trace of running this input. */
int fuzz_target_write_itr(const uint8_t *data, size_t size, const char *path)
{
	return fuzz_write_itr(FZ_T_WRAP, data, size, path);
}
