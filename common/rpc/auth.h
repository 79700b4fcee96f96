#pragma once
// Cluster-token authentication for every dstrain RPC.
//
// Every call carries the metadata `authorization: Bearer <token>`. Servers
// call CheckToken first thing in each handler and finish the call with the
// status it returns when that is not OK (UNAUTHENTICATED). The comparison is
// constant-time so the token cannot be guessed byte by byte from timing.
// All functions are thread-safe and keep no state.

#include <grpcpp/client_context.h>
#include <grpcpp/server_context.h>

#include <map>
#include <string>
#include <string_view>

#include "common/status.h"

namespace dstrain::rpc {

// gRPC metadata keys are lower case.
inline constexpr char kAuthorizationKey[] = "authorization";
inline constexpr char kBearerPrefix[] = "Bearer ";

// Adds `authorization: Bearer <token>` to a call about to be made.
void AddToken(grpc::ClientContext* context, const std::string& token);

// OK when `metadata` holds `authorization: Bearer <expected_token>`;
// UNAUTHENTICATED ("missing ..." / "wrong ...") otherwise. An empty expected
// token refuses everything: a server without a token is a bug, not a mode.
Status CheckAuthorization(
    const std::multimap<grpc::string_ref, grpc::string_ref>& metadata,
    std::string_view expected_token);

// The token of `authorization: Bearer <token>` in `metadata`;
// UNAUTHENTICATED when there is none.
StatusOr<std::string> PresentedToken(
    const std::multimap<grpc::string_ref, grpc::string_ref>& metadata);

// CheckAuthorization on a server call's client metadata, as a grpc::Status
// a handler can Finish with.
grpc::Status CheckToken(const grpc::ServerContextBase& context,
                        std::string_view expected_token);

// Equal length and bytes, in time that depends only on the lengths.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// 32 random bytes from /dev/urandom as 64 lower-case hex digits.
StatusOr<std::string> GenerateToken();

// SHA-256 of `token` as 64 lower-case hex digits: what a record keeps of a
// credential instead of the credential (it can check one presented to it
// but not hand it out).
std::string TokenDigest(std::string_view token);

// Each process of a coordinator names itself with a random instance id,
// sent as the initial metadata `dstrain-coordinator-instance` of every
// answer: a client that sees it change knows the coordinator restarted and
// lost what it kept only in memory (coordinator_kv_store.h).
inline constexpr char kCoordinatorInstanceKey[] = "dstrain-coordinator-instance";

// A token is 1..4096 printable ASCII characters without spaces, so it fits
// an HTTP/2 header value unchanged. INVALID_ARGUMENT names `what`.
Status ValidateToken(std::string_view token, std::string_view what);

}  // namespace dstrain::rpc
