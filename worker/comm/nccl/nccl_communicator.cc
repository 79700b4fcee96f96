#include "worker/comm/nccl/nccl_communicator.h"

#include <ATen/Functions.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>
#include <nccl.h>

#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "worker/comm/abort_latch.h"
#include "worker/comm/collective_label.h"
#include "worker/comm/nccl/nccl_types.h"
#include "worker/comm/nccl/nccl_unique_id.h"
#include "worker/comm/progress_board.h"
#include "worker/comm/tensor_args.h"

namespace dstrain::comm {
namespace {

using Clock = std::chrono::steady_clock;
using nccl::NcclErrorText;

std::string CudaErrorText(cudaError_t e) {
  return std::string(cudaGetErrorName(e)) + " (" + cudaGetErrorString(e) + ")";
}

// Polling with a back-off: spin briefly (small collectives finish in
// microseconds), then sleep so a long wait leaves the core to others.
class Backoff {
 public:
  void Pause() {
    if (++spins_ < 2000) {
      std::this_thread::yield();
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }

 private:
  int spins_ = 0;
};

// Waits while `comm`'s state is ncclInProgress (a non-blocking call still
// running). Returns its final state, or ncclInProgress at the deadline.
ncclResult_t PollReady(ncclComm_t comm, Clock::time_point deadline) {
  Backoff backoff;
  for (;;) {
    ncclResult_t state = ncclSuccess;
    const ncclResult_t r = ncclCommGetAsyncError(comm, &state);
    if (r != ncclSuccess) return r;
    if (state != ncclInProgress) return state;
    if (Clock::now() >= deadline) return ncclInProgress;
    backoff.Pause();
  }
}

// What a communicator and the Works it hands out share; Works may outlive
// their communicator.
class NcclGroup {
 public:
  NcclGroup(ncclComm_t comm, int rank, int size, int device,
            std::chrono::milliseconds timeout,
            std::unique_ptr<ProgressBoard> board)
      : rank_(rank),
        size_(size),
        device_(device),
        timeout_(timeout),
        board_(std::move(board)),
        comm_(comm) {}

  // Finalize (flush, wait for the peers to quiesce) within the timeout, then
  // destroy; abort when that does not happen.
  ~NcclGroup() {
    std::lock_guard<std::mutex> lock(mu_);
    if (comm_ == nullptr) return;
    c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(device_));
    ncclResult_t r = ncclCommFinalize(comm_);
    if (r == ncclSuccess || r == ncclInProgress) {
      r = PollReady(comm_, Clock::now() + timeout_);
    }
    if (r == ncclSuccess) {
      ncclCommDestroy(comm_);
    } else {
      ncclCommAbort(comm_);
    }
    comm_ = nullptr;
  }

  int rank() const { return rank_; }
  int size() const { return size_; }
  int device() const { return device_; }
  std::chrono::milliseconds timeout() const { return timeout_; }
  ProgressBoard* board() const { return board_.get(); }

  // The live handle; only the issuing thread uses it (communicator.h), and
  // only after CheckUsable.
  ncclComm_t comm() const { return comm_; }

  Status CheckUsable(const std::string& what) const {
    return latch_.CheckUsable(what);
  }

  // Aborts the NCCL communicator once (the first failure is the reason
  // later calls give) and returns `why`.
  Status Abort(Status why) {
    return latch_.Trip(std::move(why), [this] {
      std::lock_guard<std::mutex> lock(mu_);
      if (comm_ == nullptr) return;
      c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(device_));
      ncclCommAbort(comm_);
      comm_ = nullptr;
    });
  }

  // After a non-blocking call returned `r`: waits until the communicator is
  // ready again. Errors and the deadline abort it.
  Status Settle(ncclResult_t r, const CollectiveLabel& label,
                Clock::time_point deadline) {
    if (r == ncclInProgress) r = PollReady(comm_, deadline);
    if (r == ncclSuccess) return Status::Ok();
    if (r == ncclInProgress) return TimedOut(label);
    return Abort(Unavailable(Describe(label) + " failed on rank " +
                             std::to_string(rank_) + ": " +
                             NcclErrorText(r, comm_)));
  }

