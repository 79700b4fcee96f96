#include "worker/comm/gloo_communicator.h"

#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <utility>
#include <vector>

#include "worker/comm/abort_latch.h"
#include "worker/comm/collective_label.h"
#include "worker/comm/progress_board.h"
#include "worker/comm/split_membership.h"
#include "worker/comm/tensor_args.h"
#include "worker/base/torch_error.h"
#include "worker/rendezvous/c10d_store_adapter.h"

namespace dstrain::comm {
namespace {

c10d::ReduceOp ToC10d(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum:
    case ReduceOp::kAvg:  // Gloo has no AVG: sum, then divide.
      return c10d::ReduceOp::SUM;
    case ReduceOp::kMax:
      return c10d::ReduceOp::MAX;
    case ReduceOp::kMin:
      return c10d::ReduceOp::MIN;
  }
  return c10d::ReduceOp::SUM;
}

std::mutex& EnqueueMutex() {
  static std::mutex* mu = new std::mutex();  // never destroyed: used at exit
  return *mu;
}

bool LooksLikeTimeout(const std::string& message) {
  for (const char* needle : {"Timed out", "timed out", "Timeout", "timeout"}) {
    if (message.find(needle) != std::string::npos) return true;
  }
  return false;
}

// What a communicator and the Works it hands out share; Works may outlive
// their communicator.
struct GroupState {
  int rank = 0;
  int size = 1;
  std::chrono::milliseconds timeout{0};
  std::unique_ptr<ProgressBoard> board;

  AbortLatch latch;

  // The error for `label` failing with Gloo's `message`.
  Status Classify(const CollectiveLabel& label, const std::string& message) {
    StatusOr<std::vector<int>> missing =
        board ? board->MissingRanks(label.seq)
              : StatusOr<std::vector<int>>(
                    Unavailable("no progress board for this group"));
    if (LooksLikeTimeout(message)) {
      return missing.ok() ? TimeoutError(label, timeout, rank, *missing)
                          : TimeoutError(label, timeout, rank, std::nullopt,
                                         missing.status().message());
    }
    std::string msg = Describe(label) + " failed on rank " +
                      std::to_string(rank) + ": " + message;
    if (missing.ok() && !missing->empty()) {
      msg += " (" + FormatRanks(*missing) + " had not started it)";
    }
    return Unavailable(std::move(msg));
  }
};

class DoneWork : public Work {
 public:
  Status Wait() override { return Status::Ok(); }
};

class GlooWork : public Work {
 public:
  GlooWork(std::shared_ptr<GroupState> state,
           c10::intrusive_ptr<c10d::Work> work, CollectiveLabel label,
           std::function<void()> finish)
      : state_(std::move(state)),
        work_(std::move(work)),
        label_(std::move(label)),
        finish_(std::move(finish)) {}

  Status Wait() override {
    if (!waited_) {
      status_ = WaitOnce();
      waited_ = true;
    }
    return status_;
  }

 private:
  Status WaitOnce() {
    try {
      // Gloo's own timeout ends a stuck operation first; this bound only
      // guards against a Gloo that never returns (work queued behind a
      // slow one legitimately takes longer than one timeout).
      work_->wait(2 * state_->timeout + std::chrono::seconds(5));
      if (finish_) finish_();
      return Status::Ok();
    } catch (const std::exception& e) {
      return state_->latch.Trip(state_->Classify(label_, base::OneLine(e)));
    }
  }

  std::shared_ptr<GroupState> state_;
  c10::intrusive_ptr<c10d::Work> work_;
  CollectiveLabel label_;
  std::function<void()> finish_;  // runs after success (avg, slice copy)
  bool waited_ = false;
  Status status_;
};

class GlooCommunicator : public Communicator {
 public:
  GlooCommunicator(c10::intrusive_ptr<c10d::ProcessGroupGloo> pg,
                   std::shared_ptr<rendezvous::KeyValueStore> store,
                   GlooOptions options, std::shared_ptr<GroupState> state)
      : pg_(std::move(pg)),
        store_(std::move(store)),
        options_(std::move(options)),
        state_(std::move(state)) {}

  int rank() const override { return state_->rank; }
  int size() const override { return state_->size; }
  std::string backend() const override { return "gloo"; }
  std::chrono::milliseconds timeout() const override {
    return options_.timeout;
  }

