#include "tests/fuzz/fuzz_harness.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

namespace dstrain::fuzz {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// A call this late (wall time) is taken for a hang, spinning or blocked.
constexpr auto kHang = std::chrono::seconds(20);
const fs::path kFailures = fs::path(DSTRAIN_BINARY_DIR) / "fuzz-failures";

// The call in progress, for the crash handler and the watchdog. Plain
// globals: a signal handler may read nothing else.
char g_label[256];
const char* g_input = nullptr;
std::size_t g_input_size = 0;
char g_dump_path[512];

// The watchdog's view of the call in progress.
std::mutex g_mu;
bool g_busy = false;
Clock::time_point g_started;

double ThreadCpuSeconds() {
  timespec t{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

void WriteAll(int fd, const char* p, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w <= 0) return;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

// Saves the input in progress and says so on stderr. Async-signal-safe.
void DumpCurrentInput(const char* why) {
  WriteAll(2, why, std::strlen(why));
  WriteAll(2, g_label, std::strlen(g_label));
  const int fd = ::open(g_dump_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd >= 0) {
    WriteAll(fd, g_input, g_input_size);
    ::close(fd);
    const char saved[] = "; input saved to ";
    WriteAll(2, saved, sizeof(saved) - 1);
    WriteAll(2, g_dump_path, std::strlen(g_dump_path));
  }
  WriteAll(2, "\n", 1);
}

void OnCrash(int sig) {
  DumpCurrentInput("loaders_fuzz_test: crashed on ");
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

// The input, escaped, cut to a readable length.
std::string Show(const std::string& input) {
  std::ostringstream o;
  o << input.size() << " bytes: \"";
  for (std::size_t i = 0; i < input.size() && i < 300; ++i) {
    const auto c = static_cast<unsigned char>(input[i]);
    if (c == '\n') {
      o << "\\n";
    } else if (c == '"' || c == '\\') {
      o << '\\' << input[i];
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      o << buf;
    } else {
      o << input[i];
    }
  }
  o << (input.size() > 300 ? "\"..." : "\"");
  return o.str();
}

std::string Save(const std::string& label, const std::string& input) {
  std::string name = label;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  const fs::path path = kFailures / name;
  std::ofstream(path, std::ios::binary) << input;
  return path.string();
}

}  // namespace

Harness& Harness::Get() {
  static Harness* h = new Harness();
  return *h;
}

Harness::Harness() {
  fs::create_directories(kFailures);
  std::snprintf(g_dump_path, sizeof(g_dump_path), "%s",
                (kFailures / "crash.input").c_str());
  // Crash handlers run on a stack of their own: a stack overflow leaves
  // none.
  static std::vector<char> alt(1 << 16);
  stack_t ss{};
  ss.ss_sp = alt.data();
  ss.ss_size = alt.size();
  ::sigaltstack(&ss, nullptr);
  struct sigaction sa {};
  sa.sa_handler = OnCrash;
  sa.sa_flags = SA_ONSTACK | SA_RESETHAND;
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) {
    ::sigaction(sig, &sa, nullptr);
  }
  rlimit limit{};
  if (::getrlimit(RLIMIT_AS, &limit) == 0) {
    const rlim_t cap = rlim_t{4} << 30;
    if (limit.rlim_max == RLIM_INFINITY || limit.rlim_max > cap) {
      limit.rlim_cur = cap;
      ::setrlimit(RLIMIT_AS, &limit);
    }
  }
  std::thread([this] { Watch(); }).detach();
}

void Harness::Watch() {
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    std::lock_guard<std::mutex> lock(g_mu);
    if (g_busy && Clock::now() - g_started > kHang) {
      DumpCurrentInput("loaders_fuzz_test: no answer in 20 s (a hang) on ");
      std::abort();
    }
  }
}

void Harness::Run(const std::string& label, const std::string& input,
                  const std::function<std::string()>& check) {
  {
    std::lock_guard<std::mutex> lock(g_mu);
    std::snprintf(g_label, sizeof(g_label), "%s", label.c_str());
    g_input = input.data();
    g_input_size = input.size();
    g_started = Clock::now();
    g_busy = true;
  }
  const Clock::time_point start = Clock::now();
  const double cpu_start = ThreadCpuSeconds();
  const std::string finding = check();
  const double cpu = ThreadCpuSeconds() - cpu_start;
  const double wall =
      std::chrono::duration<double>(Clock::now() - start).count();
  {
    std::lock_guard<std::mutex> lock(g_mu);
    g_busy = false;
  }
  if (!finding.empty()) {
    ADD_FAILURE() << label << ": " << finding << "\n  input: " << Show(input)
                  << "\n  saved to " << Save(label, input);
  }
  if (cpu > static_cast<double>(kDeadline.count())) {
    ADD_FAILURE() << label << ": took " << cpu << " s of CPU (" << wall
                  << " s in all), past the " << kDeadline.count()
                  << " s deadline\n  input: " << Show(input) << "\n  saved to "
                  << Save(label, input);
  }
}

}  // namespace dstrain::fuzz