  // DEADLINE_EXCEEDED for `label`, naming the ranks that never started it.
  Status TimedOut(const CollectiveLabel& label) {
    StatusOr<std::vector<int>> missing =
        board_ != nullptr ? board_->MissingRanks(label.seq)
                          : StatusOr<std::vector<int>>(Unavailable(
                                "no progress board for this group"));
    return Abort(missing.ok()
                     ? TimeoutError(label, timeout_, rank_, *missing)
                     : TimeoutError(label, timeout_, rank_, std::nullopt,
                                    missing.status().message()));
  }

 private:
  const int rank_;
  const int size_;
  const int device_;
  const std::chrono::milliseconds timeout_;
  const std::unique_ptr<ProgressBoard> board_;

  AbortLatch latch_;
  std::mutex mu_;  // guards comm_ against abort vs teardown
  ncclComm_t comm_;
};

class DoneWork : public Work {
 public:
  Status Wait() override { return Status::Ok(); }
};

class NcclWork : public Work {
 public:
  NcclWork(std::shared_ptr<NcclGroup> group, cudaEvent_t done,
           CollectiveLabel label, Clock::time_point issued)
      : group_(std::move(group)),
        done_(done),
        label_(std::move(label)),
        issued_(issued) {}

  ~NcclWork() override { cudaEventDestroy(done_); }

  Status Wait() override {
    if (!waited_) {
      status_ = WaitOnce();
      waited_ = true;
    }
    return status_;
  }

 private:
  Status WaitOnce() {
    const std::string what = Describe(label_);
    DSTRAIN_RETURN_IF_ERROR(group_->CheckUsable(what));
    const auto device = static_cast<c10::DeviceIndex>(group_->device());
    c10::cuda::CUDAGuard guard(device);
    // Order the caller's current stream after the collective, which ran on
    // the stream that was current when it was issued.
    const cudaStream_t current = c10::cuda::getCurrentCUDAStream(device);
    const cudaError_t e = cudaStreamWaitEvent(current, done_, 0);
    if (e != cudaSuccess) {
      return group_->Abort(
          Internal(what + ": cudaStreamWaitEvent: " + CudaErrorText(e)));
    }
    // Watch it finish, so an error or a missing peer surfaces here, in the
    // caller's thread, within the timeout.
    const Clock::time_point deadline = issued_ + group_->timeout();
    Backoff backoff;
    for (;;) {
      const cudaError_t q = cudaEventQuery(done_);
      if (q == cudaSuccess) return Status::Ok();
      if (q != cudaErrorNotReady) {
        return group_->Abort(
            Internal(what + ": cudaEventQuery: " + CudaErrorText(q)));
      }
      ncclResult_t state = ncclSuccess;
      ncclResult_t r = ncclCommGetAsyncError(group_->comm(), &state);
      if (r == ncclSuccess) r = state;
      if (r != ncclSuccess && r != ncclInProgress) {
        return group_->Abort(Unavailable(what + " failed on rank " +
                                         std::to_string(group_->rank()) + ": " +
                                         NcclErrorText(r, group_->comm())));
      }
      if (Clock::now() >= deadline) return group_->TimedOut(label_);
      backoff.Pause();
    }
  }

  std::shared_ptr<NcclGroup> group_;
  cudaEvent_t done_;
  CollectiveLabel label_;
  Clock::time_point issued_;
  bool waited_ = false;
  Status status_;
};

StatusOr<std::unique_ptr<Communicator>> MakeNccl(
    std::shared_ptr<rendezvous::KeyValueStore> store, ncclComm_t comm, int rank,
    int size, int device, const NcclOptions& options);

class NcclCommunicator : public Communicator {
 public:
  NcclCommunicator(std::shared_ptr<NcclGroup> group,
                   std::shared_ptr<rendezvous::KeyValueStore> store,
                   NcclOptions options)
      : group_(std::move(group)),
        store_(std::move(store)),
        options_(std::move(options)) {}

  int rank() const override { return group_->rank(); }
  int size() const override { return group_->size(); }
  std::string backend() const override { return "nccl"; }
  std::chrono::milliseconds timeout() const override {
    return options_.timeout;
  }

  StatusOr<std::unique_ptr<Work>> AllReduce(at::Tensor& tensor,
                                            ReduceOp op) override {
    CollectiveLabel label = Label("all-reduce", tensor);
    const std::string what = Describe(label);
    DSTRAIN_RETURN_IF_ERROR(CheckOnDevice(tensor, what, ""));
    DSTRAIN_RETURN_IF_ERROR(CheckReduceOp(op, tensor.scalar_type(), what));
    return Start(std::move(label), [&](ncclComm_t comm, cudaStream_t s) {
      return ncclAllReduce(tensor.data_ptr(), tensor.data_ptr(), tensor.numel(),
                           DataType(tensor), nccl::ToNcclRedOp(op), comm, s);
    });
  }

