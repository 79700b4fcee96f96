#pragma once
// The bandwidths and latencies of cluster files (`400 Gb/s`, `1 us`) are
// read and written by common/units.h, whose functions dstrain::topology
// code calls unqualified. This header only forwards to it, for the loaders
// that include it.

#include "common/units.h"
