#pragma once
// Several "hosts" on one machine for tests: network namespaces joined by a
// bridge, each with its own 10.x address on a veth link (needs root and the
// `ip` tool of iproute2). Names are unique per process, so test runs can
// overlap; the destructor kills whatever still runs inside the namespaces
// and removes every namespace, link and the bridge it made.

#include <memory>
#include <string>
#include <vector>

namespace dstrain::testing {

class NetnsHosts {
 public:
  // `count` hosts; nullptr with `*why` set when namespaces cannot be made
  // here (not root, no `ip`, no bridge support), for a GTEST_SKIP.
  static std::unique_ptr<NetnsHosts> Create(int count, std::string* why);
  ~NetnsHosts();
  NetnsHosts(const NetnsHosts&) = delete;
  NetnsHosts& operator=(const NetnsHosts&) = delete;

  int count() const { return count_; }
  // Host i (0-based): its namespace and its address on the bridge.
  std::string Namespace(int i) const;
  std::string Address(int i) const;
  // `argv` run inside host i: {"/usr/sbin/ip", "netns", "exec", ns, argv...}.
  std::vector<std::string> In(int i,
                              const std::vector<std::string>& argv) const;
  // Cuts (or restores) host i's link to the bridge; false if `ip` failed.
  bool SetLinkUp(int i, bool up) const;

 private:
  NetnsHosts(std::string tag, int subnet, int count)
      : tag_(std::move(tag)), subnet_(subnet), count_(count) {}
  std::string Bridge() const { return tag_ + "b"; }
  std::string Veth(int i) const { return tag_ + "v" + std::to_string(i); }

  const std::string tag_;  // short, unique: interface names are <= 15 bytes
  const int subnet_;       // host i is 10.<subnet>.0.<i+1>/24
  const int count_;
};

}  // namespace dstrain::testing
