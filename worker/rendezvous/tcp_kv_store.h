#pragma once
// A KeyValueStore over libtorch's c10d::TCPStore: the rendezvous of a
// torchrun-style launch (MASTER_ADDR / MASTER_PORT), with no coordinator.
// Rank 0 serves the store on `port`; every rank (rank 0 included) is a
// client. Thread-safe (TCPStore is).

#include <chrono>
#include <memory>
#include <string>

#include "common/rendezvous/kv_store.h"

namespace dstrain::rendezvous {

struct TcpStoreOptions {
  std::string host;  // MASTER_ADDR
  // MASTER_PORT. The server may pass 0 to bind any free port
  // (ConnectTcpStore reports the port it got).
  int port = 29500;
  bool is_server = false;
  int world_size = 1;
  // Connection and default operation timeout.
  std::chrono::milliseconds timeout{std::chrono::minutes(5)};
};

// Connects (rank 0: binds and listens first). Errors name host:port.
// `bound_port` (optional) receives the port the store listens on: the
// server's choice when `port` was 0.
StatusOr<std::shared_ptr<KeyValueStore>> ConnectTcpStore(
    const TcpStoreOptions& options, int* bound_port = nullptr);

}  // namespace dstrain::rendezvous