  StatusOr<std::unique_ptr<Work>> AllGather(const at::Tensor& input,
                                            at::Tensor& output) override {
    CollectiveLabel label = Label("all-gather", input);
    const std::string what = Describe(label);
    DSTRAIN_RETURN_IF_ERROR(CheckOnDevice(input, what, "input"));
    DSTRAIN_RETURN_IF_ERROR(CheckOnDevice(output, what, "output"));
    DSTRAIN_RETURN_IF_ERROR(CheckAllGatherArgs(input, output, size(), what));
    return Start(std::move(label), [&](ncclComm_t comm, cudaStream_t s) {
      return ncclAllGather(input.data_ptr(), output.data_ptr(), input.numel(),
                           DataType(input), comm, s);
    });
  }

  StatusOr<std::unique_ptr<Work>> ReduceScatter(const at::Tensor& input,
                                                at::Tensor& output,
                                                ReduceOp op) override {
    CollectiveLabel label = Label("reduce-scatter", output);
    const std::string what = Describe(label);
    DSTRAIN_RETURN_IF_ERROR(CheckOnDevice(input, what, "input"));
    DSTRAIN_RETURN_IF_ERROR(CheckOnDevice(output, what, "output"));
    DSTRAIN_RETURN_IF_ERROR(
        CheckReduceScatterArgs(input, output, size(), what));
    DSTRAIN_RETURN_IF_ERROR(CheckReduceOp(op, input.scalar_type(), what));
    return Start(std::move(label), [&](ncclComm_t comm, cudaStream_t s) {
      return ncclReduceScatter(input.data_ptr(), output.data_ptr(),
                               output.numel(), DataType(output),
                               nccl::ToNcclRedOp(op), comm, s);
    });
  }

  StatusOr<std::unique_ptr<Work>> Broadcast(at::Tensor& tensor,
                                            int root) override {
    CollectiveLabel label = Label("broadcast", tensor);
    const std::string what = Describe(label);
    DSTRAIN_RETURN_IF_ERROR(CheckOnDevice(tensor, what, ""));
    DSTRAIN_RETURN_IF_ERROR(CheckRoot(root, size(), what));
    return Start(std::move(label), [&](ncclComm_t comm, cudaStream_t s) {
      return ncclBroadcast(tensor.data_ptr(), tensor.data_ptr(), tensor.numel(),
                           DataType(tensor), root, comm, s);
    });
  }

  StatusOr<std::unique_ptr<Work>> Barrier() override {
    CollectiveLabel label = Label("barrier", at::Tensor());
    if (!barrier_buffer_.defined()) {
      barrier_buffer_ = at::zeros(
          {1}, at::TensorOptions()
                   .dtype(at::kFloat)
                   .device(at::kCUDA,
                           static_cast<c10::DeviceIndex>(group_->device())));
    }
    label.numel = 1;  // not empty: the all-reduce below must run
    void* b = barrier_buffer_.data_ptr();
    return Start(std::move(label), [&](ncclComm_t comm, cudaStream_t s) {
      return ncclAllReduce(b, b, 1, ncclFloat32, ncclSum, comm, s);
    });
  }

  StatusOr<std::unique_ptr<Communicator>> Split(int color, int key) override;

 private:
  static ncclDataType_t DataType(const at::Tensor& t) {
    // CheckOnDevice admitted only mapped dtypes.
    return nccl::ToNcclDataType(t.scalar_type()).value_or(ncclFloat32);
  }

  Status CheckOnDevice(const at::Tensor& t, const std::string& what,
                       const char* role) const {
    DSTRAIN_RETURN_IF_ERROR(CheckTensor(t, what, role, at::kCUDA));
    if (t.device().index() != group_->device()) {
      return InvalidArgument(
          what + ": the " +
          (*role != '\0' ? std::string(role) + " tensor"
                         : std::string("tensor")) +
          " is on " + t.device().str() +
          ", this communicator on cuda:" + std::to_string(group_->device()));
    }
    if (!nccl::ToNcclDataType(t.scalar_type()).has_value()) {
      return InvalidArgument(what + ": NCCL has no type for " +
                             DtypeName(t.scalar_type()));
    }
    return Status::Ok();
  }