  StatusOr<std::unique_ptr<Work>> AllReduce(at::Tensor& tensor,
                                            ReduceOp op) override {
    CollectiveLabel label = Label("all-reduce", tensor);
    const std::string what = Describe(label);
    DSTRAIN_RETURN_IF_ERROR(CheckTensor(tensor, what, "", at::kCPU));
    DSTRAIN_RETURN_IF_ERROR(CheckReduceOp(op, tensor.scalar_type(), what));
    std::function<void()> finish;
    if (op == ReduceOp::kAvg && size() > 1) {
      finish = [tensor, n = size()]() mutable { tensor.div_(n); };
    }
    return Start(std::move(label), std::move(finish), [&] {
      std::vector<at::Tensor> tensors{tensor};
      c10d::AllreduceOptions opts;
      opts.reduceOp = ToC10d(op);
      return pg_->allreduce(tensors, opts);
    });
  }

  StatusOr<std::unique_ptr<Work>> AllGather(const at::Tensor& input,
                                            at::Tensor& output) override {
    CollectiveLabel label = Label("all-gather", input);
    const std::string what = Describe(label);
    DSTRAIN_RETURN_IF_ERROR(CheckTensor(input, what, "input", at::kCPU));
    DSTRAIN_RETURN_IF_ERROR(CheckTensor(output, what, "output", at::kCPU));
    DSTRAIN_RETURN_IF_ERROR(CheckAllGatherArgs(input, output, size(), what));
    return Start(std::move(label), nullptr, [&] {
      // Gloo gathers into its own flat buffer and copies each rank's piece
      // out to these views of `output`.
      const std::int64_t n = input.numel();
      at::Tensor flat_out = output.view({-1});
      std::vector<std::vector<at::Tensor>> outputs(1);
      for (int r = 0; r < size(); ++r) {
        outputs[0].push_back(flat_out.narrow(0, r * n, n));
      }
      std::vector<at::Tensor> inputs{input.view({-1})};
      return pg_->allgather(outputs, inputs);
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
    // Gloo's own reduce-scatter (checked: it takes every dtype of the
    // contract in libtorch 2.11) into `output` directly; no scratch buffer.
    std::function<void()> finish;
    if (op == ReduceOp::kAvg && size() > 1) {
      finish = [output, n = size()]() mutable { output.div_(n); };
    }
    return Start(std::move(label), std::move(finish), [&] {
      at::Tensor out = output.view({-1});
      at::Tensor in = input.view({-1});
      c10d::ReduceScatterOptions opts;
      opts.reduceOp = ToC10d(op);
      return pg_->_reduce_scatter_base(out, in, opts);
    });
  }

  StatusOr<std::unique_ptr<Work>> Broadcast(at::Tensor& tensor,
                                            int root) override {
    CollectiveLabel label = Label("broadcast", tensor);
    const std::string what = Describe(label);
    DSTRAIN_RETURN_IF_ERROR(CheckTensor(tensor, what, "", at::kCPU));
    DSTRAIN_RETURN_IF_ERROR(CheckRoot(root, size(), what));
    return Start(std::move(label), nullptr, [&] {
      std::vector<at::Tensor> tensors{tensor};
      c10d::BroadcastOptions opts;
      opts.rootRank = root;
      return pg_->broadcast(tensors, opts);
    });
  }

  StatusOr<std::unique_ptr<Work>> Barrier() override {
    CollectiveLabel label;
    label.backend = "gloo";
    label.op = "barrier";
    label.seq = seq_ + 1;
    return Start(
        std::move(label), nullptr, [&] { return pg_->barrier(); },
        /*touches_data=*/false);
  }

  StatusOr<std::unique_ptr<Communicator>> Split(int color, int key) override;

 private:
  CollectiveLabel Label(const char* op, const at::Tensor& t) const {
    return LabelFor("gloo", op, seq_ + 1, t);
  }

  template <typename F>
  StatusOr<std::unique_ptr<Work>> Start(CollectiveLabel label,
                                        std::function<void()> finish, F&& start,
                                        bool touches_data = true) {
    DSTRAIN_RETURN_IF_ERROR(state_->latch.CheckUsable(Describe(label)));
    label.seq = ++seq_;
    if (state_->board) state_->board->Started(label.seq);
    // Every rank sees the same sizes, so every rank skips the same empty
    // collectives and the group stays in step.
    if (touches_data && label.numel == 0) {
      return std::unique_ptr<Work>(std::make_unique<DoneWork>());
    }
    try {
      c10::intrusive_ptr<c10d::Work> work;
      {
        // libtorch 2.11's ProcessGroupGloo::enqueue records every work in
        // c10d's process-wide FlightRecorder without a lock that covers
        // concurrent enqueues from different process groups: two threads
        // issuing on two groups at once corrupted its map (a segfault in
        // FlightRecorder::recordWithResetEnabled, seen with ranks as
        // threads). Enqueueing only queues the work, so serialising it
        // costs nothing that matters.
        std::lock_guard<std::mutex> lock(EnqueueMutex());
        work = start();
      }
      return std::unique_ptr<Work>(std::make_unique<GlooWork>(
          state_, std::move(work), std::move(label), std::move(finish)));
    } catch (const std::exception& e) {
      // The peers started it; this rank's sequence is now out of step.
      return state_->latch.Trip(Unavailable(
          Describe(label) + " could not start: " + base::OneLine(e)));
    }
  }

  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg_;
  std::shared_ptr<rendezvous::KeyValueStore> store_;
  const GlooOptions options_;
  std::shared_ptr<GroupState> state_;
  // Only the thread issuing collectives touches these.
  std::int64_t seq_ = 0;
  std::int64_t splits_ = 0;
};

StatusOr<std::unique_ptr<Communicator>> MakeGloo(
    std::shared_ptr<rendezvous::KeyValueStore> store, int rank, int size,
    const GlooOptions& options) {
  if (store == nullptr) return InvalidArgument("gloo needs a rendezvous store");
  if (size < 1 || rank < 0 || rank >= size) {
    return InvalidArgument("gloo: rank " + std::to_string(rank) +
                           " is not in a group of " + std::to_string(size));
  }
  try {
    auto adapter = c10::make_intrusive<rendezvous::C10dStoreAdapter>(
        store, options.timeout);
    auto prefixed =
        c10::make_intrusive<c10d::PrefixStore>(options.key_prefix, adapter);
    auto opts = c10d::ProcessGroupGloo::Options::create(options.timeout);
    opts->threads = options.threads;
    opts->devices.push_back(
        options.interface.empty()
            ? c10d::ProcessGroupGloo::createDeviceForHostname(options.host)
            : c10d::ProcessGroupGloo::createDeviceForInterface(
                  options.interface));
    auto pg =
        c10::make_intrusive<c10d::ProcessGroupGloo>(prefixed, rank, size, opts);
    auto state = std::make_shared<GroupState>();
    state->rank = rank;
    state->size = size;
    state->timeout = options.timeout;
    StoreProgressBoardOptions board_opts;
    board_opts.publish_interval = options.progress_interval;
    state->board = std::make_unique<StoreProgressBoard>(
        store, options.key_prefix, rank, size, board_opts);
    return std::unique_ptr<Communicator>(std::make_unique<GlooCommunicator>(
        std::move(pg), std::move(store), options, std::move(state)));
  } catch (const std::exception& e) {
    return Unavailable(
        "gloo group " + options.key_prefix + " of " + std::to_string(size) +
        " ranks could not form (rank " + std::to_string(rank) + ", host " +
        (options.interface.empty() ? options.host : options.interface) +
        "): " + base::OneLine(e));
  }
}

StatusOr<std::unique_ptr<Communicator>> GlooCommunicator::Split(int color,
                                                                int key) {
  at::Tensor mine = at::empty({2}, at::kLong);
  mine[0] = static_cast<std::int64_t>(color);
  mine[1] = static_cast<std::int64_t>(key);
  at::Tensor all = at::empty({2 * size()}, at::kLong);
  DSTRAIN_RETURN_IF_ERROR(Await(AllGather(mine, all)));
  std::vector<SplitRequest> requests(size());
  const std::int64_t* p = all.data_ptr<std::int64_t>();
  for (int r = 0; r < size(); ++r) requests[r] = {p[2 * r], p[2 * r + 1]};
  const std::int64_t split = ++splits_;
  std::optional<SplitMembership> m = ComputeSplit(requests, rank());
  if (!m.has_value()) return std::unique_ptr<Communicator>();
  GlooOptions child = options_;
  child.key_prefix = options_.key_prefix + "/split" + std::to_string(split) +
                     "/color" + std::to_string(m->color);
  return MakeGloo(store_, m->rank, m->size(), child);
}

}  // namespace

StatusOr<std::unique_ptr<Communicator>> CreateGlooCommunicator(
    std::shared_ptr<rendezvous::KeyValueStore> store, int rank, int size,
    const GlooOptions& options) {
  return MakeGloo(std::move(store), rank, size, options);
}

}  // namespace dstrain::comm
