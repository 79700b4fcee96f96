#pragma once
// Which address a node's workers listen on for collectives, so that the
// other nodes reach them: never the machine's hostname (several "hosts"
// may share one name, or it may resolve to loopback), but one of the
// addresses the node's agent reported.
//
//   - With a node network (`dstrain coordinator --node-network 10.0.0.0/8`):
//     the first of the node's addresses inside it.
//   - Otherwise: the address the coordinator reaches the node's agent at
//     (the host of its announced host:port), which the agent chose on its
//     route to the coordinator.
// Pure functions; thread-safe.

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace dstrain::coordinator {

// An IPv4 or IPv6 network in CIDR notation.
struct Cidr {
  int family = 0;  // AF_INET or AF_INET6
  unsigned char bytes[16] = {};
  int prefix = 0;
};

// "10.0.0.0/8", "fd00::/8"; INVALID_ARGUMENT naming `flag` otherwise.
StatusOr<Cidr> ParseCidr(const std::string& text, const std::string& flag);

// Whether the numeric address `ip` (no brackets, no port) is inside `net`.
bool InCidr(const Cidr& net, const std::string& ip);

// The node's collective address as described above; NOT_FOUND when the
// node network is given and none of `addresses` is in it (the message
// lists them).
StatusOr<std::string> PickNodeAddress(const std::string& node_name,
                                      const std::vector<std::string>& addresses,
                                      const std::string& agent_address,
                                      const std::optional<Cidr>& node_network);

}  // namespace dstrain::coordinator
