#pragma once
// How the communicator's types map onto NCCL's: dtypes (communicator.h's
// list) and reduce ops (kAvg is NCCL's own ncclAvg, not sum-then-divide),
// and NCCL results as one-line reasons. Pure; no CUDA device needed.

#include <c10/core/ScalarType.h>
#include <nccl.h>

#include <optional>
#include <string>

#include "worker/comm/communicator.h"

namespace dstrain::comm::nccl {

// nullopt for the dtypes communicator.h does not list (bool, complex, ...).
std::optional<ncclDataType_t> ToNcclDataType(c10::ScalarType type);

ncclRedOp_t ToNcclRedOp(ReduceOp op);

// "unhandled system error (run with NCCL_DEBUG=INFO for details): <NCCL's
// last error for comm, when it has one>". `comm` may be null.
std::string NcclErrorText(ncclResult_t result, ncclComm_t comm);

// "2.28.9" from NCCL_VERSION_CODE-style integers (X*10000 + Y*100 + Z).
std::string FormatNcclVersion(int code);

}  // namespace dstrain::comm::nccl
