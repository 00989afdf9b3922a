#ifndef SLOTD_FUZZ_DRIVER_H
#define SLOTD_FUZZ_DRIVER_H

#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver (in libFuzzer since LLVM 12). SwiftPM links an executable with `main` aliased to
/// `<Module>_main`, which libFuzzer's own `main` cannot fill; each target defines that symbol and calls this.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
