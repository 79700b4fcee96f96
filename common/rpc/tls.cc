#include "common/rpc/tls.h"

#include <mutex>

#include "common/read_file.h"

namespace dstrain::rpc {
namespace {

std::mutex& TlsMutex() {
  static std::mutex mu;
  return mu;
}

std::optional<TlsConfig>& TlsState() {  // guarded by TlsMutex()
  static std::optional<TlsConfig> state;
  return state;
}

// A PEM file is text with a "-----BEGIN" armour line.
StatusOr<std::string> ReadPem(const std::string& path, const char* flag,
                              const char* what) {
  StatusOr<std::string> text =
      ReadConfigFile(path, std::size_t{1} << 20, std::string(flag) + " file");
  if (!text.ok()) return InvalidArgument(text.status().message());
  if (text->find("-----BEGIN ") == std::string::npos) {
    return InvalidArgument(std::string(flag) + " " + path + ": not a PEM " +
                           what + " (no -----BEGIN line)");
  }
  return text;
}

}  // namespace

StatusOr<std::optional<TlsConfig>> LoadTls(const TlsFiles& files) {
  if (!files.any()) return std::optional<TlsConfig>();
  for (const auto& [value, flag] :
       {std::pair{&files.cert, "--tls-cert"},
        std::pair{&files.key, "--tls-key"}, std::pair{&files.ca, "--tls-ca"}}) {
    if (value->empty()) {
      return InvalidArgument(
          std::string(flag) +
          " is missing: TLS needs --tls-cert, --tls-key and --tls-ca together");
    }
  }
  TlsConfig config;
  DSTRAIN_ASSIGN_OR_RETURN(config.cert_pem,
                           ReadPem(files.cert, "--tls-cert", "certificate"));
  DSTRAIN_ASSIGN_OR_RETURN(config.key_pem,
                           ReadPem(files.key, "--tls-key", "private key"));
  DSTRAIN_ASSIGN_OR_RETURN(config.ca_pem,
                           ReadPem(files.ca, "--tls-ca", "CA certificate"));
  return std::optional<TlsConfig>(std::move(config));
}

void UseTls(TlsConfig config) {
  std::lock_guard<std::mutex> lock(TlsMutex());
  TlsState() = std::move(config);
}

std::optional<TlsConfig> CurrentTls() {
  std::lock_guard<std::mutex> lock(TlsMutex());
  return TlsState();
}

}  // namespace dstrain::rpc
