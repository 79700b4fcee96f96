#include "worker/comm/mpi/mpi_communicator.h"

#include <ATen/ATen.h>

#include <climits>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "worker/comm/abort_latch.h"
#include "worker/comm/collective_label.h"
#include "worker/comm/mpi/mpi_include.h"
#include "worker/comm/mpi/mpi_runtime.h"
#include "worker/comm/mpi/mpi_types.h"
#include "worker/comm/progress_board.h"
#include "worker/comm/split_membership.h"
#include "worker/comm/tensor_args.h"

namespace dstrain::comm::mpi {
namespace {

using Clock = std::chrono::steady_clock;

// Buffers of collectives that timed out: MPI may still write into them if a
// late peer ever arrives, so they are never freed. Guarded by the mutex.
void KeepForever(std::vector<at::Tensor> tensors) {
  static std::mutex* mu = new std::mutex();
  static auto* kept = new std::vector<at::Tensor>();
  std::lock_guard<std::mutex> lock(*mu);
  for (at::Tensor& t : tensors) kept->push_back(std::move(t));
}

// What a communicator and the Works it hands out share; Works may outlive
// their communicator.
struct GroupState {
  MPI_Comm comm = MPI_COMM_NULL;  // owned; freed with the state
  int rank = 0;
  int size = 1;
  std::chrono::milliseconds timeout{0};
  std::unique_ptr<ProgressBoard> board;

  AbortLatch latch;

  ~GroupState() {
    // A timed-out collective may still be pending on `comm`; freeing it
    // then is erroneous, so an aborted group keeps its communicator.
    if (comm == MPI_COMM_NULL || latch.tripped() || !MpiReady()) return;
    std::lock_guard<std::mutex> lock(MpiCallMutex());
    MPI_Comm_free(&comm);
  }

  Status TimedOut(const CollectiveLabel& label) {
    if (board == nullptr) {
      return TimeoutError(label, timeout, rank, std::nullopt,
                          "no rendezvous store to ask");
    }
    StatusOr<std::vector<int>> missing = board->MissingRanks(label.seq);
    return missing.ok() ? TimeoutError(label, timeout, rank, *missing)
                        : TimeoutError(label, timeout, rank, std::nullopt,
                                       missing.status().message());
  }
};

class DoneWork : public Work {
 public:
  Status Wait() override { return Status::Ok(); }
};

class MpiWork : public Work {
 public:
  MpiWork(std::shared_ptr<GroupState> state, MPI_Request request,
          std::vector<at::Tensor> buffers, CollectiveLabel label,
          std::function<void()> finish, Clock::time_point deadline)
      : state_(std::move(state)),
        request_(request),
        buffers_(std::move(buffers)),
        label_(std::move(label)),
        finish_(std::move(finish)),
        deadline_(deadline) {}

  // MPI must not write into freed buffers: an unwaited Work waits here
  // (bounded by the timeout).
  ~MpiWork() override {
    if (!waited_) (void)Wait();
  }

  Status Wait() override {
    if (!waited_) {
      status_ = WaitOnce();
      waited_ = true;
    }
    return status_;
  }

 private:
  Status WaitOnce() {
    const Status thread_ok = CheckMpiCallingThread();
    if (!thread_ok.ok()) {
      Abandon();
      return state_->latch.Trip(
          FailedPrecondition(Describe(label_) + ": " + thread_ok.message()));
    }
    const Clock::time_point poll_start = Clock::now();
    while (true) {
      int done = 0;
      int rc;
      {
        std::lock_guard<std::mutex> lock(MpiCallMutex());
        rc = MPI_Test(&request_, &done, MPI_STATUS_IGNORE);
      }
      if (rc != MPI_SUCCESS) {
        Abandon();
        return state_->latch.Trip(Unavailable(
            Describe(label_) + " failed on rank " +
            std::to_string(state_->rank) + ": " + MpiErrorString(rc)));
      }
      if (done) {
        if (finish_) finish_();
        buffers_.clear();
        return Status::Ok();
      }
      if (state_->latch.tripped()) {
        // An earlier collective of this group failed; this one, issued
        // after it, cannot complete.
        Abandon();
        return state_->latch.CheckUsable(Describe(label_));
      }
      const Clock::time_point now = Clock::now();
      if (now >= deadline_) {
        Abandon();
        return state_->latch.Trip(state_->TimedOut(label_));
      }
      Pause(now - poll_start);
    }
  }

