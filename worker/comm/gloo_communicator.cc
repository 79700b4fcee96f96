#include "worker/comm/gloo_communicator.h"

#include <exception>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <vector>

#include "worker/engine/torch_error.h"
#include "worker/rendezvous/c10d_store_adapter.h"

namespace dstrain::comm {
namespace {

c10d::ReduceOp ToC10d(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum:
      return c10d::ReduceOp::SUM;
    case ReduceOp::kMax:
      return c10d::ReduceOp::MAX;
    case ReduceOp::kMin:
      return c10d::ReduceOp::MIN;
  }
  return c10d::ReduceOp::SUM;
}

class GlooWork : public Work {
 public:
  GlooWork(c10::intrusive_ptr<c10d::Work> work, std::string what)
      : work_(std::move(work)), what_(std::move(what)) {}

  Status Wait() override {
    try {
      work_->wait();
      return Status::Ok();
    } catch (const std::exception& e) {
      return Unavailable("gloo " + what_ + " failed: " + engine::OneLine(e));
    }
  }

 private:
  c10::intrusive_ptr<c10d::Work> work_;
  std::string what_;
};

class GlooCommunicator : public Communicator {
 public:
  explicit GlooCommunicator(c10::intrusive_ptr<c10d::ProcessGroupGloo> pg)
      : pg_(std::move(pg)) {}

  int rank() const override { return pg_->getRank(); }
  int size() const override { return pg_->getSize(); }
  std::string backend() const override { return "gloo"; }

  StatusOr<std::unique_ptr<Work>> AllReduce(at::Tensor& tensor,
                                            ReduceOp op) override {
    if (tensor.scalar_type() == at::kBool) {
      return InvalidArgument("gloo cannot all-reduce bool tensors");
    }
    std::vector<at::Tensor> tensors{tensor};
    c10d::AllreduceOptions opts;
    opts.reduceOp = ToC10d(op);
    return Start([&] { return pg_->allreduce(tensors, opts); }, "all-reduce");
  }

  StatusOr<std::unique_ptr<Work>> Broadcast(at::Tensor& tensor,
                                            int root) override {
    if (tensor.scalar_type() == at::kBool) {
      return InvalidArgument("gloo cannot broadcast bool tensors");
    }
    std::vector<at::Tensor> tensors{tensor};
    c10d::BroadcastOptions opts;
    opts.rootRank = root;
    return Start([&] { return pg_->broadcast(tensors, opts); }, "broadcast");
  }

  Status Barrier() override {
    StatusOr<std::unique_ptr<Work>> w =
        Start([&] { return pg_->barrier(); }, "barrier");
    if (!w.ok()) return w.status();
    return (*w)->Wait();
  }

 private:
  template <typename F>
  StatusOr<std::unique_ptr<Work>> Start(F&& start, const std::string& what) {
    try {
      return std::unique_ptr<Work>(std::make_unique<GlooWork>(start(), what));
    } catch (const std::exception& e) {
      return Unavailable("gloo " + what +
                         " could not start: " + engine::OneLine(e));
    }
  }

  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg_;
};

}  // namespace

StatusOr<std::unique_ptr<Communicator>> CreateGlooCommunicator(
    std::shared_ptr<rendezvous::KeyValueStore> store, int rank, int size,
    const GlooOptions& options) {
  if (store == nullptr) return InvalidArgument("gloo needs a rendezvous store");
  try {
    auto adapter = c10::make_intrusive<rendezvous::C10dStoreAdapter>(
        std::move(store), options.timeout);
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
    return std::unique_ptr<Communicator>(
        std::make_unique<GlooCommunicator>(std::move(pg)));
  } catch (const std::exception& e) {
    return Unavailable(
        "gloo group of " + std::to_string(size) +
        " ranks could not form (rank " + std::to_string(rank) + ", host " +
        (options.interface.empty() ? options.host : options.interface) +
        "): " + engine::OneLine(e));
  }
}

}  // namespace dstrain::comm
