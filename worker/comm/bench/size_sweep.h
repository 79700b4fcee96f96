#pragma once
// Message sizes for `dstrain bench comm`: the ×4 sweep and the element
// counts each collective's buffers get. Pure.
//
// Sizes are bytes, given as nccl-tests' -b/-e take them ("256M": read and
// written by common/units.h). The size of a row is, as in nccl-tests, the
// size of the full buffer: the all-reduce/broadcast buffer, the all-gather
// output, the reduce-scatter input.

#include <cstdint>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "worker/comm/bench/bench_op.h"

namespace dstrain::comm::bench {

// min, min·factor, min·factor², … while ≤ max, then max itself if the steps
// did not land on it (so 8 B…256 MiB by ×4 ends 128M, 256M: both ends of the
// asked range are measured). Needs 1 ≤ min ≤ max and factor ≥ 2.
StatusOr<std::vector<std::int64_t>> SweepSizes(std::int64_t min_bytes,
                                               std::int64_t max_bytes,
                                               int factor = 4);

// The ×4 sweep between the texts of --min-bytes and --max-bytes ("8",
// "256M"); errors name the flags.
StatusOr<std::vector<std::int64_t>> SweepSizesFromFlags(
    std::string_view min_bytes, std::string_view max_bytes);

// The buffers one row uses. Counts round down to whole elements (and, for
// all-gather and reduce-scatter, to a multiple of the world size, as
// nccl-tests), with at least one element per rank; `bytes` is the size
// actually moved, which the row reports.
struct BufferShape {
  std::int64_t count = 0;           // elements of the full buffer
  std::int64_t count_per_rank = 0;  // all-gather input, reduce-scatter output
  std::int64_t bytes = 0;           // count × element size
};
BufferShape ShapeFor(BenchOp op, std::int64_t bytes, int element_size,
                     int world_size);

}  // namespace dstrain::comm::bench
