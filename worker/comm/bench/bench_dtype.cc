#include "worker/comm/bench/bench_dtype.h"

#include <cctype>
#include <string>

namespace dstrain::comm::bench {

const char* BenchDtypeName(BenchDtype dtype) {
  switch (dtype) {
    case BenchDtype::kFloat32:
      return "float32";
    case BenchDtype::kFloat16:
      return "float16";
    case BenchDtype::kBFloat16:
      return "bfloat16";
    case BenchDtype::kFloat64:
      return "float64";
    case BenchDtype::kInt32:
      return "int32";
    case BenchDtype::kInt64:
      return "int64";
    case BenchDtype::kUint8:
      return "uint8";
  }
  return "?";
}

int BenchDtypeSize(BenchDtype dtype) {
  switch (dtype) {
    case BenchDtype::kFloat16:
    case BenchDtype::kBFloat16:
      return 2;
    case BenchDtype::kFloat32:
    case BenchDtype::kInt32:
      return 4;
    case BenchDtype::kFloat64:
    case BenchDtype::kInt64:
      return 8;
    case BenchDtype::kUint8:
      return 1;
  }
  return 1;
}

StatusOr<BenchDtype> ParseBenchDtype(std::string_view name,
                                     std::string_view flag) {
  std::string s;
  for (char ch : name) {
    s += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  }
  static const struct {
    const char* name;
    BenchDtype dtype;
  } kAliases[] = {
      {"fp32", BenchDtype::kFloat32},  {"float", BenchDtype::kFloat32},
      {"fp16", BenchDtype::kFloat16},  {"half", BenchDtype::kFloat16},
      {"bf16", BenchDtype::kBFloat16}, {"fp64", BenchDtype::kFloat64},
      {"double", BenchDtype::kFloat64}};
  for (BenchDtype d :
       {BenchDtype::kFloat32, BenchDtype::kFloat16, BenchDtype::kBFloat16,
        BenchDtype::kFloat64, BenchDtype::kInt32, BenchDtype::kInt64,
        BenchDtype::kUint8}) {
    if (s == BenchDtypeName(d)) return d;
  }
  for (const auto& a : kAliases) {
    if (s == a.name) return a.dtype;
  }
  return InvalidArgument(
      std::string(flag) + ": unknown dtype `" + std::string(name) +
      "` (float32, float16, bfloat16, float64, int32, int64, uint8)");
}

}  // namespace dstrain::comm::bench
