#include "worker/comm/checked_communicator.h"

#include <ATen/ATen.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "worker/comm/collective_fingerprint.h"
#include "worker/comm/tensor_args.h"

namespace dstrain::comm {
namespace {

// Stable codes for the exchange: position in this list, 0 for anything else.
constexpr at::ScalarType kDtypeCodes[] = {at::kFloat,  at::kHalf, at::kBFloat16,
                                          at::kDouble, at::kInt,  at::kLong,
                                          at::kByte,   at::kBool};

std::int64_t DtypeCode(at::ScalarType t) {
  for (std::size_t i = 0; i < std::size(kDtypeCodes); ++i) {
    if (kDtypeCodes[i] == t) return static_cast<std::int64_t>(i) + 1;
  }
  return 0;
}

std::string DtypeNameOfCode(std::int64_t code) {
  if (code >= 1 && code <= static_cast<std::int64_t>(std::size(kDtypeCodes))) {
    return DtypeName(kDtypeCodes[code - 1]);
  }
  return "another dtype";
}

// Reduce ops encode as 1 + their enum value; roots as 1000 + root.
constexpr std::int64_t kRootBase = 1000;

std::string ArgName(CollectiveKind kind, std::int64_t code) {
  if (kind == CollectiveKind::kBroadcast) {
    return "root " + std::to_string(code - kRootBase);
  }
  if (kind == CollectiveKind::kAllReduce ||
      kind == CollectiveKind::kReduceScatter) {
    return ReduceOpName(static_cast<ReduceOp>(code - 1));
  }
  return "";
}

Fingerprint Make(CollectiveKind kind, const at::Tensor* t, std::int64_t arg) {
  Fingerprint f;
  f.kind = kind;
  if (t != nullptr && t->defined()) {
    f.dtype_code = DtypeCode(t->scalar_type());
    f.dtype = DtypeNameOfCode(f.dtype_code);
    f.numel = t->numel();
  }
  f.arg_code = arg;
  f.arg = ArgName(kind, arg);
  return f;
}

Fingerprint FromWords(const std::int64_t* w) {
  Fingerprint f;
  f.kind = static_cast<CollectiveKind>(w[0]);
  f.dtype_code = w[1];
  f.dtype = w[0] == static_cast<std::int64_t>(CollectiveKind::kBarrier) ||
                    w[0] == static_cast<std::int64_t>(CollectiveKind::kSplit)
                ? ""
                : DtypeNameOfCode(w[1]);
  f.numel = w[2];
  f.arg_code = w[3];
  f.arg = ArgName(f.kind, w[3]);
  return f;
}

class CheckedCommunicator : public Communicator {
 public:
  CheckedCommunicator(std::unique_ptr<Communicator> owned, Communicator* inner,
                      c10::Device device)
      : owned_(std::move(owned)), inner_(inner), device_(device) {}

  int rank() const override { return inner_->rank(); }
  int size() const override { return inner_->size(); }
  std::string backend() const override { return inner_->backend(); }
  std::chrono::milliseconds timeout() const override {
    return inner_->timeout();
  }

  StatusOr<std::unique_ptr<Work>> AllReduce(at::Tensor& tensor,
                                            ReduceOp op) override {
    DSTRAIN_RETURN_IF_ERROR(Check(Make(CollectiveKind::kAllReduce, &tensor,
                                       1 + static_cast<std::int64_t>(op))));
    return inner_->AllReduce(tensor, op);
  }

  StatusOr<std::unique_ptr<Work>> AllGather(const at::Tensor& input,
                                            at::Tensor& output) override {
    DSTRAIN_RETURN_IF_ERROR(Check(Make(CollectiveKind::kAllGather, &input, 0)));
    return inner_->AllGather(input, output);
  }

  StatusOr<std::unique_ptr<Work>> ReduceScatter(const at::Tensor& input,
                                                at::Tensor& output,
                                                ReduceOp op) override {
    DSTRAIN_RETURN_IF_ERROR(Check(Make(CollectiveKind::kReduceScatter, &output,
                                       1 + static_cast<std::int64_t>(op))));
    return inner_->ReduceScatter(input, output, op);
  }

  StatusOr<std::unique_ptr<Work>> Broadcast(at::Tensor& tensor,
                                            int root) override {
    DSTRAIN_RETURN_IF_ERROR(
        Check(Make(CollectiveKind::kBroadcast, &tensor, kRootBase + root)));
    return inner_->Broadcast(tensor, root);
  }

  StatusOr<std::unique_ptr<Work>> Barrier() override {
    DSTRAIN_RETURN_IF_ERROR(Check(Make(CollectiveKind::kBarrier, nullptr, 0)));
    return inner_->Barrier();
  }

  StatusOr<std::unique_ptr<Communicator>> Split(int color, int key) override {
    DSTRAIN_RETURN_IF_ERROR(Check(Make(CollectiveKind::kSplit, nullptr, 0)));
    StatusOr<std::unique_ptr<Communicator>> child = inner_->Split(color, key);
    if (!child.ok() || *child == nullptr) return child;
    return WithShapeChecks(std::move(child).value(), device_);
  }

 private:
  Status Check(const Fingerprint& mine) {
    const std::string what = backend() + " " + CollectiveKindName(mine.kind) +
                             " #" + std::to_string(++seq_);
    const std::vector<std::int64_t> words = ToWords(mine);
    const auto n = static_cast<std::int64_t>(words.size());
    at::Tensor local = at::tensor(words, at::kLong).to(device_);
    at::Tensor all = at::empty({n * size()}, local.options());
    Status exchanged = Await(inner_->AllGather(local, all));
    if (!exchanged.ok()) {
      return Status(exchanged.code(),
                    "shape check before " + what + ": " + exchanged.message());
    }
    at::Tensor host = all.cpu();
    std::vector<Fingerprint> prints;
    for (int r = 0; r < size(); ++r) {
      prints.push_back(FromWords(host.data_ptr<std::int64_t>() + r * n));
    }
    return CompareFingerprints(what, prints);
  }

  std::unique_ptr<Communicator> owned_;  // null when borrowed
  Communicator* inner_;
  const c10::Device device_;
  std::int64_t seq_ = 0;  // the caller's collectives; issuing thread only
};

}  // namespace

std::unique_ptr<Communicator> WithShapeChecks(
    std::unique_ptr<Communicator> inner, c10::Device device) {
  Communicator* raw = inner.get();
  return std::make_unique<CheckedCommunicator>(std::move(inner), raw, device);
}

std::unique_ptr<Communicator> WithShapeChecksBorrowed(Communicator* inner,
                                                      c10::Device device) {
  return std::make_unique<CheckedCommunicator>(nullptr, inner, device);
}

bool ShapeChecksRequestedByEnv() {
  const char* v = std::getenv("DSTRAIN_COMM_CHECK");
  if (v == nullptr) return false;
  const std::string s(v);
  return s == "1" || s == "true" || s == "yes" || s == "on";
}

std::unique_ptr<Communicator> MaybeWithShapeChecks(
    std::unique_ptr<Communicator> inner, bool requested, c10::Device device) {
  if (inner == nullptr || !(requested || ShapeChecksRequestedByEnv())) {
    return inner;
  }
  return WithShapeChecks(std::move(inner), device);
}

}  // namespace dstrain::comm
