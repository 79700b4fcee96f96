#include "worker/comm/tensor_args.h"

#include <c10/core/ScalarType.h>

namespace dstrain::comm {

std::string DtypeName(at::ScalarType type) {
  switch (type) {
    case at::kFloat:
      return "float32";
    case at::kHalf:
      return "float16";
    case at::kBFloat16:
      return "bfloat16";
    case at::kDouble:
      return "float64";
    case at::kInt:
      return "int32";
    case at::kLong:
      return "int64";
    case at::kByte:
      return "uint8";
    case at::kBool:
      return "bool";
    default:
      return c10::toString(type);
  }
}

CollectiveLabel LabelFor(const char* backend, const char* op, std::int64_t seq,
                         const at::Tensor& t) {
  CollectiveLabel label;
  label.backend = backend;
  label.op = op;
  label.seq = seq;
  if (t.defined()) {
    label.numel = t.numel();
    label.dtype = DtypeName(t.scalar_type());
  }
  return label;
}

bool IsSupportedDtype(at::ScalarType type) {
  switch (type) {
    case at::kFloat:
    case at::kHalf:
    case at::kBFloat16:
    case at::kDouble:
    case at::kInt:
    case at::kLong:
    case at::kByte:
      return true;
    default:
      return false;
  }
}

Status CheckTensor(const at::Tensor& t, const std::string& what,
                   const char* role, c10::DeviceType device) {
  const std::string name =
      *role != '\0' ? std::string(role) + " tensor" : std::string("tensor");
  if (!t.defined()) {
    return InvalidArgument(what + ": the " + name + " is undefined");
  }
  if (!IsSupportedDtype(t.scalar_type())) {
    return InvalidArgument(
        what + ": " + DtypeName(t.scalar_type()) +
        " tensors are not supported (float32, float16, bfloat16, float64, "
        "int32, int64, uint8 are)");
  }
  if (t.device().type() != device) {
    return InvalidArgument(what + ": the " + name + " is on " +
                           t.device().str() + ", this backend needs " +
                           c10::DeviceTypeName(device, /*lower_case=*/true) +
                           " tensors");
  }
  if (!t.is_contiguous()) {
    return InvalidArgument(what + ": the " + name + " is not contiguous");
  }
  return Status::Ok();
}

Status CheckReduceOp(ReduceOp op, at::ScalarType type,
                     const std::string& what) {
  if (op == ReduceOp::kAvg && !at::isFloatingType(type)) {
    return InvalidArgument(what + ": avg needs a floating dtype, not " +
                           DtypeName(type) + " (use sum and divide)");
  }
  return Status::Ok();
}

Status CheckAllGatherArgs(const at::Tensor& input, const at::Tensor& output,
                          int size, const std::string& what) {
  if (output.scalar_type() != input.scalar_type()) {
    return InvalidArgument(what + ": output is " +
                           DtypeName(output.scalar_type()) + ", input is " +
                           DtypeName(input.scalar_type()));
  }
  if (output.numel() != input.numel() * size) {
    return InvalidArgument(what + ": output has " +
                           std::to_string(output.numel()) +
                           " elements, needs " + std::to_string(size) + " x " +
                           std::to_string(input.numel()) + " = " +
                           std::to_string(input.numel() * size));
  }
  return Status::Ok();
}

Status CheckReduceScatterArgs(const at::Tensor& input, const at::Tensor& output,
                              int size, const std::string& what) {
  if (output.scalar_type() != input.scalar_type()) {
    return InvalidArgument(what + ": output is " +
                           DtypeName(output.scalar_type()) + ", input is " +
                           DtypeName(input.scalar_type()));
  }
  if (input.numel() != output.numel() * size) {
    return InvalidArgument(what + ": input has " +
                           std::to_string(input.numel()) + " elements, needs " +
                           std::to_string(size) + " x " +
                           std::to_string(output.numel()) + " = " +
                           std::to_string(output.numel() * size));
  }
  return Status::Ok();
}

Status CheckRoot(int root, int size, const std::string& what) {
  if (root < 0 || root >= size) {
    return InvalidArgument(what + ": root " + std::to_string(root) +
                           " is not a rank of this group of " +
                           std::to_string(size));
  }
  return Status::Ok();
}

}  // namespace dstrain::comm
