#pragma once
// The rendezvous store of an mpirun launch: world rank 0 serves a
// c10d::TCPStore on a free port and MPI_Bcast tells every rank where, so no
// MASTER_ADDR / MASTER_PORT is needed. Gloo (and NCCL) bootstrap through
// it, and every backend keeps its progress board there.
//
// Collective over MPI_COMM_WORLD (every process calls it, from the thread
// that initialised MPI); InitMpi must have succeeded. If rank 0 cannot
// serve, every rank fails (rank 0 broadcasts the failure instead of an
// address).

#include <chrono>
#include <memory>
#include <string>

#include "common/status.h"
#include "common/rendezvous/kv_store.h"

namespace dstrain::comm::mpi {

struct MpiStoreOptions {
  // The address the other ranks reach rank 0 at: 127.0.0.1 when every rank
  // is on one node, otherwise rank 0's host name (or DSTRAIN_COMM_HOST).
  // Read on rank 0 only.
  std::string host = "127.0.0.1";
  // Connect and default operation timeout.
  std::chrono::milliseconds timeout{std::chrono::minutes(5)};
};

StatusOr<std::shared_ptr<rendezvous::KeyValueStore>> ConnectMpiStore(
    const MpiStoreOptions& options);

}  // namespace dstrain::comm::mpi
