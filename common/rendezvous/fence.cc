#include "common/rendezvous/fence.h"

#include "common/rendezvous/kv_store.h"

namespace dstrain::rendezvous {
namespace {

// Ranks in [lo, hi) whose record is missing, found by halving ranges that
// Check says are incomplete: O(missing × log world) calls, at most `cap`
// ranks. False when the store could not answer.
bool FindMissing(KeyValueStore& store, const std::string& name, int lo, int hi,
                 std::size_t cap, std::vector<int>* missing) {
  if (lo >= hi || missing->size() >= cap) return true;
  std::vector<std::string> keys;
  keys.reserve(hi - lo);
  for (int r = lo; r < hi; ++r) keys.push_back(FenceRecordKey(name, r));
  StatusOr<bool> all = store.Check(keys);
  if (!all.ok()) return false;
  if (*all) return true;
  if (hi - lo == 1) {
    missing->push_back(lo);
    return true;
  }
  const int mid = lo + (hi - lo) / 2;
  return FindMissing(store, name, lo, mid, cap, missing) &&
         FindMissing(store, name, mid, hi, cap, missing);
}

}  // namespace

std::string FenceRecordKey(const std::string& name, int rank) {
  return name + "/r/" + std::to_string(rank);
}
std::string FenceCountKey(const std::string& name) { return name + "/count"; }
std::string FenceDoneKey(const std::string& name) { return name + "/done"; }

Status CheckFenceRequest(const FenceRequest& request) {
  if (request.name.empty()) {
    return InvalidArgument("fence: the name is empty; give the fence a name");
  }
  if (request.world < 1) {
    return InvalidArgument("fence `" + request.name + "`: world is " +
                           std::to_string(request.world) +
                           "; it must be at least 1");
  }
  const auto outside = [&](int r) { return r < 0 || r >= request.world; };
  if (outside(request.rank)) {
    return InvalidArgument(
        "fence `" + request.name + "`: rank " + std::to_string(request.rank) +
        " is outside a world of " + std::to_string(request.world));
  }
  for (int r : request.want) {
    if (outside(r)) {
      return InvalidArgument("fence `" + request.name + "`: wanted rank " +
                             std::to_string(r) + " is outside a world of " +
                             std::to_string(request.world));
    }
  }
  return Status::Ok();
}

StatusOr<FenceRecords> FenceThroughStore(KeyValueStore& store,
                                         const FenceRequest& request) {
  DSTRAIN_RETURN_IF_ERROR(CheckFenceRequest(request));
  DSTRAIN_RETURN_IF_ERROR(
      store.Set(FenceRecordKey(request.name, request.rank), request.record));
  DSTRAIN_ASSIGN_OR_RETURN(std::int64_t count,
                           store.Add(FenceCountKey(request.name), 1));
  if (count == request.world) {
    DSTRAIN_RETURN_IF_ERROR(store.Set(FenceDoneKey(request.name), "1"));
  }
  Status waited = store.Wait({FenceDoneKey(request.name)}, request.timeout);
  if (waited.code() == StatusCode::kDeadlineExceeded) {
    return DeadlineExceeded(
        "fence `" + request.name + "` of " + std::to_string(request.world) +
        " ranks did not complete within " +
        std::to_string(request.timeout.count()) + " ms" +
        FenceLatecomers(store, request.name, request.world));
  }
  DSTRAIN_RETURN_IF_ERROR(waited);
  FenceRecords records;
  for (int r : request.want) {
    DSTRAIN_ASSIGN_OR_RETURN(
        records[r],
        store.Get(FenceRecordKey(request.name, r), request.timeout));
  }
  return records;
}

std::string FenceLatecomers(KeyValueStore& store, const std::string& name,
                            int world) {
  constexpr std::size_t kNamed = 16;
  std::vector<int> missing;
  if (!FindMissing(store, name, 0, world, kNamed, &missing) ||
      missing.empty()) {
    return "";
  }
  std::string list;
  for (int r : missing) list += (list.empty() ? "" : ", ") + std::to_string(r);
  return std::string(missing.size() == 1 ? "; rank " : "; ranks ") + list +
         (missing.size() >= kNamed
              ? " (the first " + std::to_string(kNamed) + " found)"
              : "") +
         " never arrived";
}

}  // namespace dstrain::rendezvous
