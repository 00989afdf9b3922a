#include "cmalloc.h"

// Any C library header defines __GLIBC__ on glibc; <stddef.h> is the compiler's own and does not.
#include <stdlib.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

int cmalloc_keep_free(size_t bytes) {
#if defined(__GLIBC__)
    return mallopt(M_TRIM_THRESHOLD, (int)bytes);
#else
    (void)bytes;
    return 0;
#endif
}