  // Open MPI moves a nonblocking collective forward only inside MPI calls,
  // so the first milliseconds poll as fast as the scheduler allows (as
  // MPI_Wait does); a long wait then polls every ~50 us so that a rank
  // waiting for a slow peer leaves the core to the others.
  static void Pause(Clock::duration waited) {
    if (waited < std::chrono::milliseconds(10)) {
      std::this_thread::yield();
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }

  void Abandon() { KeepForever(std::move(buffers_)); }

  std::shared_ptr<GroupState> state_;
  MPI_Request request_;
  std::vector<at::Tensor> buffers_;  // alive until the collective completes
  CollectiveLabel label_;
  std::function<void()> finish_;  // after success: avg's division
  Clock::time_point deadline_;
  bool waited_ = false;
  Status status_;
};

Status CheckCount(std::int64_t numel, const std::string& what) {
  if (numel > INT_MAX) {
    return InvalidArgument(what + ": " + std::to_string(numel) +
                           " elements exceed MPI's count limit (2^31-1); "
                           "split the tensor");
  }
  return Status::Ok();
}

class MpiCommunicator : public Communicator {
 public:
  MpiCommunicator(std::shared_ptr<GroupState> state, MpiOptions options)
      : state_(std::move(state)), options_(std::move(options)) {}

  int rank() const override { return state_->rank; }
  int size() const override { return state_->size; }
  std::string backend() const override { return "mpi"; }
  std::chrono::milliseconds timeout() const override {
    return options_.timeout;
  }

  StatusOr<std::unique_ptr<Work>> AllReduce(at::Tensor& tensor,
                                            ReduceOp op) override {
    CollectiveLabel label = Label("all-reduce", tensor);
    const std::string what = Describe(label);
    DSTRAIN_RETURN_IF_ERROR(CheckTensor(tensor, what, "", at::kCPU));
    DSTRAIN_RETURN_IF_ERROR(CheckReduceOp(op, tensor.scalar_type(), what));
    DSTRAIN_RETURN_IF_ERROR(CheckCount(tensor.numel(), what));
    DSTRAIN_ASSIGN_OR_RETURN(MPI_Datatype type,
                             DatatypeFor(tensor.scalar_type()));
    std::function<void()> finish;
    if (op == ReduceOp::kAvg && size() > 1) {
      finish = [tensor, n = size()]() mutable { tensor.div_(n); };
    }
    const int count = static_cast<int>(tensor.numel());
    void* data = tensor.data_ptr();
    const MPI_Comm comm = state_->comm;
    const MPI_Datatype dt = type;
    const at::ScalarType st = tensor.scalar_type();
    return Start(std::move(label), {tensor}, std::move(finish),
                 [=](MPI_Request* r) {
                   return MPI_Iallreduce(MPI_IN_PLACE, data, count, dt,
                                         OpFor(op, st), comm, r);
                 });
  }

  StatusOr<std::unique_ptr<Work>> AllGather(const at::Tensor& input,
                                            at::Tensor& output) override {
    CollectiveLabel label = Label("all-gather", input);
    const std::string what = Describe(label);
    DSTRAIN_RETURN_IF_ERROR(CheckTensor(input, what, "input", at::kCPU));
    DSTRAIN_RETURN_IF_ERROR(CheckTensor(output, what, "output", at::kCPU));
    DSTRAIN_RETURN_IF_ERROR(CheckAllGatherArgs(input, output, size(), what));
    DSTRAIN_RETURN_IF_ERROR(CheckCount(output.numel(), what));
    DSTRAIN_ASSIGN_OR_RETURN(MPI_Datatype type,
                             DatatypeFor(input.scalar_type()));
    const int count = static_cast<int>(input.numel());
    // An input that already sits in this rank's slot of the output is
    // gathered in place (MPI forbids aliased send and receive buffers).
    char* out = static_cast<char*>(output.data_ptr());
    const void* in = input.data_ptr();
    if (in == out + rank() * input.numel() * input.element_size()) {
      in = MPI_IN_PLACE;
    }
    const MPI_Comm comm = state_->comm;
    const MPI_Datatype dt = type;
    return Start(
        std::move(label), {input, output}, nullptr, [=](MPI_Request* r) {
          return MPI_Iallgather(in, count, dt, out, count, dt, comm, r);
        });
  }

