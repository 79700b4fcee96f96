#pragma once
// The multi-host fixture of the netns tests: a coordinator and agents in
// network namespaces on one bridge (tests/util/netns.h), each with its own
// 10.x address: the coordinator on host 0, an agent on each host from 1
// (node-1, node-2, ...). Skips (with the reason) where namespaces cannot
// be made; CI runs as root and makes them. Header-only: each netns test
// binary includes it.

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/types.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "tests/util/dstrain_test.h"
#include "tests/util/netns.h"
#include "tests/util/subprocess.h"
#include "tests/util/wait_for.h"

namespace dstrain::testing {

namespace netns_fixture {
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using google::protobuf::Struct;

inline std::string Job(const std::string& name, int nodes, int ppn, int steps) {
  return TinyJobYaml(name, steps, ppn) +
         "nodes: {min: " + std::to_string(nodes) +
         ", max: " + std::to_string(nodes) + "}\n";
}

class NetnsLaunchTest : public DstrainTest {
 protected:
  void SetUp() override {
    DstrainTest::SetUp();
    std::string why;
    hosts_ = NetnsHosts::Create(AgentCount() + 1, &why);
    if (!hosts_) GTEST_SKIP() << "no network namespaces here: " << why;
    token_ = WriteTokenFile("token", "netns-test-token");
    coordinator_ = hosts_->Address(0) + ":7000";
    coord_ = In(
        0, {"coordinator", "--listen", coordinator_, "--token-file", token_});
    ASSERT_TRUE(coord_);
    ASSERT_TRUE(WaitFor(
        [&] {
          return coord_->Stdout().find("listening on") != std::string::npos;
        },
        30s))
        << coord_->Stderr();
    StartAgents(AgentEnv());
  }

  // What the agents (and so their workers) get in their environment.
  virtual std::vector<std::string> AgentEnv() const { return {}; }
  // Hosts with an agent, after the coordinator's.
  virtual int AgentCount() const { return 2; }

  // An agent on each host from 1 (node-1, node-2, ...), `env`
  // ("KEY=VALUE") in their environment and so in their workers'.
  void StartAgents(const std::vector<std::string>& env) {
    for (int i = 1; i <= AgentCount(); ++i) {
      // No --listen: each agent listens on its address toward the
      // coordinator, the one the other namespaces reach.
      agents_.push_back(
          In(i,
             {"agent", "--coordinator", coordinator_, "--token-file", token_,
              "--hostname", "node-" + std::to_string(i)},
             env));
      ASSERT_TRUE(agents_.back());
      ASSERT_TRUE(WaitFor(
          [&] {
            return agents_.back()->Stdout().find(
                       "serving on " + hosts_->Address(i)) != std::string::npos;
          },
          30s))
          << agents_.back()->Stdout() << agents_.back()->Stderr();
    }
  }

  // `dstrain <args>` inside host i.
  std::unique_ptr<Subprocess> In(int i, const std::vector<std::string>& args,
                                 const std::vector<std::string>& env = {}) {
    std::vector<std::string> argv = {DstrainBinary()};
    argv.insert(argv.end(), args.begin(), args.end());
    SubprocessOptions o;
    o.argv = hosts_->In(i, argv);
    o.extra_env = env;
    o.working_dir = dir_.string();
    std::string error;
    auto sp = Subprocess::Start(o, &error);
    EXPECT_TRUE(sp != nullptr) << error;
    return sp;
  }

  std::unique_ptr<Subprocess> Launch(const std::string& job,
                                     const fs::path& run_dir) {
    return In(0, {"launch", job, "--coordinator", coordinator_, "--token-file",
                  token_, "--run-dir", run_dir.string()});
  }

  // The latest job's id (`dstrain jobs --json`, in submission order); ""
  // before there is one.
  std::string LatestJobId() {
    auto jobs = In(0, {"jobs", "--json", "--coordinator", coordinator_,
                       "--token-file", token_});
    if (!jobs || !jobs->Wait(30s)) return "";
    const Struct all = ParseJson(jobs->Stdout());
    const auto& list = all.fields().at("jobs").list_value();
    if (list.values_size() == 0) return "";
    return Str(list.values(list.values_size() - 1).struct_value(), "job_id");
  }

  // The latest job's status (`dstrain status --json`), its id in job_id_;
  // empty before there is one.
  Struct Status() {
    job_id_ = LatestJobId();
    if (job_id_.empty()) return Struct();
    auto st = In(0, {"status", job_id_, "--json", "--coordinator", coordinator_,
                     "--token-file", token_});
    if (!st || !st->Wait(30s)) return Struct();
    return ParseJson(st->Stdout());
  }

  // Until `run_dir`'s metrics.jsonl holds `steps` lines.
  void WaitForSteps(const fs::path& run_dir, std::size_t steps,
                    const Subprocess& launch, std::chrono::seconds deadline) {
    ASSERT_TRUE(WaitFor(
        [&] {
          return ReadJsonLines(run_dir / "metrics.jsonl").size() >= steps;
        },
        deadline))
        << launch.Stdout() << launch.Stderr();
  }

  void TearDown() override {
    agents_.clear();
    coord_.reset();
    hosts_.reset();
    DstrainTest::TearDown();
  }

  std::unique_ptr<NetnsHosts> hosts_;
  std::string token_, coordinator_;
  std::unique_ptr<Subprocess> coord_;
  std::vector<std::unique_ptr<Subprocess>> agents_;
  std::string job_id_;  // Status()'s
};

inline std::vector<double> Losses(const fs::path& run_dir) {
  std::vector<double> out;
  for (const Struct& line : ReadJsonLines(run_dir / "metrics.jsonl")) {
    out.push_back(Num(line, "loss"));
  }
  return out;
}

// The pid of the worker process whose environment holds every one of
// `vars` ("KEY=VALUE"); -1 when none does. The namespaces share one pid
// space, so the test sees the agents' workers; and so does every netns
// test running beside it, with the same node names: name the run's
// DSTRAIN_RUN_DIR among `vars`.
inline pid_t FindWorker(const std::vector<std::string>& vars) {
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return -1;
  pid_t found = -1;
  while (dirent* e = ::readdir(proc)) {
    const pid_t pid = std::atoi(e->d_name);
    if (pid <= 0) continue;
    std::ifstream in("/proc/" + std::string(e->d_name) + "/environ");
    std::string env((std::istreambuf_iterator<char>(in)),
                    std::istreambuf_iterator<char>());
    std::vector<std::string> entries;
    for (std::size_t at = 0; at < env.size();) {
      const std::size_t end = env.find('\0', at);
      entries.push_back(
          env.substr(at, end == std::string::npos ? end : end - at));
      if (end == std::string::npos) break;
      at = end + 1;
    }
    bool all = true;
    for (const std::string& v : vars) {
      all =
          all && std::find(entries.begin(), entries.end(), v) != entries.end();
    }
    if (all) {
      found = pid;
      break;
    }
  }
  ::closedir(proc);
  return found;
}

}  // namespace netns_fixture

using netns_fixture::FindWorker;
using netns_fixture::Job;
using netns_fixture::Losses;
using netns_fixture::NetnsLaunchTest;

}  // namespace dstrain::testing
