#pragma once
// The rendezvous key-value store, one namespace per job: ranks bootstrap
// their communicators through it (Gloo addresses, NCCL unique ids,
// barriers). Knows nothing of gRPC.
//
// A job's namespace exists from OpenJob (at launch) until DropJob (when the
// job ends); operations on any other job id fail with NOT_FOUND, so a stale
// worker cannot write into a later job. Values are bytes; Add keeps decimal
// integers, as c10d's stores do, so Get on an Add key returns e.g. "3".
//
// Waits are asynchronous: WaitAsync registers a callback that runs once,
// with OK when every key exists (at once, on the calling thread, if they
// already do), or with an error when the job's namespace is dropped or
// CancelAllWaits is called. Callbacks run on the thread that completed them
// (Set/Add/CompareSet/DropJob's caller), never under the store's lock, so
// they may call back into the store. CancelWait removes a waiter that has
// not fired; after it returns the callback will not start (it may still be
// running on another thread if it had started already).
//
// Thread-safe: mu_ guards jobs_, waiters_ and watch_ together (a completed
// waiter must leave waiters_ in the same critical section that saw its
// keys).

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"

namespace dstrain::coordinator {

class RendezvousStore {
 public:
  using WaiterId = std::uint64_t;  // 0 is never a live waiter
  using WaitCallback = std::function<void(const Status&)>;

  struct CheckResult {
    std::vector<std::string> missing;  // requested keys absent, in order
    std::int64_t num_keys = 0;         // keys in the job's namespace
  };

  // Creates the job's empty namespace; OK if it exists already.
  void OpenJob(const std::string& job_id);
  // Drops the namespace and fails its waiters with `reason` (not OK).
  void DropJob(const std::string& job_id, const Status& reason);
  bool HasJob(const std::string& job_id) const;

  Status Set(const std::string& job_id, const std::string& key,
             const std::string& value);
  // nullopt when the key is absent (no waiting).
  StatusOr<std::optional<std::string>> Get(const std::string& job_id,
                                           const std::string& key) const;
  // Adds `delta` to the integer at `key` (absent = 0); returns the sum.
  StatusOr<std::int64_t> Add(const std::string& job_id, const std::string& key,
                             std::int64_t delta);
  // Sets `key` to `desired` when it holds `expected`, or when it is absent
  // and `expected` is empty; returns the value after the call (`expected`
  // when the key is absent and `expected` is not empty: nothing is set).
  StatusOr<std::string> CompareSet(const std::string& job_id,
                                   const std::string& key,
                                   const std::string& expected,
                                   const std::string& desired);
  StatusOr<bool> Delete(const std::string& job_id, const std::string& key);
  StatusOr<CheckResult> Check(const std::string& job_id,
                              const std::vector<std::string>& keys) const;
  StatusOr<std::int64_t> NumKeys(const std::string& job_id) const;

  // Joins ranks to the fence `name` (common/rendezvous/fence.h keys), in
  // one critical section: each contribution whose record key is absent is
  // written and counted (a rank joining again is counted once), and the
  // contribution that brings the count to `world` writes the done key.
  // Returns the count after the call.
  StatusOr<std::int64_t> JoinFence(
      const std::string& job_id, const std::string& name, std::int64_t world,
      const std::vector<std::pair<int, std::string>>& contributions);

  // Calls `callback` once every key of `keys` exists in the job (see the
  // class comment). Returns 0 when the callback already ran.
  WaiterId WaitAsync(const std::string& job_id,
                     const std::vector<std::string>& keys,
                     WaitCallback callback);
  // True when the waiter was still pending (its callback will not run).
  bool CancelWait(WaiterId id);
  // Fails every pending waiter with `reason` (at shutdown).
  void CancelAllWaits(const Status& reason);

  std::size_t PendingWaits() const;

 private:
  struct Waiter {
    std::string job_id;
    std::vector<std::string> keys;
    WaitCallback callback;
    std::string watching;  // the first of `keys` found missing
  };
  using Namespace = std::unordered_map<std::string, std::string>;
  using Fired = std::vector<std::pair<WaitCallback, Status>>;

  // Both expect mu_ held.
  const Namespace* FindJob(const std::string& job_id) const;
  // After `key` was written in the job: moves the callbacks of the waiters
  // watching it that are now satisfied into `fired`; the others watch
  // their next missing key.
  void CollectSatisfied(const std::string& job_id, const std::string& key,
                        const Namespace& ns, Fired* fired);
  // Drops `id` from watch_ (expects mu_ held).
  void Unwatch(WaiterId id, const Waiter& waiter);
  static void Run(Fired* fired);

  mutable std::mutex mu_;
  std::unordered_map<std::string, Namespace> jobs_;  // guarded by mu_
  std::map<WaiterId, Waiter> waiters_;               // guarded by mu_
  // Job -> key -> the waiters watching that key, so a write looks only at
  // the waiters it may wake: with a rank's wait parked per rank, scanning
  // every waiter on every write is quadratic in the job's size.
  std::unordered_map<std::string,
                     std::unordered_map<std::string, std::set<WaiterId>>>
      watch_;                 // guarded by mu_
  WaiterId next_waiter_ = 1;  // guarded by mu_
};

}  // namespace dstrain::coordinator
