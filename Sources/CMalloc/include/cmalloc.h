// glibc's malloc settings, which Swift's Glibc module does not expose (<malloc.h>).
#ifndef SLOTD_CMALLOC_H
#define SLOTD_CMALLOC_H

#include <stddef.h>

/// Lets up to `bytes` stay free at the top of a malloc heap before glibc gives it back to the kernel
/// (`M_TRIM_THRESHOLD`); returns 1 when set, 0 where the C library has no such setting.
int cmalloc_keep_free(size_t bytes);

#endif
