#include "tests/util/netns.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace dstrain::testing {
namespace {

std::string IpTool() {
  for (const char* p : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  return "";
}

// Runs `command` through the shell, quietly; true on exit status 0.
bool Run(const std::string& command) {
  const int rc = std::system((command + " >/dev/null 2>&1").c_str());
  return rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 0;
}

// The output of `command`, for the PIDs inside a namespace.
std::string Output(const std::string& command) {
  std::string out;
  if (FILE* f = ::popen(command.c_str(), "r")) {
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    ::pclose(f);
  }
  return out;
}

}  // namespace

std::unique_ptr<NetnsHosts> NetnsHosts::Create(int count, std::string* why) {
  if (::geteuid() != 0) {
    *why = "network namespaces need root (run the netns tests as root)";
    return nullptr;
  }
  const std::string ip = IpTool();
  if (ip.empty()) {
    *why = "no `ip` tool (Debian's iproute2) to make network namespaces";
    return nullptr;
  }
  const int pid = static_cast<int>(::getpid());
  const std::string tag = "ds" + std::to_string(pid % 100000);
  // 10.100.0.0 .. 10.249.0.0: one /24 per test process.
  const int subnet = 100 + pid % 150;
  std::unique_ptr<NetnsHosts> hosts(new NetnsHosts(tag, subnet, count));
  const std::string br = hosts->Bridge();
  if (!Run(ip + " link add " + br + " type bridge") ||
      !Run(ip + " link set " + br + " up")) {
    *why = "cannot make a bridge with `ip link add ... type bridge`";
    return nullptr;
  }
  for (int i = 0; i < count; ++i) {
    const std::string ns = hosts->Namespace(i), veth = hosts->Veth(i);
    const bool ok =
        Run(ip + " netns add " + ns) &&
        Run(ip + " link add " + veth + " type veth peer name e0 netns " + ns) &&
        Run(ip + " link set " + veth + " master " + br) &&
        Run(ip + " link set " + veth + " up") &&
        Run(ip + " -n " + ns + " addr add " + hosts->Address(i) +
            "/24 dev e0") &&
        Run(ip + " -n " + ns + " link set e0 up") &&
        Run(ip + " -n " + ns + " link set lo up");
    if (!ok) {
      *why = "cannot make network namespace " + ns + " with its veth link";
      return nullptr;  // the destructor removes what was made
    }
  }
  return hosts;
}

NetnsHosts::~NetnsHosts() {
  const std::string ip = IpTool();
  for (int i = 0; i < count_; ++i) {
    const std::string ns = Namespace(i);
    std::istringstream pids(Output(ip + " netns pids " + ns + " 2>/dev/null"));
    for (int pid; pids >> pid;) ::kill(pid, SIGKILL);
    Run(ip + " netns del " + ns);
    Run(ip + " link del " + Veth(i));
  }
  Run(ip + " link del " + Bridge());
}

std::string NetnsHosts::Namespace(int i) const {
  return tag_ + "h" + std::to_string(i);
}

std::string NetnsHosts::Address(int i) const {
  return "10." + std::to_string(subnet_) + ".0." + std::to_string(i + 1);
}

std::vector<std::string> NetnsHosts::In(
    int i, const std::vector<std::string>& argv) const {
  std::vector<std::string> out = {IpTool(), "netns", "exec", Namespace(i)};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

bool NetnsHosts::SetLinkUp(int i, bool up) const {
  return Run(IpTool() + " -n " + Namespace(i) + " link set e0 " +
             (up ? "up" : "down"));
}

}  // namespace dstrain::testing
