#pragma once
// The Gloo backend of comm::Communicator: a c10d::ProcessGroupGloo whose
// ranks find each other through a rendezvous::KeyValueStore (via
// C10dStoreAdapter, keys under `key_prefix/`). Tensors must be CPU tensors.
// Gloo cannot reduce or broadcast bool tensors: use float masks.

#include <chrono>
#include <memory>
#include <string>

#include "worker/comm/communicator.h"
#include "worker/rendezvous/kv_store.h"

namespace dstrain::comm {

struct GlooOptions {
  // Address (or hostname) this rank listens on and announces to its peers.
  // 127.0.0.1 suffices when every rank runs on one host.
  std::string host = "127.0.0.1";
  // A network interface name (like GLOO_SOCKET_IFNAME); wins over `host`.
  std::string interface;
  // Rendezvous and per-collective timeout.
  std::chrono::milliseconds timeout{std::chrono::minutes(5)};
  // Gloo's worker threads per group: one is enough with one collective in
  // flight, and leaves the cores to the compute.
  int threads = 1;
  // Keys are scoped under this prefix, so several groups can share a store.
  std::string key_prefix = "gloo/world";
};

// Blocks until all `size` ranks have joined (or the timeout passes).
StatusOr<std::unique_ptr<Communicator>> CreateGlooCommunicator(
    std::shared_ptr<rendezvous::KeyValueStore> store, int rank, int size,
    const GlooOptions& options);

}  // namespace dstrain::comm
