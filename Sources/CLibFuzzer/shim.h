// libFuzzer's entry point for a program that has its own main (LLVM 11 and later). Only a
// build with `-sanitize=fuzzer` links libFuzzer, and only such a build (compiled with
// -DLETHE_LIBFUZZER) calls it; see Scripts/fuzz.sh.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
