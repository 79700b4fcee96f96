#include "worker/comm/bench/bench_op.h"

#include <algorithm>
#include <cctype>
#include <cstdint>

#include "common/strings.h"

namespace dstrain::comm::bench {
namespace {

std::string Canonical(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == '_' || c == '-') continue;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string KnownNames() {
  std::vector<std::string> names;
  for (BenchOp op : AllBenchOps()) names.push_back(BenchOpName(op));
  return Join(names, ", ");
}

}  // namespace

const std::vector<BenchOp>& AllBenchOps() {
  static const std::vector<BenchOp> kOps = {
      BenchOp::kAllReduce, BenchOp::kAllGather, BenchOp::kReduceScatter,
      BenchOp::kBroadcast, BenchOp::kBarrier};
  return kOps;
}

const char* BenchOpName(BenchOp op) {
  switch (op) {
    case BenchOp::kAllReduce:
      return "all_reduce";
    case BenchOp::kAllGather:
      return "all_gather";
    case BenchOp::kReduceScatter:
      return "reduce_scatter";
    case BenchOp::kBroadcast:
      return "broadcast";
    case BenchOp::kBarrier:
      return "barrier";
  }
  return "?";
}

StatusOr<BenchOp> ParseBenchOp(std::string_view name) {
  const std::string want = Canonical(name);
  for (BenchOp op : AllBenchOps()) {
    if (Canonical(BenchOpName(op)) == want) return op;
  }
  return InvalidArgument("unknown collective `" + std::string(name) +
                         "`; known: " + KnownNames() + ", all");
}

StatusOr<std::vector<BenchOp>> ParseBenchOps(std::string_view list,
                                             std::string_view flag) {
  std::vector<bool> wanted(AllBenchOps().size(), false);
  bool any = false;
  for (const std::string_view piece : Split(list, ',')) {
    const std::string_view word = Trim(piece);
    if (word.empty()) {
      return InvalidArgument(std::string(flag) +
                             ": empty collective name in `" +
                             std::string(list) + "`");
    }
    if (Canonical(word) == "all") {
      std::fill(wanted.begin(), wanted.end(), true);
      any = true;
      continue;
    }
    StatusOr<BenchOp> op = ParseBenchOp(word);
    if (!op.ok()) {
      return InvalidArgument(std::string(flag) + ": " + op.status().message());
    }
    wanted[static_cast<std::size_t>(*op)] = true;
    any = true;
  }
  if (!any) return InvalidArgument(std::string(flag) + ": no collective named");
  std::vector<BenchOp> out;
  for (BenchOp op : AllBenchOps()) {
    if (wanted[static_cast<std::size_t>(op)]) out.push_back(op);
  }
  return out;
}

double AlgBandwidthGBps(std::int64_t bytes, double seconds) {
  return AlgBandwidth(static_cast<double>(bytes), seconds) / 1e9;
}

double BusBandwidthGBps(BenchOp op, int world_size, std::int64_t bytes,
                        double seconds) {
  return AlgBandwidthGBps(bytes, seconds) * BusBandwidthFactor(op, world_size);
}

}  // namespace dstrain::comm::bench
