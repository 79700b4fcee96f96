// ExpandHostList (and the compress / expand round trip) on arbitrary text.
#include "tests/fuzz/libfuzzer/fuzz_main.h"

DSTRAIN_FUZZ_TARGET(dstrain::fuzz::CheckHostList)
