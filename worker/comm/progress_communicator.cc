#include "worker/comm/progress_communicator.h"

#include "worker/comm/tensor_args.h"

namespace dstrain::comm {
namespace {

// Marks the collective completed once the caller has waited for it.
class ReportingWork : public Work {
 public:
  ReportingWork(std::unique_ptr<Work> inner, contract::ProgressWriter* writer,
                int slot, std::int64_t seq)
      : inner_(std::move(inner)), writer_(writer), slot_(slot), seq_(seq) {}
  Status Wait() override {
    Status s = inner_->Wait();
    if (s.ok()) writer_->Completed(slot_, seq_);
    return s;
  }

 private:
  std::unique_ptr<Work> inner_;
  contract::ProgressWriter* const writer_;
  const int slot_;
  const std::int64_t seq_;
};

class ProgressCommunicator : public Communicator {
 public:
  ProgressCommunicator(std::unique_ptr<Communicator> inner,
                       contract::ProgressWriter* writer, int slot)
      : inner_(std::move(inner)), writer_(writer), slot_(slot) {}

  int rank() const override { return inner_->rank(); }
  int size() const override { return inner_->size(); }
  std::string backend() const override { return inner_->backend(); }
  std::chrono::milliseconds timeout() const override {
    return inner_->timeout();
  }

  StatusOr<std::unique_ptr<Work>> AllReduce(at::Tensor& tensor,
                                            ReduceOp op) override {
    const std::int64_t seq = Start("all-reduce", &tensor);
    return Wrap(inner_->AllReduce(tensor, op), seq);
  }
  StatusOr<std::unique_ptr<Work>> AllGather(const at::Tensor& input,
                                            at::Tensor& output) override {
    const std::int64_t seq = Start("all-gather", &input);
    return Wrap(inner_->AllGather(input, output), seq);
  }
  StatusOr<std::unique_ptr<Work>> ReduceScatter(const at::Tensor& input,
                                                at::Tensor& output,
                                                ReduceOp op) override {
    const std::int64_t seq = Start("reduce-scatter", &output);
    return Wrap(inner_->ReduceScatter(input, output, op), seq);
  }
  StatusOr<std::unique_ptr<Work>> Broadcast(at::Tensor& tensor,
                                            int root) override {
    const std::int64_t seq = Start("broadcast", &tensor);
    return Wrap(inner_->Broadcast(tensor, root), seq);
  }
  StatusOr<std::unique_ptr<Work>> Barrier() override {
    const std::int64_t seq = Start("barrier", nullptr);
    return Wrap(inner_->Barrier(), seq);
  }
  StatusOr<std::unique_ptr<Communicator>> Split(int color, int key) override {
    const std::int64_t seq = Start("split", nullptr);
    StatusOr<std::unique_ptr<Communicator>> child = inner_->Split(color, key);
    if (child.ok()) writer_->Completed(slot_, seq);
    if (!child.ok() || *child == nullptr) return child;
    return WithProgressReports(std::move(child).value(), writer_,
                               "split-" + std::to_string(++splits_));
  }

 private:
  std::int64_t Start(const char* op, const at::Tensor* t) {
    const std::int64_t seq = ++seq_;
    writer_->Started(slot_, op, seq, t != nullptr ? t->numel() : 0,
                     t != nullptr ? DtypeName(t->scalar_type()) : "");
    return seq;
  }
  StatusOr<std::unique_ptr<Work>> Wrap(StatusOr<std::unique_ptr<Work>> work,
                                       std::int64_t seq) {
    if (!work.ok()) return work;
    return std::unique_ptr<Work>(std::make_unique<ReportingWork>(
        std::move(work).value(), writer_, slot_, seq));
  }

  std::unique_ptr<Communicator> inner_;
  contract::ProgressWriter* const writer_;
  const int slot_;
  std::int64_t seq_ = 0;  // issuing thread only
  int splits_ = 0;
};

}  // namespace

std::unique_ptr<Communicator> WithProgressReports(
    std::unique_ptr<Communicator> inner, contract::ProgressWriter* writer,
    const std::string& name) {
  const int slot = writer->AddComm(name);
  return std::make_unique<ProgressCommunicator>(std::move(inner), writer, slot);
}

}  // namespace dstrain::comm