  CollectiveLabel Label(const char* op, const at::Tensor& t) const {
    return LabelFor("nccl", op, seq_ + 1, t);
  }

  // Enqueues `call(comm, stream)` on the current stream of the group's
  // device and records the event its Work waits on.
  template <typename F>
  StatusOr<std::unique_ptr<Work>> Start(CollectiveLabel label, F&& call) {
    DSTRAIN_RETURN_IF_ERROR(group_->CheckUsable(Describe(label)));
    label.seq = ++seq_;
    if (group_->board() != nullptr) group_->board()->Started(label.seq);
    // Every rank sees the same sizes, so every rank skips the same empty
    // collectives and the group stays in step.
    if (label.numel == 0) {
      return std::unique_ptr<Work>(std::make_unique<DoneWork>());
    }
    const auto device = static_cast<c10::DeviceIndex>(group_->device());
    c10::cuda::CUDAGuard guard(device);
    const cudaStream_t stream = c10::cuda::getCurrentCUDAStream(device);
    const Clock::time_point issued = Clock::now();
    DSTRAIN_RETURN_IF_ERROR(group_->Settle(call(group_->comm(), stream), label,
                                           issued + group_->timeout()));
    cudaEvent_t done = nullptr;
    cudaError_t e = cudaEventCreateWithFlags(&done, cudaEventDisableTiming);
    if (e == cudaSuccess) e = cudaEventRecord(done, stream);
    if (e != cudaSuccess) {
      if (done != nullptr) cudaEventDestroy(done);
      return group_->Abort(
          Internal(Describe(label) +
                   ": recording its CUDA event failed: " + CudaErrorText(e)));
    }
    return std::unique_ptr<Work>(
        std::make_unique<NcclWork>(group_, done, std::move(label), issued));
  }

  std::shared_ptr<NcclGroup> group_;
  std::shared_ptr<rendezvous::KeyValueStore> store_;
  const NcclOptions options_;
  // Only the thread issuing collectives touches these.
  std::int64_t seq_ = 0;
  std::int64_t splits_ = 0;
  at::Tensor barrier_buffer_;
};

StatusOr<std::unique_ptr<Communicator>> NcclCommunicator::Split(int color,
                                                                int key) {
  CollectiveLabel label = Label("split", at::Tensor());
  DSTRAIN_RETURN_IF_ERROR(group_->CheckUsable(Describe(label)));
  label.seq = ++seq_;
  if (group_->board() != nullptr) group_->board()->Started(label.seq);
  const std::int64_t split = ++splits_;
  const auto device = static_cast<c10::DeviceIndex>(group_->device());
  c10::cuda::CUDAGuard guard(device);
  ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
  config.blocking = 0;
  ncclComm_t child = nullptr;
  const Clock::time_point deadline = Clock::now() + group_->timeout();
  DSTRAIN_RETURN_IF_ERROR(group_->Settle(
      ncclCommSplit(group_->comm(), color < 0 ? NCCL_SPLIT_NOCOLOR : color, key,
                    &child, &config),
      label, deadline));
  if (child == nullptr) return std::unique_ptr<Communicator>();
  ncclResult_t r = PollReady(child, deadline);
  int child_rank = 0;
  int child_size = 0;
  if (r == ncclSuccess) r = ncclCommUserRank(child, &child_rank);
  if (r == ncclSuccess) r = ncclCommCount(child, &child_size);
  if (r != ncclSuccess) {
    const std::string why = NcclErrorText(r, child);
    ncclCommAbort(child);
    if (r == ncclInProgress) return group_->TimedOut(label);
    return Unavailable(Describe(label) + " (color " + std::to_string(color) +
                       ") failed on rank " + std::to_string(rank()) + ": " +
                       why);
  }
  NcclOptions child_options = options_;
  child_options.device = group_->device();
  child_options.key_prefix = options_.key_prefix + "/split" +
                             std::to_string(split) + "/color" +
                             std::to_string(color);
  return MakeNccl(store_, child, child_rank, child_size, group_->device(),
                  child_options);
}

StatusOr<std::unique_ptr<Communicator>> MakeNccl(
    std::shared_ptr<rendezvous::KeyValueStore> store, ncclComm_t comm, int rank,
    int size, int device, const NcclOptions& options) {
  StoreProgressBoardOptions board_options;
  board_options.publish_interval = options.progress_interval;
  auto board = std::make_unique<StoreProgressBoard>(store, options.key_prefix,
                                                    rank, size, board_options);
  auto group = std::make_shared<NcclGroup>(comm, rank, size, device,
                                           options.timeout, std::move(board));
  return std::unique_ptr<Communicator>(std::make_unique<NcclCommunicator>(
      std::move(group), std::move(store), options));
}

}  // namespace

