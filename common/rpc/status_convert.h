#pragma once
// dstrain::Status <-> grpc::Status. The codes are numerically identical
// (common/status.h mirrors gRPC's), so the conversion is one to one; only
// the service adapters and the clients use it (gRPC status stays at the
// edges; managers know only dstrain::Status).

#include <grpcpp/support/status.h>

#include <string_view>

#include "common/status.h"

namespace dstrain::rpc {

grpc::Status ToGrpcStatus(const Status& status);

Status FromGrpcStatus(const grpc::Status& status);

// FromGrpcStatus with `what` (e.g. "LaunchJob to 127.0.0.1:5000") put in
// front of the message, so a caller's error says which call failed.
Status FromGrpcStatus(const grpc::Status& status, std::string_view what);

}  // namespace dstrain::rpc
