#include "worker/comm/mpi/mpi_types.h"

#include <c10/util/BFloat16.h>
#include <c10/util/Half.h>

#include <cmath>
#include <mutex>

#include "worker/comm/tensor_args.h"

namespace dstrain::comm::mpi {
namespace {

struct Add {
  float operator()(float a, float b) const { return a + b; }
};
// NaN wins, as in at::maximum / at::minimum.
struct Max {
  float operator()(float a, float b) const {
    return std::isnan(a) || a > b ? a : b;
  }
};
struct Min {
  float operator()(float a, float b) const {
    return std::isnan(a) || a < b ? a : b;
  }
};

template <typename T, typename F>
void Combine(void* in, void* inout, int* len) {
  const T* a = static_cast<const T*>(in);
  T* b = static_cast<T*>(inout);
  const F f;
  for (int i = 0; i < *len; ++i) {
    b[i] = T(f(static_cast<float>(a[i]), static_cast<float>(b[i])));
  }
}

struct HalfOps {
  MPI_Op half_sum, half_max, half_min;
  MPI_Op bf16_sum, bf16_max, bf16_min;
};

const HalfOps& TheHalfOps() {
  static const HalfOps ops = [] {
    HalfOps o{};
    // commute = 1: MPI may reorder operands, as for the built-in ops.
    MPI_Op_create(&HalfSum, 1, &o.half_sum);
    MPI_Op_create(&HalfMax, 1, &o.half_max);
    MPI_Op_create(&HalfMin, 1, &o.half_min);
    MPI_Op_create(&BFloat16Sum, 1, &o.bf16_sum);
    MPI_Op_create(&BFloat16Max, 1, &o.bf16_max);
    MPI_Op_create(&BFloat16Min, 1, &o.bf16_min);
    return o;
  }();
  return ops;
}

}  // namespace

void HalfSum(void* in, void* inout, int* len, MPI_Datatype*) {
  Combine<c10::Half, Add>(in, inout, len);
}
void HalfMax(void* in, void* inout, int* len, MPI_Datatype*) {
  Combine<c10::Half, Max>(in, inout, len);
}
void HalfMin(void* in, void* inout, int* len, MPI_Datatype*) {
  Combine<c10::Half, Min>(in, inout, len);
}
void BFloat16Sum(void* in, void* inout, int* len, MPI_Datatype*) {
  Combine<c10::BFloat16, Add>(in, inout, len);
}
void BFloat16Max(void* in, void* inout, int* len, MPI_Datatype*) {
  Combine<c10::BFloat16, Max>(in, inout, len);
}
void BFloat16Min(void* in, void* inout, int* len, MPI_Datatype*) {
  Combine<c10::BFloat16, Min>(in, inout, len);
}

StatusOr<MPI_Datatype> DatatypeFor(at::ScalarType type) {
  switch (type) {
    case at::kFloat:
      return MPI_FLOAT;
    case at::kDouble:
      return MPI_DOUBLE;
    case at::kInt:
      return MPI_INT32_T;
    case at::kLong:
      return MPI_INT64_T;
    case at::kByte:
      return MPI_UINT8_T;
    case at::kHalf:
    case at::kBFloat16:
      return MPI_UINT16_T;
    default:
      return InvalidArgument("mpi: " + DtypeName(type) +
                             " tensors are not supported");
  }
}

MPI_Op OpFor(ReduceOp op, at::ScalarType type) {
  if (type == at::kHalf || type == at::kBFloat16) {
    const HalfOps& h = TheHalfOps();
    const bool half = type == at::kHalf;
    switch (op) {
      case ReduceOp::kSum:
      case ReduceOp::kAvg:
        return half ? h.half_sum : h.bf16_sum;
      case ReduceOp::kMax:
        return half ? h.half_max : h.bf16_max;
      case ReduceOp::kMin:
        return half ? h.half_min : h.bf16_min;
    }
  }
  switch (op) {
    case ReduceOp::kSum:
    case ReduceOp::kAvg:
      return MPI_SUM;
    case ReduceOp::kMax:
      return MPI_MAX;
    case ReduceOp::kMin:
      return MPI_MIN;
  }
  return MPI_SUM;
}

}  // namespace dstrain::comm::mpi
