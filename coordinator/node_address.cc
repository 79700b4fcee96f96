#include "coordinator/node_address.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <cstring>

#include "common/strings.h"

namespace dstrain::coordinator {
namespace {

bool ParseIp(const std::string& ip, int* family, unsigned char* bytes) {
  if (::inet_pton(AF_INET, ip.c_str(), bytes) == 1) {
    *family = AF_INET;
    return true;
  }
  if (::inet_pton(AF_INET6, ip.c_str(), bytes) == 1) {
    *family = AF_INET6;
    return true;
  }
  return false;
}

std::string HostOf(const std::string& host_port) {
  const std::size_t colon = host_port.rfind(':');
  std::string host =
      colon == std::string::npos ? host_port : host_port.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return host;
}

}  // namespace

StatusOr<Cidr> ParseCidr(const std::string& text, const std::string& flag) {
  const std::size_t slash = text.find('/');
  Cidr net;
  const std::string ip = text.substr(0, slash);
  if (slash == std::string::npos || !ParseIp(ip, &net.family, net.bytes)) {
    return InvalidArgument(flag + " `" + text +
                           "` is not a network in CIDR notation, e.g. "
                           "10.0.0.0/8");
  }
  const int max = net.family == AF_INET ? 32 : 128;
  std::optional<int> prefix = ParseInteger<int>(text.substr(slash + 1));
  if (!prefix || *prefix < 0 || *prefix > max) {
    return InvalidArgument(flag + " `" + text +
                           "`: the prefix length must be " + "0 to " +
                           std::to_string(max));
  }
  net.prefix = *prefix;
  return net;
}

bool InCidr(const Cidr& net, const std::string& ip) {
  int family = 0;
  unsigned char bytes[16] = {};
  if (!ParseIp(ip, &family, bytes) || family != net.family) return false;
  const int full = net.prefix / 8;
  if (std::memcmp(bytes, net.bytes, full) != 0) return false;
  const int rest = net.prefix % 8;
  if (rest == 0) return true;
  const unsigned char mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (bytes[full] & mask) == (net.bytes[full] & mask);
}

StatusOr<std::string> PickNodeAddress(const std::string& node_name,
                                      const std::vector<std::string>& addresses,
                                      const std::string& agent_address,
                                      const std::optional<Cidr>& node_network) {
  if (node_network.has_value()) {
    for (const std::string& a : addresses) {
      if (InCidr(*node_network, a)) return a;
    }
    std::string listed;
    for (const std::string& a : addresses) {
      listed += (listed.empty() ? "" : ", ") + a;
    }
    return NotFound("node " + node_name +
                    " has no address in the node "
                    "network (--node-network); its addresses: " +
                    (listed.empty() ? std::string("none") : listed));
  }
  return HostOf(agent_address);
}

}  // namespace dstrain::coordinator
