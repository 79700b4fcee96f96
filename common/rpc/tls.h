#pragma once
// TLS for every dstrain channel: the coordinator's and the agents' servers
// present a certificate and require one from every client (mutual TLS), and
// every client verifies the server against the cluster's CA, as the
// Kubernetes API server and its kubelets do.
//
// A process turns it on once, at start, with UseTls (the coordinator and
// agent commands from --tls-cert/--tls-key/--tls-ca, `launch --coordinator`
// likewise, workers from the DSTRAIN_TLS_* paths their agent gives them);
// from then on MakeChannel and MakeServerCredentials (channel.h) make TLS
// channels and servers. Without it both stay plaintext, for the embedded
// `dstrain launch` on loopback. The cluster token is checked on top of TLS
// in either case.
//
// Thread-safe; UseTls is meant to be called before any channel is made.

#include <optional>
#include <string>

#include "common/status.h"

namespace dstrain::rpc {

// The three PEM files, as given on the command line.
struct TlsFiles {
  std::string cert;  // this process's certificate (chain)
  std::string key;   // its private key
  std::string ca;    // the CA that signed every dstrain certificate
  bool any() const { return !cert.empty() || !key.empty() || !ca.empty(); }
};

// The files' contents.
struct TlsConfig {
  std::string cert_pem;
  std::string key_pem;
  std::string ca_pem;
};

// Reads the three files: all three or none (INVALID_ARGUMENT naming the
// missing flag); each must be a readable PEM file (the message names the
// flag and the path). Returns nullopt when none is given.
StatusOr<std::optional<TlsConfig>> LoadTls(const TlsFiles& files);

// Turns TLS on for this process's channels and servers.
void UseTls(TlsConfig config);

// What UseTls set, if anything.
std::optional<TlsConfig> CurrentTls();

}  // namespace dstrain::rpc
