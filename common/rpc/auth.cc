#include "common/rpc/auth.h"

#include <openssl/sha.h>

#include <cstdio>

namespace dstrain::rpc {

void AddToken(grpc::ClientContext* context, const std::string& token) {
  context->AddMetadata(kAuthorizationKey, std::string(kBearerPrefix) + token);
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  // Accumulate every difference so the loop never exits early.
  volatile unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff = diff | static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

Status CheckAuthorization(
    const std::multimap<grpc::string_ref, grpc::string_ref>& metadata,
    std::string_view expected_token) {
  if (expected_token.empty()) {
    return Status(StatusCode::kUnauthenticated,
                  "server has no cluster token configured");
  }
  auto it = metadata.find(kAuthorizationKey);
  if (it == metadata.end()) {
    return Status(StatusCode::kUnauthenticated,
                  "missing `authorization` metadata (cluster token)");
  }
  std::string_view value(it->second.data(), it->second.size());
  std::string_view prefix(kBearerPrefix);
  if (value.substr(0, prefix.size()) != prefix) {
    return Status(StatusCode::kUnauthenticated,
                  "`authorization` metadata is not `Bearer <token>`");
  }
  if (!ConstantTimeEquals(value.substr(prefix.size()), expected_token)) {
    return Status(StatusCode::kUnauthenticated, "wrong cluster token");
  }
  return Status::Ok();
}

StatusOr<std::string> PresentedToken(
    const std::multimap<grpc::string_ref, grpc::string_ref>& metadata) {
  auto it = metadata.find(kAuthorizationKey);
  if (it == metadata.end()) {
    return Status(StatusCode::kUnauthenticated,
                  "missing `authorization` metadata (a credential)");
  }
  std::string_view value(it->second.data(), it->second.size());
  std::string_view prefix(kBearerPrefix);
  if (value.substr(0, prefix.size()) != prefix ||
      value.size() == prefix.size()) {
    return Status(StatusCode::kUnauthenticated,
                  "`authorization` metadata is not `Bearer <token>`");
  }
  return std::string(value.substr(prefix.size()));
}

grpc::Status CheckToken(const grpc::ServerContextBase& context,
                        std::string_view expected_token) {
  Status s = CheckAuthorization(context.client_metadata(), expected_token);
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, s.message());
}

namespace {

std::string LowerHex(const unsigned char* bytes, std::size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    hex.push_back(kHex[bytes[i] >> 4]);
    hex.push_back(kHex[bytes[i] & 0xf]);
  }
  return hex;
}

}  // namespace

StatusOr<std::string> GenerateToken() {
  unsigned char bytes[32];
  std::FILE* f = std::fopen("/dev/urandom", "rb");
  if (f == nullptr) return Internal("cannot open /dev/urandom for a token");
  std::size_t n = std::fread(bytes, 1, sizeof(bytes), f);
  std::fclose(f);
  if (n != sizeof(bytes)) return Internal("short read from /dev/urandom");
  return LowerHex(bytes, sizeof(bytes));
}

std::string TokenDigest(std::string_view token) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(),
         digest);
  return LowerHex(digest, sizeof(digest));
}

Status ValidateToken(std::string_view token, std::string_view what) {
  if (token.empty()) {
    return InvalidArgument(std::string(what) + ": the token is empty");
  }
  if (token.size() > 4096) {
    return InvalidArgument(std::string(what) +
                           ": the token is longer than 4096 characters");
  }
  for (std::size_t i = 0; i < token.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(token[i]);
    if (c < 0x21 || c > 0x7e) {
      return InvalidArgument(std::string(what) + ": character " +
                             std::to_string(i + 1) +
                             " of the token is not printable ASCII "
                             "(spaces are not allowed)");
    }
  }
  return Status::Ok();
}

}  // namespace dstrain::rpc
