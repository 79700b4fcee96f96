#pragma once
// The engine's view of collective communication: one group of
// ranks, collectives on contiguous tensors, asynchronous: each call starts
// the operation and returns a Work to Wait on. Backends: gloo (CPU, libtorch's
// c10d::ProcessGroupGloo), mpi (OpenMPI, when started by mpirun/srun), nccl
// (CUDA tensors, the NCCL C API on libtorch's current stream). One contract
// test suite (worker/comm/contract_test.cc) holds every backend to the same
// results as a sequential reference.
//
// Rules for callers:
// - Collectives are issued in the same order on every rank of the group,
//   from one thread at a time.
// - Tensors are contiguous; supported dtypes: float32, float16, bfloat16,
//   float64, int32, int64, uint8 (backends say which others they refuse).
//   Zero-element tensors are allowed and complete at once.
// - A tensor handed to a collective stays alive and untouched until its
//   Work's Wait returns.
// - Errors come back as Status, never as exceptions: bad arguments are
//   INVALID_ARGUMENT before anything starts; a collective that does not
//   complete within the communicator's timeout is DEADLINE_EXCEEDED naming
//   the collective, its sequence number and the ranks that never arrived
//   (when the backend has a rendezvous store to ask), e.g.
//     "gloo all-reduce #17 (4096 x float32) timed out after 30 s on rank 0;
//      ranks 2, 3 never arrived"
//   After a timeout or a peer failure the communicator is unusable (aborted);
//   every later call fails at once.

#include <ATen/core/Tensor.h>

#include <chrono>
#include <memory>
#include <string>

#include "common/status.h"

namespace dstrain::comm {

// kAvg divides the sum by the group size (for floating dtypes; integer
// tensors are refused with kAvg).
enum class ReduceOp { kSum, kAvg, kMax, kMin };

const char* ReduceOpName(ReduceOp op);

class Work {
 public:
  virtual ~Work() = default;
  // Blocks until the collective is complete on this rank (for nccl: until
  // the current CUDA stream is ordered after it, as c10d's Work::wait does),
  // or the communicator's timeout passes.
  virtual Status Wait() = 0;
};

class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string backend() const = 0;
  // How long a collective may take before it fails (DEADLINE_EXCEEDED).
  virtual std::chrono::milliseconds timeout() const = 0;

  // In place: every rank ends with the element-wise reduction.
  virtual StatusOr<std::unique_ptr<Work>> AllReduce(at::Tensor& tensor,
                                                    ReduceOp op) = 0;
  // `output` has size() × input.numel() elements of input's dtype; rank r's
  // input lands in output[r·n, (r+1)·n) on every rank. n may be anything
  // (it need not divide by the group size), including 0.
  virtual StatusOr<std::unique_ptr<Work>> AllGather(const at::Tensor& input,
                                                    at::Tensor& output) = 0;
  // `input` has size() × output.numel() elements; rank r ends with the
  // reduction over all ranks of input[r·n, (r+1)·n), n = output.numel().
  virtual StatusOr<std::unique_ptr<Work>> ReduceScatter(const at::Tensor& input,
                                                        at::Tensor& output,
                                                        ReduceOp op) = 0;
  // In place: every rank ends with `root`'s tensor.
  virtual StatusOr<std::unique_ptr<Work>> Broadcast(at::Tensor& tensor,
                                                    int root) = 0;
  // Complete once every rank of the group has entered the barrier.
  virtual StatusOr<std::unique_ptr<Work>> Barrier() = 0;

  // Collective over this group (every rank calls it): the ranks passing the
  // same `color` form a new group, ordered by (key, rank in this group).
  // A rank passing color < 0 joins no group and gets nullptr. The new group
  // has this group's backend and timeout; it is independent of its parent
  // afterwards (either may be destroyed first).
  virtual StatusOr<std::unique_ptr<Communicator>> Split(int color, int key) = 0;
};

// Starts and waits: the synchronous form for code that has nothing to
// overlap.
inline Status Await(StatusOr<std::unique_ptr<Work>> work) {
  if (!work.ok()) return work.status();
  return (*work)->Wait();
}

}  // namespace dstrain::comm