  StatusOr<std::unique_ptr<Work>> ReduceScatter(const at::Tensor& input,
                                                at::Tensor& output,
                                                ReduceOp op) override {
    CollectiveLabel label = Label("reduce-scatter", output);
    const std::string what = Describe(label);
    DSTRAIN_RETURN_IF_ERROR(CheckTensor(input, what, "input", at::kCPU));
    DSTRAIN_RETURN_IF_ERROR(CheckTensor(output, what, "output", at::kCPU));
    DSTRAIN_RETURN_IF_ERROR(
        CheckReduceScatterArgs(input, output, size(), what));
    DSTRAIN_RETURN_IF_ERROR(CheckReduceOp(op, input.scalar_type(), what));
    DSTRAIN_RETURN_IF_ERROR(CheckCount(input.numel(), what));
    DSTRAIN_ASSIGN_OR_RETURN(MPI_Datatype type,
                             DatatypeFor(output.scalar_type()));
    std::function<void()> finish;
    if (op == ReduceOp::kAvg && size() > 1) {
      finish = [output, n = size()]() mutable { output.div_(n); };
    }
    const int count = static_cast<int>(output.numel());
    const void* in = input.data_ptr();
    void* out = output.data_ptr();
    const MPI_Comm comm = state_->comm;
    const MPI_Datatype dt = type;
    const at::ScalarType st = output.scalar_type();
    return Start(std::move(label), {input, output}, std::move(finish),
                 [=](MPI_Request* r) {
                   return MPI_Ireduce_scatter_block(in, out, count, dt,
                                                    OpFor(op, st), comm, r);
                 });
  }

  StatusOr<std::unique_ptr<Work>> Broadcast(at::Tensor& tensor,
                                            int root) override {
    CollectiveLabel label = Label("broadcast", tensor);
    const std::string what = Describe(label);
    DSTRAIN_RETURN_IF_ERROR(CheckTensor(tensor, what, "", at::kCPU));
    DSTRAIN_RETURN_IF_ERROR(CheckRoot(root, size(), what));
    DSTRAIN_RETURN_IF_ERROR(CheckCount(tensor.numel(), what));
    DSTRAIN_ASSIGN_OR_RETURN(MPI_Datatype type,
                             DatatypeFor(tensor.scalar_type()));
    const int count = static_cast<int>(tensor.numel());
    void* data = tensor.data_ptr();
    const MPI_Comm comm = state_->comm;
    const MPI_Datatype dt = type;
    return Start(std::move(label), {tensor}, nullptr, [=](MPI_Request* r) {
      return MPI_Ibcast(data, count, dt, root, comm, r);
    });
  }

  StatusOr<std::unique_ptr<Work>> Barrier() override {
    CollectiveLabel label;
    label.backend = "mpi";
    label.op = "barrier";
    label.seq = seq_ + 1;
    const MPI_Comm comm = state_->comm;
    return Start(
        std::move(label), {}, nullptr,
        [=](MPI_Request* r) { return MPI_Ibarrier(comm, r); },
        /*touches_data=*/false);
  }

  StatusOr<std::unique_ptr<Communicator>> Split(int color, int key) override;

 private:
  CollectiveLabel Label(const char* op, const at::Tensor& t) const {
    return LabelFor("mpi", op, seq_ + 1, t);
  }

  StatusOr<std::unique_ptr<Work>> Start(
      CollectiveLabel label, std::vector<at::Tensor> buffers,
      std::function<void()> finish,
      const std::function<int(MPI_Request*)>& issue, bool touches_data = true) {
    DSTRAIN_RETURN_IF_ERROR(state_->latch.CheckUsable(Describe(label)));
    const Status thread_ok = CheckMpiCallingThread();
    if (!thread_ok.ok()) {
      return FailedPrecondition(Describe(label) + ": " + thread_ok.message());
    }
    label.seq = ++seq_;
    if (state_->board) state_->board->Started(label.seq);
    // Every rank sees the same sizes, so every rank skips the same empty
    // collectives and the group stays in step.
    if (touches_data && label.numel == 0) {
      return std::unique_ptr<Work>(std::make_unique<DoneWork>());
    }
    const Clock::time_point deadline = Clock::now() + state_->timeout;
    MPI_Request request = MPI_REQUEST_NULL;
    int rc;
    {
      std::lock_guard<std::mutex> lock(MpiCallMutex());
      rc = issue(&request);
    }
    if (rc != MPI_SUCCESS) {
      // The peers started it; this rank's sequence is now out of step.
      return state_->latch.Trip(
          Unavailable(Describe(label) + " could not start on rank " +
                      std::to_string(rank()) + ": " + MpiErrorString(rc)));
    }
    return std::unique_ptr<Work>(std::make_unique<MpiWork>(
        state_, request, std::move(buffers), std::move(label),
        std::move(finish), deadline));
  }

