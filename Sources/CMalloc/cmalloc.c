#include "cmalloc.h"

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
