// Only a header: the definition of LLVMFuzzerRunDriver comes from libFuzzer, linked by -sanitize=fuzzer.
#include "FuzzDriver.h"
