#pragma once
// The rendezvous KeyValueStore of one job attempt, over the coordinator's
// Kv* RPCs: what a worker started by an agent bootstraps Gloo (or NCCL)
// through.
//
// Every key is sent as "a<attempt>/<key>", so the ranks of a restarted
// attempt never see a previous attempt's keys; callers and error messages
// use the unprefixed key. Each call has a deadline (its own timeout for Get
// and Wait, options.op_timeout for the rest); within it, the call waits for
// the coordinator to be reachable and retries UNAVAILABLE with backoff. A
// Wait or Get that times out fails with DEADLINE_EXCEEDED naming the keys
// still missing, as the coordinator's KvCheck reports them.
//
// A coordinator restart loses the keys (it keeps them in memory only), and
// the job's ranks put them back: each client remembers what it wrote (its
// keys' latest values, its contributions to counters, less what it deleted)
// and which coordinator instance took each write (every answer names the
// instance: rpc::kCoordinatorInstanceKey). Before retrying after
// UNAVAILABLE, and after any answer from a new instance, it writes again
// what the new one lacks: its keys where they are absent (never over a
// newer value) and its counter contributions. So a rendezvous under way
// when the coordinator restarts completes once the ranks' calls reach the
// new one. Limits: a key another client deleted comes back if its writer
// replays it; an Add whose answer was lost on the way from a coordinator
// that then kept running is applied twice (as any retried Add); and
// another client's Add may land before a replayed contribution, so a
// barrier that counts arrivals with Add can miss its last arriver across
// a restart. A fence (Fence) has none of these: the coordinator counts
// each rank once.
//
// Thread-safe: the replay record is guarded by a mutex; replays are
// serialised. Includes no gRPC or torch headers.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/rendezvous/kv_store.h"

namespace dstrain::coordinator {

struct CoordinatorKvStoreOptions {
  // Deadline of Set, Add, CompareSet, Delete, Check and NumKeys, retries
  // included.
  std::chrono::milliseconds op_timeout = std::chrono::seconds(30);
};

class CoordinatorKvStore : public rendezvous::KeyValueStore {
 public:
  CoordinatorKvStore(const std::string& coordinator_address, std::string token,
                     std::string job_id, int attempt,
                     CoordinatorKvStoreOptions options = {});
  ~CoordinatorKvStore() override;

  // "a<attempt>/", the prefix of every key on the wire.
  static std::string KeyPrefix(int attempt);

  Status Set(const std::string& key, const std::string& value) override;
  StatusOr<std::string> Get(const std::string& key,
                            std::chrono::milliseconds timeout) override;
  StatusOr<std::int64_t> Add(const std::string& key,
                             std::int64_t delta) override;
  StatusOr<std::string> CompareSet(const std::string& key,
                                   const std::string& expected,
                                   const std::string& desired) override;
  StatusOr<bool> Delete(const std::string& key) override;
  StatusOr<bool> Check(const std::vector<std::string>& keys) override;
  // Counts the keys of every attempt of the job (the namespace is per job).
  StatusOr<std::int64_t> NumKeys() override;
  Status Wait(const std::vector<std::string>& keys,
              std::chrono::milliseconds timeout) override;
  // One KvFence call (to an agent's relay, which joins the node's ranks
  // into one request, or to the coordinator); retried like any call, and
  // counted once however often it is sent. The rank's record, the count
  // and the done key join what is replayed into a restarted coordinator.
  StatusOr<rendezvous::FenceRecords> Fence(
      const rendezvous::FenceRequest& request) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dstrain::coordinator
