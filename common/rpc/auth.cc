#include "common/rpc/auth.h"

#include <sys/stat.h>

#include <cstdio>
#include <fstream>

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

grpc::Status CheckToken(const grpc::ServerContextBase& context,
                        std::string_view expected_token) {
  Status s = CheckAuthorization(context.client_metadata(), expected_token);
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, s.message());
}

StatusOr<std::string> GenerateToken() {
  unsigned char bytes[32];
  std::FILE* f = std::fopen("/dev/urandom", "rb");
  if (f == nullptr) return Internal("cannot open /dev/urandom for a token");
  std::size_t n = std::fread(bytes, 1, sizeof(bytes), f);
  std::fclose(f);
  if (n != sizeof(bytes)) return Internal("short read from /dev/urandom");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string token;
  token.reserve(2 * sizeof(bytes));
  for (unsigned char b : bytes) {
    token.push_back(kHex[b >> 4]);
    token.push_back(kHex[b & 0xf]);
  }
  return token;
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

namespace {

bool IsRegularFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace

StatusOr<std::string> ResolveToken(const std::string& token_or_file) {
  std::string path;
  if (!token_or_file.empty() && token_or_file[0] == '@') {
    path = token_or_file.substr(1);
  } else if (IsRegularFile(token_or_file)) {
    path = token_or_file;
  }
  if (path.empty()) {
    DSTRAIN_RETURN_IF_ERROR(ValidateToken(token_or_file, "--token"));
    return token_or_file;
  }
  std::ifstream in(path);
  if (!in) return InvalidArgument("--token: cannot read token file " + path);
  std::string line;
  std::getline(in, line);
  auto is_space = [](char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
  };
  while (!line.empty() && is_space(line.back())) line.pop_back();
  std::size_t start = 0;
  while (start < line.size() && is_space(line[start])) ++start;
  line.erase(0, start);
  DSTRAIN_RETURN_IF_ERROR(ValidateToken(line, "token file " + path + ":1"));
  return line;
}

}  // namespace dstrain::rpc
