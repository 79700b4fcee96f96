#pragma once
// The NCCL backend of comm::Communicator: the NCCL C API on
// CUDA tensors of one device, each collective enqueued on libtorch's current
// CUDA stream of that device (c10::cuda::getCurrentCUDAStream), so the
// caching allocator's stream rules hold without recordStream.
//
// Bootstrap: rank 0 calls ncclGetUniqueId, and every rank joins the store's
// fence `key_prefix/unique_id` (common/rendezvous/fence.h), rank 0 with the
// id as hex (nccl_unique_id.h), wanting rank 0's record; it returns once
// all ranks have joined, or after `timeout` naming those that did not. The
// NCCL communicator is created non-blocking (ncclConfig_t.blocking = 0) so
// that no NCCL call can hang the caller: creation, collectives, splits and
// teardown are polled with ncclCommGetAsyncError against `timeout`, and
// ncclCommAbort ends a stuck one.
//
// Work: a CUDA event recorded on the stream after the collective. Wait makes
// the caller's current stream wait on it (later kernels are ordered after
// the collective, as c10d's Work::wait does), then polls the event and
// ncclCommGetAsyncError until the collective completed, NCCL reported an
// error, or `timeout` passed since it was issued. On error or timeout the
// communicator is aborted (ncclCommAbort) and every later call fails with
// ABORTED; a timeout is DEADLINE_EXCEEDED naming the collective and, from
// the progress board over the store, the ranks that never started it.
// Every collective is one NCCL call (kAvg is ncclAvg), so none needs
// ncclGroupStart/End. Barrier is an all-reduce of one float on the device.
// Zero-element tensors complete at once without calling NCCL.
//
// Split(color, key) is ncclCommSplit (a negative color passes
// NCCL_SPLIT_NOCOLOR and gets nullptr); the child's progress board lives
// under `key_prefix/split<N>/color<C>`.
//
// Threads: as communicator.h says, one thread issues collectives and waits.
// In a build without NCCL, CreateNcclCommunicator returns FAILED_PRECONDITION.

#include <chrono>
#include <memory>
#include <string>

#include "common/rendezvous/kv_store.h"
#include "worker/comm/communicator.h"

namespace dstrain::comm {

struct NcclOptions {
  // CUDA device index for this rank (usually LOCAL_RANK); -1: the current
  // device.
  int device = -1;
  // Bootstrap, per-collective and teardown timeout.
  std::chrono::milliseconds timeout{std::chrono::minutes(5)};
  // Keys are scoped under this prefix, so several groups can share a store.
  std::string key_prefix = "nccl/world";
  // How often each rank publishes the last collective it started.
  std::chrono::milliseconds progress_interval{1000};
};

// Blocks until all `size` ranks have joined (or the timeout passes).
// FAILED_PRECONDITION when there is no CUDA device (or no NCCL in the build).
StatusOr<std::unique_ptr<Communicator>> CreateNcclCommunicator(
    std::shared_ptr<rendezvous::KeyValueStore> store, int rank, int size,
    const NcclOptions& options);

// NCCL's runtime version ("2.28.9"), or "not built in".
std::string NcclRuntimeVersion();

}  // namespace dstrain::comm
