// dstrain-worker as real processes: torchrun-style environment, a TCPStore
// rendezvous, metrics as JSON lines on an inherited fd, exit codes.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "common/loopback_port.h"
#include "common/unique_fd.h"

namespace dstrain {
namespace {
namespace fs = std::filesystem;

const char* const kWorker = DSTRAIN_BINARY_DIR "/bin/dstrain-worker";

// Reads `fd` to its end, then closes it.
std::string ReadAll(UniqueFd fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

struct Proc {
  pid_t pid = -1;
  int out_fd = -1, err_fd = -1, metrics_fd = -1;  // read ends; ReadAll closes
  int exit_code = -1;
  std::string out, err, metrics;
};

// Starts dstrain-worker with `env` added to this environment; its stdout,
// stderr and fd 3 (DSTRAIN_METRICS_FD) go to pipes.
Proc Start(const std::vector<std::string>& args,
           const std::map<std::string, std::string>& env) {
  int out[2], err[2], met[2];
  EXPECT_EQ(::pipe2(out, O_CLOEXEC), 0);
  EXPECT_EQ(::pipe2(err, O_CLOEXEC), 0);
  EXPECT_EQ(::pipe2(met, O_CLOEXEC), 0);
  // Closed as Start returns, leaving the write ends to the child alone.
  const UniqueFd out_w(out[1]), err_w(err[1]), met_w(met[1]);
  Proc p;
  p.pid = ::fork();
  if (p.pid == 0) {
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    ::dup2(met[1], 3);  // dup2 clears CLOEXEC on the copy
    for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> argv{const_cast<char*>(kWorker)};
    for (const std::string& a : args)
      argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(kWorker, argv.data());
    ::_exit(127);
  }
  p.out_fd = out[0];
  p.err_fd = err[0];
  p.metrics_fd = met[0];
  return p;
}

// Waits for every process (deadline: then kills them and fails), then
// collects their output.
void Finish(std::vector<Proc>& procs, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  size_t done = 0;
  while (done < procs.size()) {
    done = 0;
    for (Proc& p : procs) {
      if (p.exit_code >= 0) {
        ++done;
        continue;
      }
      int status = 0;
      if (::waitpid(p.pid, &status, WNOHANG) == p.pid) {
        p.exit_code =
            WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        ++done;
      }
    }
    if (done < procs.size() && std::chrono::steady_clock::now() > deadline) {
      for (Proc& p : procs) {
        if (p.exit_code < 0) {
          ::kill(p.pid, SIGKILL);
          ::waitpid(p.pid, nullptr, 0);
          p.exit_code = 137;
        }
      }
      ADD_FAILURE() << "workers did not finish within " << limit.count()
                    << " s";
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // poll
  }
  for (Proc& p : procs) {
    p.out = ReadAll(UniqueFd(p.out_fd));
    p.err = ReadAll(UniqueFd(p.err_fd));
    p.metrics = ReadAll(UniqueFd(p.metrics_fd));
  }
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t nl; (nl = text.find('\n', start)) != std::string::npos;
       start = nl + 1) {
    out.push_back(text.substr(start, nl - start));
  }
  EXPECT_EQ(start, text.size()) << "last line not terminated";
  return out;
}

std::string Field(const std::string& json, const std::string& key) {
  const std::regex re("\"" + key + "\":(\"[^\"]*\"|[^,}]*)");
  std::smatch m;
  if (!std::regex_search(json, m, re)) return "<missing>";
  return m[1];
}

class WorkerCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dstrain_worker_cmd_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::ofstream corpus(dir_ / "corpus.txt");
    for (int i = 0; i < 3000; ++i)
      corpus << "hello world, line " << i % 17 << "\n";
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string WriteJob(const std::string& extra = "") {
    const fs::path p = dir_ / "job.yaml";
    std::ofstream(p)
        << "name: wc\n"
           "procs_per_node: 2\n"
           "model: {layers: 1, d_model: 32, heads: 2, seq_len: 16}\n"
           "data: {path: corpus.txt}\n"  // relative to the job
           "train:\n"
           "  steps: 5\n"
           "  micro_batch: 2\n"
           "  schedule: {type: cosine, warmup_steps: 1}\n"
        << extra;
    return p.string();
  }

  fs::path dir_;
};

TEST_F(WorkerCommandTest, TwoProcessesOverTcpStoreReportMetricsAndAgree) {
  const std::string job = WriteJob();
  const std::string port = std::to_string(FreeLoopbackPort());
  std::vector<Proc> procs;
  for (int r = 0; r < 2; ++r) {
    procs.push_back(Start({job}, {{"RANK", std::to_string(r)},
                                  {"WORLD_SIZE", "2"},
                                  {"LOCAL_RANK", std::to_string(r)},
                                  {"LOCAL_WORLD_SIZE", "2"},
                                  {"MASTER_ADDR", "127.0.0.1"},
                                  {"MASTER_PORT", port},
                                  {"DSTRAIN_JOB_ID", "job-7"},
                                  {"DSTRAIN_ATTEMPT", "1"},
                                  {"DSTRAIN_METRICS_FD", "3"}}));
  }
  Finish(procs, std::chrono::seconds(120));
  std::vector<std::vector<std::string>> lines;
  for (int r = 0; r < 2; ++r) {
    ASSERT_EQ(procs[r].exit_code, 0) << "rank " << r << ": " << procs[r].err;
    lines.push_back(Lines(procs[r].metrics));
    ASSERT_EQ(lines[r].size(), 6u) << procs[r].metrics;
    for (int s = 0; s < 5; ++s) {
      const std::string& l = lines[r][s];
      EXPECT_EQ(Field(l, "type"), "\"step\"");
      EXPECT_EQ(Field(l, "job_id"), "\"job-7\"");
      EXPECT_EQ(Field(l, "rank"), std::to_string(r));
      EXPECT_EQ(Field(l, "attempt"), "1");
      EXPECT_EQ(Field(l, "step"), std::to_string(s + 1));
      EXPECT_EQ(Field(l, "total_steps"), "5");
      for (const char* k :
           {"loss", "lr", "grad_norm", "tokens_per_s", "step_time_s",
            "comm_time_s", "loss_scale", "elapsed_s", "peak_rss_bytes"}) {
        EXPECT_NE(Field(l, k), "<missing>") << k;
        EXPECT_NE(Field(l, k), "null") << k;
      }
      EXPECT_EQ(l.front(), '{');
      EXPECT_EQ(l.back(), '}');
    }
    const std::string& result = lines[r][5];
    EXPECT_EQ(Field(result, "type"), "\"result\"");
    EXPECT_EQ(Field(result, "steps"), "5");
    EXPECT_TRUE(std::regex_match(Field(result, "param_digest"),
                                 std::regex("\"[0-9a-f]{16}\"")));
  }
  // Same global loss every step, same parameters at the end.
  for (int s = 0; s < 5; ++s) {
    EXPECT_EQ(Field(lines[0][s], "loss"), Field(lines[1][s], "loss"));
  }
  EXPECT_EQ(Field(lines[0][5], "param_digest"),
            Field(lines[1][5], "param_digest"));
  EXPECT_NE(procs[0].out.find("2 ranks, backend gloo"), std::string::npos)
      << procs[0].out;
  EXPECT_EQ(procs[1].out, "");  // only rank 0 talks
}

TEST_F(WorkerCommandTest, OneProcessNeedsNoRendezvousAndPrintsProgress) {
  std::vector<Proc> procs{Start({WriteJob()}, {})};
  Finish(procs, std::chrono::seconds(120));
  ASSERT_EQ(procs[0].exit_code, 0) << procs[0].err;
  EXPECT_NE(procs[0].out.find("step 5/5 loss"), std::string::npos)
      << procs[0].out;
}

TEST_F(WorkerCommandTest, InvalidJobExitsTwoWithTheLoadersMessage) {
  std::vector<Proc> procs{Start({WriteJob("  lerning_rate: 0.1\n")}, {})};
  Finish(procs, std::chrono::seconds(60));
  EXPECT_EQ(procs[0].exit_code, 2);
  EXPECT_NE(procs[0].err.find("lerning_rate"), std::string::npos)
      << procs[0].err;
  EXPECT_EQ(std::count(procs[0].err.begin(), procs[0].err.end(), '\n'), 1)
      << "one line: " << procs[0].err;
}

TEST_F(WorkerCommandTest, WorldWithoutRendezvousIsAClearError) {
  std::vector<Proc> procs{
      Start({WriteJob()}, {{"RANK", "0"}, {"WORLD_SIZE", "2"}})};
  Finish(procs, std::chrono::seconds(60));
  EXPECT_EQ(procs[0].exit_code, 2);
  EXPECT_NE(procs[0].err.find("MASTER_ADDR"), std::string::npos)
      << procs[0].err;
}

// A GPU job where the worker sees no GPU (hidden here even on a GPU host)
// stops at start with one line and exit code 2, before its rendezvous: rank
// 1 would otherwise wait for a store nobody serves.
TEST_F(WorkerCommandTest, CudaJobWithoutAVisibleGpuStopsAtStart) {
  const std::string port = std::to_string(FreeLoopbackPort());
  std::vector<Proc> procs{
      Start({WriteJob("device: cuda\n")}, {{"CUDA_VISIBLE_DEVICES", "-1"},
                                           {"RANK", "1"},
                                           {"WORLD_SIZE", "2"},
                                           {"LOCAL_RANK", "1"},
                                           {"MASTER_ADDR", "127.0.0.1"},
                                           {"MASTER_PORT", port}})};
  Finish(procs, std::chrono::seconds(60));
  EXPECT_EQ(procs[0].exit_code, 2);
  EXPECT_EQ(procs[0].err,
            "dstrain worker: device: cuda but no CUDA device is visible "
            "(CUDA_VISIBLE_DEVICES, driver); use device: cpu or run on a GPU "
            "node\n");
  EXPECT_EQ(procs[0].metrics, "");
}

TEST_F(WorkerCommandTest, BadEnvironmentNamesTheVariable) {
  std::vector<Proc> procs{
      Start({WriteJob()}, {{"RANK", "3"}, {"WORLD_SIZE", "2"}})};
  Finish(procs, std::chrono::seconds(60));
  EXPECT_EQ(procs[0].exit_code, 2);
  EXPECT_NE(procs[0].err.find("RANK=3"), std::string::npos) << procs[0].err;
}

}  // namespace
}  // namespace dstrain
