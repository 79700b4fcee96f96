#pragma once
// The element types `dstrain bench comm --dtype` takes: communicator.h's
// list, named as the reports name them. Pure (no torch), so the CLI checks
// the flag before it starts any rank; comm_sweep.cc maps them to libtorch's.

#include <string_view>

#include "common/status.h"

namespace dstrain::comm::bench {

enum class BenchDtype {
  kFloat32,
  kFloat16,
  kBFloat16,
  kFloat64,
  kInt32,
  kInt64,
  kUint8
};

// "float32", "float16", "bfloat16", "float64", "int32", "int64", "uint8".
const char* BenchDtypeName(BenchDtype dtype);

int BenchDtypeSize(BenchDtype dtype);  // bytes per element

// The names above, or fp32/float, fp16/half, bf16, fp64/double;
// case-insensitive. Errors name `flag`.
StatusOr<BenchDtype> ParseBenchDtype(std::string_view name,
                                     std::string_view flag);

}  // namespace dstrain::comm::bench