StatusOr<std::unique_ptr<Communicator>> CreateNcclCommunicator(
    std::shared_ptr<rendezvous::KeyValueStore> store, int rank, int size,
    const NcclOptions& options) {
  if (store == nullptr) return InvalidArgument("nccl needs a rendezvous store");
  if (size < 1 || rank < 0 || rank >= size) {
    return InvalidArgument("nccl: rank " + std::to_string(rank) +
                           " is not in a group of " + std::to_string(size));
  }
  int devices = 0;
  const cudaError_t e = cudaGetDeviceCount(&devices);
  if (e != cudaSuccess || devices == 0) {
    return FailedPrecondition(
        "nccl needs a CUDA device and this machine shows none "
        "(cudaGetDeviceCount: " +
        (e != cudaSuccess ? CudaErrorText(e) : std::string("0 devices")) +
        "); use backend gloo or mpi for CPU tensors");
  }
  int device = options.device;
  if (device < 0 && cudaGetDevice(&device) != cudaSuccess) device = 0;
  if (device >= devices) {
    return InvalidArgument("nccl: rank " + std::to_string(rank) +
                           " was given cuda:" + std::to_string(device) +
                           " but this machine has " + std::to_string(devices) +
                           " device" + (devices == 1 ? "" : "s"));
  }
  const std::string where = "nccl group " + options.key_prefix + " of " +
                            std::to_string(size) + " ranks (rank " +
                            std::to_string(rank) +
                            ", cuda:" + std::to_string(device) + ")";

  // The unique id: made by rank 0 and handed to every rank by one fence,
  // which is also the barrier before ncclCommInitRank (a node's ranks join
  // it through their agent in one request). The others contribute an
  // empty record; a fence that times out names the ranks that never came.
  ncclUniqueId id;
  rendezvous::FenceRequest fence;
  fence.name = options.key_prefix + "/unique_id";
  fence.world = size;
  fence.rank = rank;
  fence.want = {0};
  fence.timeout = options.timeout;
  if (rank == 0) {
    const ncclResult_t r = ncclGetUniqueId(&id);
    if (r != ncclSuccess) {
      return Unavailable(where +
                         ": ncclGetUniqueId: " + NcclErrorText(r, nullptr));
    }
    fence.record = nccl::EncodeUniqueId(id);
  }
  StatusOr<rendezvous::FenceRecords> records = store->Fence(fence);
  if (!records.ok()) {
    return Status(records.status().code(),
                  where + ": waiting for rank 0's NCCL id: " +
                      records.status().message());
  }
  DSTRAIN_ASSIGN_OR_RETURN(ncclUniqueId decoded,
                           nccl::DecodeUniqueId(records->at(0), fence.name));
  id = decoded;

  c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(device));
  ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
  config.blocking = 0;
  ncclComm_t comm = nullptr;
  ncclResult_t r = ncclCommInitRankConfig(&comm, size, id, rank, &config);
  if ((r == ncclSuccess || r == ncclInProgress) && comm != nullptr) {
    r = PollReady(comm, Clock::now() + options.timeout);
  }
  if (r != ncclSuccess) {
    const std::string why = NcclErrorText(r, comm);
    if (comm != nullptr) ncclCommAbort(comm);
    if (r == ncclInProgress) {
      // Every rank passed the fence: the hang is inside NCCL's own
      // bootstrap or transport set-up, not a missing rank.
      return DeadlineExceeded(where + " did not form within " +
                              FormatDuration(options.timeout) +
                              " though all ranks had joined");
    }
    return Unavailable(where + " could not form: " + why);
  }
  return MakeNccl(std::move(store), comm, rank, size, device, options);
}

std::string NcclRuntimeVersion() {
  int code = 0;
  if (ncclGetVersion(&code) != ncclSuccess) return "unknown";
  return nccl::FormatNcclVersion(code);
}

}  // namespace dstrain::comm
