#pragma once
// The engine's view of collective communication (DESIGN §5): one group of
// ranks, collectives on contiguous tensors, asynchronous: each call starts
// the operation and returns a Work to Wait on. Backends: gloo (CPU, through
// libtorch's c10d::ProcessGroupGloo) now; nccl and mpi later, behind the
// same interface.
//
// Collectives must be issued in the same order on every rank of the group,
// from one thread at a time. A tensor handed to a collective must stay alive
// and untouched until its Work's Wait returns. Errors (timeouts, a peer
// gone) come back as Status, never as exceptions.

#include <ATen/core/Tensor.h>

#include <memory>
#include <string>

#include "common/status.h"

namespace dstrain::comm {

enum class ReduceOp { kSum, kMax, kMin };

class Work {
 public:
  virtual ~Work() = default;
  // Blocks until the collective is complete on this rank.
  virtual Status Wait() = 0;
};

class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string backend() const = 0;

  // In place: every rank ends with the element-wise reduction.
  virtual StatusOr<std::unique_ptr<Work>> AllReduce(at::Tensor& tensor,
                                                    ReduceOp op) = 0;
  // In place: every rank ends with `root`'s tensor.
  virtual StatusOr<std::unique_ptr<Work>> Broadcast(at::Tensor& tensor,
                                                    int root) = 0;
  // Returns once every rank has entered the barrier.
  virtual Status Barrier() = 0;
};

}  // namespace dstrain::comm
