#pragma once
// What every rank of a group must agree on before a collective starts: the
// operation, the dtype, the element count and the operation's argument (the
// reduce op, or the broadcast root). The shape checker
// (checked_communicator.h) all-gathers one Fingerprint per rank and compares
// them here. Pure; no torch.

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace dstrain::comm {

enum class CollectiveKind : std::int64_t {
  kAllReduce = 1,
  kAllGather = 2,
  kReduceScatter = 3,
  kBroadcast = 4,
  kBarrier = 5,
  kSplit = 6,
};

// "all-reduce", "all-gather", ...
const char* CollectiveKindName(CollectiveKind kind);

struct Fingerprint {
  static constexpr int kWords = 4;

  CollectiveKind kind = CollectiveKind::kBarrier;
  std::string dtype;  // "float32"; empty for barrier and split
  // Elements per rank: all-reduce and broadcast: the tensor; all-gather:
  // the input; reduce-scatter: the output. 0 for barrier and split.
  std::int64_t numel = 0;
  // The reduce op's name ("sum") or "root 2"; empty when there is none.
  std::string arg;
  // Numeric codes for the exchange (ToWords): any stable numbering of the
  // dtypes and of the reduce ops / roots chosen by the caller.
  std::int64_t dtype_code = 0;
  std::int64_t arg_code = 0;

  bool operator==(const Fingerprint& o) const {
    return kind == o.kind && dtype_code == o.dtype_code && numel == o.numel &&
           arg_code == o.arg_code;
  }
  // "all-reduce of 4096 x float32 (sum)", "broadcast of 7 x int64 (root 1)",
  // "barrier".
  std::string Describe() const;
};

// The words one rank contributes to the exchange: kind, dtype code, numel,
// arg code.
std::vector<std::int64_t> ToWords(const Fingerprint& f);

// OK when every rank's fingerprint is the same. Otherwise INVALID_ARGUMENT
// naming `what` and, for every distinct fingerprint, the ranks that gave it:
//   "gloo all-reduce #3: ranks disagree on the collective: ranks 0, 1:
//    all-reduce of 7 x float32 (sum); rank 2: all-reduce of 8 x float32
//    (sum)"
// `all[r]` is rank r's fingerprint; equality looks at the codes, the
// message at the names (the caller, which knows the codes, fills them in).
Status CompareFingerprints(const std::string& what,
                           const std::vector<Fingerprint>& all);

}  // namespace dstrain::comm
