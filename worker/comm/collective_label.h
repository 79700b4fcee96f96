#pragma once
// How a collective is named in errors, the same way for every backend:
//   "gloo all-reduce #17 (4096 x float32)"
// and the timeout message built on it (communicator.h states the format):
//   "gloo all-reduce #17 (4096 x float32) timed out after 30 s on rank 0;
//    ranks 2, 3 never arrived"
// Pure functions of their arguments; no torch here, so the progress board and
// the tests use them without libtorch.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace dstrain::comm {

struct CollectiveLabel {
  std::string backend;   // "gloo"
  std::string op;        // "all-reduce", "all-gather", "barrier", ...
  std::int64_t seq = 0;  // 1-based, per communicator, in issue order
  std::int64_t numel = 0;
  std::string dtype;  // "float32"; empty for a barrier
};

// "gloo all-reduce #17 (4096 x float32)"; "gloo barrier #3".
std::string Describe(const CollectiveLabel& label);

// "30 s", "1.5 s", "250 ms".
std::string FormatDuration(std::chrono::milliseconds d);

// "rank 2" or "ranks 2, 3, 5".
std::string FormatRanks(const std::vector<int>& ranks);

// DEADLINE_EXCEEDED with the contract's message. `missing` is nullopt when
// nobody could say which ranks were missing (no board, or reading it
// failed: `why_unknown` says why); an empty list means every rank arrived.
Status TimeoutError(const CollectiveLabel& label,
                    std::chrono::milliseconds timeout, int rank,
                    const std::optional<std::vector<int>>& missing,
                    const std::string& why_unknown = "");

}  // namespace dstrain::comm
