#pragma once
// Argument checks every backend runs before starting a collective, so bad
// use is the same INVALID_ARGUMENT, with the same words, on gloo, mpi and
// nccl. `what` names the collective in the message ("gloo all-gather #3").

#include <ATen/core/Tensor.h>

#include <string>

#include "common/status.h"
#include "worker/comm/collective_label.h"
#include "worker/comm/communicator.h"

namespace dstrain::comm {

// "float32", "float16", "bfloat16", "float64", "int32", "int64", "uint8";
// other types by c10's name.
std::string DtypeName(at::ScalarType type);

// The label of collective `op` number `seq` of `backend` on `t` (numel and
// dtype; a barrier passes an undefined tensor and gets neither).
CollectiveLabel LabelFor(const char* backend, const char* op, std::int64_t seq,
                         const at::Tensor& t);

// One of the dtypes communicator.h lists.
bool IsSupportedDtype(at::ScalarType type);

// Defined, a supported dtype, on `device` (kCPU or kCUDA), contiguous.
// `role` ("input", "output", or "" for an in-place tensor) names it.
Status CheckTensor(const at::Tensor& t, const std::string& what,
                   const char* role, c10::DeviceType device);

// kAvg needs a floating dtype.
Status CheckReduceOp(ReduceOp op, at::ScalarType type, const std::string& what);

// output: size × input.numel() elements, input's dtype.
Status CheckAllGatherArgs(const at::Tensor& input, const at::Tensor& output,
                          int size, const std::string& what);

// input: size × output.numel() elements, output's dtype.
Status CheckReduceScatterArgs(const at::Tensor& input, const at::Tensor& output,
                              int size, const std::string& what);

Status CheckRoot(int root, int size, const std::string& what);

}  // namespace dstrain::comm
