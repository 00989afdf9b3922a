// The header carries the wrappers; SwiftPM needs one source file for a C target.
#include "ccurl.h"
