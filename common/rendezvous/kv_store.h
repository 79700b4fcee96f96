#pragma once
// The key-value store ranks bootstrap through (Gloo addresses, NCCL ids,
// barriers). The engine sees only this interface, owned here, below both
// the engine and the control plane; implementations: the coordinator's
// rendezvous RPCs (coordinator/client/coordinator_kv_store.h, outside the
// engine because it needs gRPC), c10d::TCPStore for MASTER_ADDR/MASTER_PORT
// launches (worker/rendezvous/tcp_kv_store.h), an in-memory one for one
// process (in_memory_kv_store.h); PrefixStore (prefix_store.h) scopes any
// of them.
//
// Keys are plain strings already scoped to one job attempt by whoever made the
// store. All methods are thread-safe.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/rendezvous/fence.h"
#include "common/status.h"

namespace dstrain::rendezvous {

class KeyValueStore {
 public:
  virtual ~KeyValueStore() = default;

  virtual Status Set(const std::string& key, const std::string& value) = 0;
  // Waits up to `timeout` for the key to exist, then returns its value;
  // DEADLINE_EXCEEDED names the key when it never appears.
  virtual StatusOr<std::string> Get(const std::string& key,
                                    std::chrono::milliseconds timeout) = 0;
  // Adds `delta` to the integer stored at `key` (absent = 0), returns the sum.
  virtual StatusOr<std::int64_t> Add(const std::string& key,
                                     std::int64_t delta) = 0;
  // Sets `key` to `desired` if its value is `expected` (or it is absent and
  // `expected` is empty); returns the value after the call. As in c10d's
  // stores, when the key is absent and `expected` is not empty nothing is
  // set and `expected` comes back.
  virtual StatusOr<std::string> CompareSet(const std::string& key,
                                           const std::string& expected,
                                           const std::string& desired) = 0;
  virtual StatusOr<bool> Delete(const std::string& key) = 0;
  // True when every key exists right now (no waiting).
  virtual StatusOr<bool> Check(const std::vector<std::string>& keys) = 0;
  virtual StatusOr<std::int64_t> NumKeys() = 0;
  // Waits until every key exists; DEADLINE_EXCEEDED names the missing ones.
  virtual Status Wait(const std::vector<std::string>& keys,
                      std::chrono::milliseconds timeout) = 0;

  // A barrier and an exchange in one call (fence.h): returns, once all
  // request.world ranks have joined, the records of request.want.
  // DEADLINE_EXCEEDED after request.timeout names ranks that never came.
  // This default costs a set, an add, a wait and a get per wanted record;
  // the coordinator's store joins a whole node's ranks in one request.
  virtual StatusOr<FenceRecords> Fence(const FenceRequest& request) {
    return FenceThroughStore(*this, request);
  }
};

}  // namespace dstrain::rendezvous
