// Credentials stay secret while a job runs: neither the cluster token, the
// node token nor the job credential the workers hold appears in any
// process's command line, in the coordinator's state database (and its
// write-ahead log), or in what the coordinator, the agent and launch print
// (refusals included).

#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <sstream>

#include "tests/util/dstrain_test.h"
#include "tests/util/process_table.h"
#include "tests/util/subprocess.h"
#include "tests/util/wait_for.h"

namespace dstrain {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::WaitFor;

constexpr char kOperator[] = "operator-4f1c9a7e2b";
constexpr char kNode[] = "node-8d3e6b0a51";

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The DSTRAIN_TOKEN in a process's environment ("" when none or unreadable).
std::string TokenInEnvironment(pid_t pid) {
  const std::string env = ReadAll("/proc/" + std::to_string(pid) + "/environ");
  const std::string key = std::string("DSTRAIN_TOKEN=");
  std::size_t at = 0;
  while (at < env.size()) {
    const std::size_t end = env.find('\0', at);
    const std::string entry =
        env.substr(at, end == std::string::npos ? std::string::npos : end - at);
    if (entry.rfind(key, 0) == 0) return entry.substr(key.size());
    if (end == std::string::npos) break;
    at = end + 1;
  }
  return "";
}

class CredentialLeakTest : public testing::DstrainTest {};

TEST_F(CredentialLeakTest, NoCredentialInCommandLinesStateOrLogs) {
  const std::string op = WriteTokenFile("operator", kOperator);
  const std::string node = WriteTokenFile("node", kNode);
  const fs::path state = dir_ / "state";
  std::string address;
  auto coord = StartCoordinator(
      op, &address, {"--node-token-file", node, "--state", state.string()});
  ASSERT_TRUE(coord);
  auto agent =
      StartDstrain({"agent", "--coordinator", address, "--token-file", node,
                    "--listen", "127.0.0.1:0", "--hostname", "leak-node"});
  ASSERT_TRUE(agent);
  const std::string job = WriteFile(
      "leak.yaml",
      "name: leak\nprocs_per_node: 2\ndevice: cpu\nbackend: gloo\n"
      "model: {type: gpt, vocab: 256, layers: 1, d_model: 32, heads: 2, "
      "seq_len: 32}\ndata: {type: text, path: /usr/share/games/fortunes}\n"
      "train: {steps: 100000, micro_batch: 4}\n");
  auto launch =
      StartDstrain({"launch", job, "--coordinator", address, "--token-file", op,
                    "--run-dir", (dir_ / "run").string()});
  ASSERT_TRUE(launch);

  // While the workers run: the credential they hold, and every command line.
  std::string job_credential;
  ASSERT_TRUE(WaitFor(
      [&] {
        for (const auto& p : testing::ListProcesses()) {
          if (p.cmdline.find("--job-origin " + job) == std::string::npos) {
            continue;
          }
          job_credential = TokenInEnvironment(p.pid);
          if (!job_credential.empty()) return true;
        }
        return false;
      },
      120s))
      << launch->Stderr() << agent->Stderr();
  EXPECT_NE(job_credential, kOperator);
  EXPECT_NE(job_credential, kNode);
  const std::vector<std::string> secrets = {kOperator, kNode, job_credential};
  for (const auto& p : testing::ListProcesses()) {
    for (const std::string& secret : secrets) {
      EXPECT_EQ(p.cmdline.find(secret), std::string::npos)
          << "pid " << p.pid << " shows a credential: " << p.cmdline;
    }
  }
  // A refusal is logged too (with the caller's address, not the secret).
  auto refused =
      StartDstrain({"launch", job, "--coordinator", address, "--token-file",
                    node, "--run-dir", (dir_ / "refused").string()});
  ASSERT_TRUE(refused);
  ASSERT_TRUE(refused->Wait(60s).has_value());
  EXPECT_NE(refused->Stderr().find("a node credential may not call LaunchJob"),
            std::string::npos)
      << refused->Stderr();

  launch->Signal(SIGINT);  // detaches; the job keeps running
  ASSERT_TRUE(launch->Wait(30s).has_value());
  agent->Signal(SIGTERM);
  ASSERT_TRUE(agent->Wait(30s).has_value());
  coord->Signal(SIGTERM);
  ASSERT_TRUE(coord->Wait(30s).has_value());

  EXPECT_NE(coord->Stderr().find("refused LaunchJob from "), std::string::npos)
      << coord->Stderr();
  const std::string printed = coord->Stdout() + coord->Stderr() +
                              agent->Stdout() + agent->Stderr() +
                              launch->Stdout() + launch->Stderr() +
                              refused->Stdout() + refused->Stderr();
  std::string stored;
  for (const auto& entry : fs::directory_iterator(state)) {
    stored += ReadAll(entry.path());
  }
  EXPECT_FALSE(stored.empty());
  for (const std::string& secret : secrets) {
    EXPECT_EQ(printed.find(secret), std::string::npos)
        << "a credential was printed";
    EXPECT_EQ(stored.find(secret), std::string::npos)
        << "a credential is in " << state;
  }
}

}  // namespace
}  // namespace dstrain
