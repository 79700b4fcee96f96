#pragma once
// What the end-to-end tests share: a scratch folder per test, the real
// `dstrain` binary started in it, and reading the JSON files a run leaves
// (metrics.jsonl, summary.json).

#include <google/protobuf/struct.pb.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tests/util/subprocess.h"

namespace dstrain::testing {

// build/bin/dstrain of the build these tests belong to.
std::string DstrainBinary();

// The end-to-end tests' job: a one-layer GPT on Debian's fortunes, CPU and
// Gloo, `procs_per_node` ranks (default 2), constant lr, `steps` steps.
std::string TinyJobYaml(const std::string& name, int steps,
                        int procs_per_node = 2);

// A test with its own empty folder, <tmp>/dstrain_<suite>_<test>_<pid>,
// removed afterwards, where the dstrain it starts runs.
class DstrainTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Writes `text` to dir_/`name`; returns the path.
  std::string WriteFile(const std::string& name, const std::string& text);
  // A cluster token file as dstrain accepts one: `token` on its first line,
  // mode 0600. Returns the path.
  std::string WriteTokenFile(const std::string& name, const std::string& token);

  // What a finished `dstrain` said: its exit code (-1 when it did not
  // finish) and its output.
  struct Ran {
    int code = -1;
    std::string out, err;
  };
  // Runs `dstrain <args...>` in dir_ to its end; not finishing within
  // `deadline` fails the test.
  Ran RunDstrain(const std::vector<std::string>& args,
                 std::chrono::seconds deadline = std::chrono::seconds(240));

  // Starts `dstrain <args...>` in dir_, `extra_env` ("KEY=VALUE") added.
  std::unique_ptr<Subprocess> StartDstrain(
      const std::vector<std::string>& args,
      const std::vector<std::string>& extra_env = {});

  // Starts `dstrain coordinator --listen <listen> --token-file <token>
  // <extra...>` and waits (30 s) until it says where it listens; `*address`
  // gets that host:port. Null (with a test failure) when it does not come
  // up.
  std::unique_ptr<Subprocess> StartCoordinator(
      const std::string& token_file, std::string* address,
      const std::vector<std::string>& extra = {},
      const std::string& listen = "127.0.0.1:0");

  // Runs `dstrain launch <job> --run-dir dir_/<run> <extra...>` to its end
  // and expects exit 0 (a failure names the deadline or shows stderr).
  // Returns the run folder.
  std::filesystem::path LaunchToSuccess(
      const std::string& job, const std::string& run,
      const std::vector<std::string>& extra = {},
      std::chrono::seconds deadline = std::chrono::seconds(240));

  std::filesystem::path dir_;
};

// One JSON object per line (metrics.jsonl). A last line without its
// newline is being written and is left out; any other line that does not
// parse fails the test.
std::vector<google::protobuf::Struct> ReadJsonLines(
    const std::filesystem::path& file);

// One JSON object (a --json summary on stdout); a parse error fails the
// test.
google::protobuf::Struct ParseJson(const std::string& text);

// A whole JSON file (summary.json); a parse error fails the test.
google::protobuf::Struct ReadJsonFile(const std::filesystem::path& file);

// Field `key` as a number or string; a missing field fails the test and
// gives NaN / "".
double Num(const google::protobuf::Struct& s, const std::string& key);
std::string Str(const google::protobuf::Struct& s, const std::string& key);

}  // namespace dstrain::testing
