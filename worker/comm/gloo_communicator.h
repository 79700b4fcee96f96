#pragma once
// The Gloo backend of comm::Communicator: a c10d::ProcessGroupGloo whose
// ranks find each other through a rendezvous::KeyValueStore (via
// C10dStoreAdapter, keys under `key_prefix/`). CPU tensors of the dtypes
// communicator.h lists; bool is refused (Gloo cannot reduce or broadcast it).
//
// Costs worth knowing: kAvg is a sum followed by a division on each rank
// (Gloo has no AVG); AllGather gathers into Gloo's own flat buffer and
// copies out once; ReduceScatter is Gloo's own (libtorch 2.11 implements it
// for every dtype listed, so no all-reduce-and-slice fallback is needed).
//
// Timeouts: Gloo's own per-operation timeout (`timeout`) fires first; the
// error names the collective and, from the progress board, the ranks that
// never started it. After any failure the communicator is aborted: every
// later call fails at once with ABORTED.
//
// Split(color, key) all-gathers every rank's (color, key), then the members
// of each colour build a new ProcessGroupGloo under
// `key_prefix/split<N>/color<C>`, N counting this communicator's splits, so
// repeated and nested splits never share keys.

#include <chrono>
#include <memory>
#include <string>

#include "worker/comm/communicator.h"
#include "common/rendezvous/kv_store.h"

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
  // How often each rank publishes its progress (the last collective it
  // started) to the store, for naming missing ranks after a timeout.
  std::chrono::milliseconds progress_interval{1000};
};

// Blocks until all `size` ranks have joined (or the timeout passes).
StatusOr<std::unique_ptr<Communicator>> CreateGlooCommunicator(
    std::shared_ptr<rendezvous::KeyValueStore> store, int rank, int size,
    const GlooOptions& options);

}  // namespace dstrain::comm
