// ParseSlurmTopology on arbitrary text.
#include "tests/fuzz/libfuzzer/fuzz_main.h"

DSTRAIN_FUZZ_TARGET(dstrain::fuzz::CheckSlurmTopology)