  std::shared_ptr<GroupState> state_;
  const MpiOptions options_;
  // Only the thread issuing collectives touches these.
  std::int64_t seq_ = 0;
  std::int64_t splits_ = 0;
};

// Takes ownership of `comm` (already private to this group).
StatusOr<std::unique_ptr<Communicator>> Wrap(MPI_Comm comm,
                                             const MpiOptions& options) {
  auto state = std::make_shared<GroupState>();
  state->comm = comm;
  {
    std::lock_guard<std::mutex> lock(MpiCallMutex());
    MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN);
    MPI_Comm_rank(comm, &state->rank);
    MPI_Comm_size(comm, &state->size);
  }
  state->timeout = options.timeout;
  if (options.store != nullptr) {
    StoreProgressBoardOptions board_opts;
    board_opts.publish_interval = options.progress_interval;
    state->board = std::make_unique<StoreProgressBoard>(
        options.store, options.key_prefix, state->rank, state->size,
        board_opts);
  }
  return std::unique_ptr<Communicator>(
      std::make_unique<MpiCommunicator>(std::move(state), options));
}

StatusOr<std::unique_ptr<Communicator>> MpiCommunicator::Split(int color,
                                                               int key) {
  // Gathering every (colour, key) first makes Split fail within the timeout
  // when a rank never comes (MPI_Comm_split itself would block forever),
  // and gives the new group's progress-board keys.
  at::Tensor mine = at::empty({2}, at::kLong);
  mine[0] = static_cast<std::int64_t>(color);
  mine[1] = static_cast<std::int64_t>(key);
  at::Tensor all = at::empty({2 * size()}, at::kLong);
  DSTRAIN_RETURN_IF_ERROR(Await(AllGather(mine, all)));
  std::vector<SplitRequest> requests(size());
  const std::int64_t* p = all.data_ptr<std::int64_t>();
  for (int r = 0; r < size(); ++r) requests[r] = {p[2 * r], p[2 * r + 1]};
  const std::int64_t split = ++splits_;
  const std::optional<SplitMembership> m = ComputeSplit(requests, rank());

  MPI_Comm child = MPI_COMM_NULL;
  int rc;
  {
    std::lock_guard<std::mutex> lock(MpiCallMutex());
    rc = MPI_Comm_split(state_->comm, color < 0 ? MPI_UNDEFINED : color, key,
                        &child);
  }
  if (rc != MPI_SUCCESS) {
    return state_->latch.Trip(
        Unavailable("mpi split #" + std::to_string(split) + " failed on rank " +
                    std::to_string(rank()) + ": " + MpiErrorString(rc)));
  }
  if (!m.has_value() || child == MPI_COMM_NULL) {
    return std::unique_ptr<Communicator>();
  }
  MpiOptions child_options = options_;
  child_options.key_prefix = options_.key_prefix + "/split" +
                             std::to_string(split) + "/color" +
                             std::to_string(m->color);
  StatusOr<std::unique_ptr<Communicator>> out = Wrap(child, child_options);
  if (out.ok() && (*out)->rank() != m->rank) {
    return Internal("mpi split #" + std::to_string(split) + ": MPI made rank " +
                    std::to_string((*out)->rank()) +
                    " of what should be rank " + std::to_string(m->rank));
  }
  return out;
}

}  // namespace

StatusOr<std::unique_ptr<Communicator>> CreateMpiWorldCommunicator(
    const MpiOptions& options) {
  DSTRAIN_RETURN_IF_ERROR(CheckMpiCallingThread());
  MPI_Comm comm = MPI_COMM_NULL;
  int rc;
  {
    std::lock_guard<std::mutex> lock(MpiCallMutex());
    rc = MPI_Comm_dup(MPI_COMM_WORLD, &comm);
  }
  if (rc != MPI_SUCCESS) {
    return Unavailable("mpi: MPI_Comm_dup(MPI_COMM_WORLD) failed: " +
                       MpiErrorString(rc));
  }
  return Wrap(comm, options);
}

}  // namespace dstrain::comm::mpi
