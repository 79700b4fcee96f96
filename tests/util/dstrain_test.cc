#include "tests/util/dstrain_test.h"

#include <google/protobuf/util/json_util.h>
#include <unistd.h>

#include <fstream>
#include <limits>
#include <regex>
#include <sstream>

#include "tests/util/wait_for.h"

namespace dstrain::testing {

namespace fs = std::filesystem;
using google::protobuf::Struct;

std::string TinyJobYaml(const std::string& name, int steps,
                        int procs_per_node) {
  return "name: " + name +
         "\nprocs_per_node: " + std::to_string(procs_per_node) +
         "\ndevice: cpu\nbackend: gloo\n"
         "model: {type: gpt, vocab: 256, layers: 1, d_model: 32, heads: 2, "
         "seq_len: 32}\n"
         "data: {type: text, path: /usr/share/games/fortunes}\n"
         "train:\n  steps: " +
         std::to_string(steps) +
         "\n  micro_batch: 4\n"
         "  optimizer: {type: adamw, lr: 1.0e-2}\n"
         "  schedule: {type: constant}\n";
}

std::string DstrainBinary() {
  return std::string(DSTRAIN_BINARY_DIR) + "/bin/dstrain";
}

void DstrainTest::SetUp() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  dir_ = fs::temp_directory_path() /
         ("dstrain_" + std::string(info->test_suite_name()) + "_" +
          info->name() + "_" + std::to_string(getpid()));
  fs::remove_all(dir_);
  fs::create_directories(dir_);
  ASSERT_TRUE(fs::exists(DstrainBinary()))
      << DstrainBinary() << " is not built";
}

void DstrainTest::TearDown() { fs::remove_all(dir_); }

std::string DstrainTest::WriteFile(const std::string& name,
                                   const std::string& text) {
  const fs::path p = dir_ / name;
  std::ofstream(p) << text;
  return p.string();
}

std::string DstrainTest::WriteTokenFile(const std::string& name,
                                        const std::string& token) {
  const std::string path = WriteFile(name, token + "\n");
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
  return path;
}

std::unique_ptr<Subprocess> DstrainTest::StartDstrain(
    const std::vector<std::string>& args,
    const std::vector<std::string>& extra_env) {
  SubprocessOptions o;
  o.argv = {DstrainBinary()};
  o.argv.insert(o.argv.end(), args.begin(), args.end());
  o.extra_env = extra_env;
  o.working_dir = dir_.string();
  std::string error;
  std::unique_ptr<Subprocess> sp = Subprocess::Start(o, &error);
  EXPECT_TRUE(sp != nullptr) << error;
  return sp;
}

std::unique_ptr<Subprocess> DstrainTest::StartCoordinator(
    const std::string& token_file, std::string* address,
    const std::vector<std::string>& extra, const std::string& listen) {
  std::vector<std::string> args = {"coordinator", "--listen", listen,
                                   "--token-file", token_file};
  args.insert(args.end(), extra.begin(), extra.end());
  std::unique_ptr<Subprocess> coord = StartDstrain(args);
  if (!coord) return nullptr;
  const std::regex listening("listening on (\\S+)\n");
  std::smatch m;
  std::string out;
  const bool up = WaitFor(
      [&] {
        out = coord->Stdout();
        return std::regex_search(out, m, listening);
      },
      std::chrono::seconds(30));
  EXPECT_TRUE(up) << "the coordinator did not come up: " << coord->Stderr();
  if (!up) return nullptr;
  *address = m[1];
  return coord;
}

DstrainTest::Ran DstrainTest::RunDstrain(const std::vector<std::string>& args,
                                         std::chrono::seconds deadline) {
  Ran r;
  std::unique_ptr<Subprocess> sp = StartDstrain(args);
  if (!sp) return r;
  const std::optional<int> status = sp->Wait(deadline);
  EXPECT_TRUE(status.has_value())
      << "dstrain " << (args.empty() ? "" : args[0])
      << " did not finish within " << deadline.count() << " s";
  if (status.has_value()) r.code = ShellExitCode(*status);
  r.out = sp->Stdout();
  r.err = sp->Stderr();
  return r;
}

fs::path DstrainTest::LaunchToSuccess(const std::string& job,
                                      const std::string& run,
                                      const std::vector<std::string>& extra,
                                      std::chrono::seconds deadline) {
  const fs::path run_dir = dir_ / run;
  std::vector<std::string> args = {"launch", job, "--run-dir",
                                   run_dir.string()};
  args.insert(args.end(), extra.begin(), extra.end());
  std::unique_ptr<Subprocess> sp = StartDstrain(args);
  if (!sp) return run_dir;
  const std::optional<int> status = sp->Wait(deadline);
  EXPECT_TRUE(status.has_value())
      << "launch did not finish within " << deadline.count() << " s\n"
      << sp->Stderr();
  if (status.has_value()) {
    EXPECT_EQ(ShellExitCode(*status), 0) << sp->Stdout() << sp->Stderr();
  }
  return run_dir;
}

std::vector<Struct> ReadJsonLines(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  const std::string all = text.str();
  std::vector<Struct> out;
  std::size_t begin = 0;
  while (begin < all.size()) {
    const std::size_t end = all.find('\n', begin);
    if (end == std::string::npos) break;  // still being written
    const std::string line = all.substr(begin, end - begin);
    begin = end + 1;
    if (line.empty()) continue;
    Struct s;
    const auto st = google::protobuf::util::JsonStringToMessage(line, &s);
    EXPECT_TRUE(st.ok()) << file << ": " << st.ToString() << ": " << line;
    if (st.ok()) out.push_back(std::move(s));
  }
  return out;
}

Struct ParseJson(const std::string& text) {
  Struct s;
  const auto st = google::protobuf::util::JsonStringToMessage(text, &s);
  EXPECT_TRUE(st.ok()) << st.ToString() << ": " << text;
  return s;
}

Struct ReadJsonFile(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return ParseJson(text.str());
}

double Num(const Struct& s, const std::string& key) {
  auto it = s.fields().find(key);
  EXPECT_NE(it, s.fields().end()) << "missing " << key;
  return it == s.fields().end() ? std::numeric_limits<double>::quiet_NaN()
                                : it->second.number_value();
}

std::string Str(const Struct& s, const std::string& key) {
  auto it = s.fields().find(key);
  EXPECT_NE(it, s.fields().end()) << "missing " << key;
  return it == s.fields().end() ? "" : it->second.string_value();
}

}  // namespace dstrain::testing
