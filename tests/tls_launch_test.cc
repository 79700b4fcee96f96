// Mutual TLS end to end: a coordinator, an agent and `launch --coordinator`
// with certificates this test makes with openssl (a CA and one node
// certificate for 127.0.0.1); a job trains. A plaintext client, a client
// whose certificate another CA signed, and half the flags are refused.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "tests/util/dstrain_test.h"
#include "tests/util/subprocess.h"
#include "tests/util/wait_for.h"

namespace dstrain {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::ReadJsonLines;
using testing::WaitFor;

std::string TinyJob() {
  return "name: tls\nprocs_per_node: 2\ndevice: cpu\nbackend: gloo\n"
         "model: {type: gpt, vocab: 256, layers: 1, d_model: 32, heads: 2, "
         "seq_len: 32}\n"
         "data: {type: text, path: /usr/share/games/fortunes}\n"
         "train: {steps: 4, micro_batch: 4}\n";
}

class TlsLaunchTest : public testing::DstrainTest {
 protected:
  void SetUp() override {
    DstrainTest::SetUp();
    if (std::system("openssl version >/dev/null 2>&1") != 0) {
      GTEST_SKIP() << "no openssl command to make test certificates";
    }
    ASSERT_TRUE(MakeCa("ca") && MakeCert("ca", "node") && MakeCa("other") &&
                MakeCert("other", "stranger"));
    token_ = WriteTokenFile("token", "tls-test-token");
  }

  // Runs `command` in dir_ through the shell; true on success.
  bool Sh(const std::string& command) {
    const std::string full =
        "cd '" + dir_.string() + "' && (" + command + ") >/dev/null 2>&1";
    const int rc = std::system(full.c_str());
    return rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 0;
  }
  bool MakeCa(const std::string& name) {
    return Sh(
        "openssl req -x509 -newkey ec -pkeyopt "
        "ec_paramgen_curve:prime256v1 -nodes -keyout " +
        name + ".key -out " + name + ".pem -days 2 -subj /CN=" + name);
  }
  // A certificate for 127.0.0.1 that `ca` signed, usable by servers and
  // clients alike.
  bool MakeCert(const std::string& ca, const std::string& name) {
    return Sh(
        "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n"
        "extendedKeyUsage=serverAuth,clientAuth\\n' > " +
        name +
        ".ext && openssl req -newkey ec -pkeyopt "
        "ec_paramgen_curve:prime256v1 -nodes -keyout " +
        name + ".key -out " + name + ".csr -subj /CN=" + name +
        " && openssl x509 -req -in " + name + ".csr -CA " + ca +
        ".pem -CAkey " + ca + ".key -CAcreateserial -out " + name +
        ".pem -days 2 -extfile " + name + ".ext");
  }
  std::vector<std::string> Tls(const std::string& cert,
                               const std::string& ca = "ca") {
    return {"--tls-cert", (dir_ / (cert + ".pem")).string(),
            "--tls-key",  (dir_ / (cert + ".key")).string(),
            "--tls-ca",   (dir_ / (ca + ".pem")).string()};
  }
  std::unique_ptr<testing::Subprocess> Start(
      std::vector<std::string> args, const std::vector<std::string>& tls) {
    args.insert(args.end(), tls.begin(), tls.end());
    return StartDstrain(args);
  }

  std::string token_;
};

TEST_F(TlsLaunchTest, AJobTrainsOverMutualTlsAndStrangersAreRefused) {
  auto coord =
      Start({"coordinator", "--listen", "127.0.0.1:0", "--token-file", token_},
            Tls("node"));
  ASSERT_TRUE(coord);
  std::string address;
  ASSERT_TRUE(WaitFor(
      [&] {
        const std::string out = coord->Stdout();
        const std::size_t at = out.find("listening on ");
        if (at == std::string::npos || out.find('\n', at) == std::string::npos)
          return false;
        address = out.substr(at + 13, out.find('\n', at) - at - 13);
        return true;
      },
      30s))
      << coord->Stderr();
  auto agent = Start({"agent", "--coordinator", address, "--token-file", token_,
                      "--listen", "127.0.0.1:0", "--hostname", "tls-node"},
                     Tls("node"));
  ASSERT_TRUE(agent);
  ASSERT_TRUE(WaitFor(
      [&] { return agent->Stdout().find("serving on") != std::string::npos; },
      30s))
      << agent->Stderr();

  const std::string job = WriteFile("tls.yaml", TinyJob());
  const fs::path run_dir = dir_ / "run";
  auto launch = Start({"launch", job, "--coordinator", address, "--token-file",
                       token_, "--run-dir", run_dir.string(), "--quiet"},
                      Tls("node"));
  ASSERT_TRUE(launch);
  auto st = launch->Wait(180s);
  ASSERT_TRUE(st.has_value()) << launch->Stderr();
  EXPECT_EQ(testing::ShellExitCode(*st), 0)
      << launch->Stderr() << agent->Stderr();
  EXPECT_EQ(ReadJsonLines(run_dir / "metrics.jsonl").size(), 4u);

  // A plaintext client, and one whose certificate another CA signed: the
  // coordinator never accepts their calls.
  for (const auto& tls : {std::vector<std::string>{}, Tls("stranger", "ca"),
                          Tls("stranger", "other")}) {
    auto refused =
        Start({"launch", job, "--coordinator", address, "--token-file", token_,
               "--run-dir", (dir_ / "refused").string(), "--quiet"},
              tls);
    ASSERT_TRUE(refused);
    auto rst = refused->Wait(60s);
    ASSERT_TRUE(rst.has_value());
    EXPECT_EQ(testing::ShellExitCode(*rst), 1) << refused->Stderr();
    EXPECT_NE(refused->Stderr().find("LaunchJob to " + address),
              std::string::npos)
        << refused->Stderr();
  }
  agent->Signal(SIGTERM);
  EXPECT_TRUE(agent->Wait(30s).has_value());
  coord->Signal(SIGTERM);
  EXPECT_TRUE(coord->Wait(30s).has_value());
  // The refused handshakes are in the coordinator's log, as warnings.
  EXPECT_NE(coord->Stderr().find("[warning] TLS handshake failed"),
            std::string::npos)
      << coord->Stderr();
}

TEST_F(TlsLaunchTest, HalfTheFlagsIsAUsageError) {
  auto coord =
      StartDstrain({"coordinator", "--listen", "127.0.0.1:0", "--token-file",
                    token_, "--tls-cert", (dir_ / "node.pem").string()});
  ASSERT_TRUE(coord);
  auto st = coord->Wait(30s);
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(testing::ShellExitCode(*st), 2);
  EXPECT_NE(coord->Stderr().find("--tls-key is missing"), std::string::npos)
      << coord->Stderr();
  auto bad = StartDstrain(
      {"agent", "--coordinator", "127.0.0.1:1", "--token-file", token_,
       "--tls-cert", (dir_ / "node.csr").string(), "--tls-key",
       (dir_ / "node.key").string(), "--tls-ca", (dir_ / "token").string()});
  ASSERT_TRUE(bad);
  auto bst = bad->Wait(30s);
  ASSERT_TRUE(bst.has_value());
  EXPECT_EQ(testing::ShellExitCode(*bst), 2);
  EXPECT_NE(bad->Stderr().find("--tls-ca " + (dir_ / "token").string() +
                               ": not a PEM CA certificate"),
            std::string::npos)
      << bad->Stderr();
}

}  // namespace
}  // namespace dstrain
