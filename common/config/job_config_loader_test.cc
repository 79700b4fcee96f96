// Tests of the job file loader: every file in testdata/bad/ must fail with
// the message its first line promises, good files load with the right
// values, overrides work and fail with the override named, every example
// job loads, and configs/README.md documents every key.

#include "common/config/job_config_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/config/job_validation.h"
#include "common/testing/status_matchers.h"

namespace dstrain::config {
namespace {

using ::dstrain::testing::IsOk;
using ::testing::Not;

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const fs::path kSource = DSTRAIN_SOURCE_DIR;
const fs::path kTestdata = kSource / "common/config/testdata";

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Changes the working directory for one scope, so that messages show the
// short file names a user would type.
class ScopedCwd {
 public:
  explicit ScopedCwd(const fs::path& dir) : old_(fs::current_path()) {
    fs::current_path(dir);
  }
  ~ScopedCwd() { fs::current_path(old_); }

 private:
  fs::path old_;
};

std::vector<fs::path> YamlFilesIn(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().extension() == ".yaml") {
      files.push_back(e.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

// The message an error carries, or a note that there was none.
std::string ErrorOf(const StatusOr<JobConfig>& r) {
  return r.ok() ? "<loaded without error>" : r.status().message();
}

TEST(JobConfigLoaderTest, EveryBadFileFailsWithItsExpectedMessage) {
  const fs::path dir = kTestdata / "bad";
  const std::vector<fs::path> files = YamlFilesIn(dir);
  ASSERT_GE(files.size(), 20u);
  ScopedCwd cwd(dir);
  const std::string kPrefix = "# expect: ";
  for (const fs::path& file : files) {
    SCOPED_TRACE(file.filename().string());
    std::ifstream in(file);
    std::string first;
    std::getline(in, first);
    ASSERT_EQ(first.rfind(kPrefix, 0), 0u)
        << "a bad job file must begin with `" << kPrefix << "<message>`";
    const std::string expected = first.substr(kPrefix.size());
    ASSERT_FALSE(expected.empty());

    StatusOr<JobConfig> r = LoadJobFile(file.filename().string());
    ASSERT_THAT(r, Not(IsOk())) << "loaded, but should fail with: " << expected;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(r.status().message(), HasSubstr(expected));
    EXPECT_EQ(r.status().message().find('\n'), std::string::npos)
        << "messages are one line: " << r.status().message();
  }
}

TEST(JobConfigLoaderTest, MessagesNameTheFileAsTheUserGaveIt) {
  ScopedCwd cwd(kTestdata);
  StatusOr<JobConfig> r = LoadJobFile("bad/unknown_key_typo.yaml");
  EXPECT_EQ(ErrorOf(r),
            "unknown key `stpes` at bad/unknown_key_typo.yaml:5:3; did you "
            "mean `steps`?");
}

TEST(JobConfigLoaderTest, FullFileLoadsEveryField) {
  const fs::path file = kTestdata / "good/full.yaml";
  StatusOr<JobConfig> r = LoadJobFile(file.string());
  ASSERT_THAT(r, IsOk()) << ErrorOf(r);
  const JobConfig& c = *r;
  EXPECT_EQ(c.name, "full-job_1.0");
  EXPECT_EQ(c.nodes.min, 2);
  EXPECT_EQ(c.nodes.max, 3);
  EXPECT_EQ(c.procs_per_node, 4);
  EXPECT_EQ(c.threads_per_proc, 2);
  EXPECT_EQ(c.device, Device::kCpu);
  EXPECT_EQ(c.backend, Backend::kGloo);
  EXPECT_EQ(c.topology.cluster, (kTestdata / "cluster.yaml").string());
  EXPECT_EQ(c.topology.algorithm, "auto");
  EXPECT_EQ(c.model.type, "gpt");
  EXPECT_EQ(c.model.vocab, 256);
  EXPECT_EQ(c.model.layers, 2);
  EXPECT_EQ(c.model.d_model, 96);
  EXPECT_EQ(c.model.heads, 6);
  EXPECT_EQ(c.model.seq_len, 64);
  EXPECT_EQ(c.model.d_ff, 200);
  EXPECT_DOUBLE_EQ(c.model.dropout, 0.1);
  EXPECT_EQ(c.data.type, "text");
  EXPECT_EQ(c.data.path, (kTestdata / "tiny.txt").string());
  EXPECT_EQ(c.data.prefetch, 5);
  EXPECT_EQ(c.train.steps, 250);
  EXPECT_EQ(c.train.micro_batch, 16);
  EXPECT_EQ(c.train.grad_accum, 2);
  EXPECT_EQ(c.train.optimizer.type, "adamw");
  EXPECT_DOUBLE_EQ(c.train.optimizer.lr, 1.5e-3);
  EXPECT_DOUBLE_EQ(c.train.optimizer.beta1, 0.8);
  EXPECT_DOUBLE_EQ(c.train.optimizer.beta2, 0.99);
  EXPECT_DOUBLE_EQ(c.train.optimizer.eps, 1.0e-6);
  EXPECT_DOUBLE_EQ(c.train.optimizer.weight_decay, 0.05);
  EXPECT_EQ(c.train.schedule.type, "linear");
  EXPECT_EQ(c.train.schedule.warmup_steps, 25);
  EXPECT_DOUBLE_EQ(c.train.schedule.min_lr_ratio, 0.0);
  EXPECT_DOUBLE_EQ(c.train.clip_grad_norm, 0.5);
  EXPECT_EQ(c.train.seed, 18446744073709551615ull);
  EXPECT_EQ(c.zero.stage, 0);
  EXPECT_EQ(c.zero.prefetch, 2);
  EXPECT_FALSE(c.zero.reshard_after_forward);
  EXPECT_EQ(c.amp.dtype, AmpDtype::kOff);
  EXPECT_FALSE(c.recompute.enabled);
  EXPECT_EQ(c.checkpoint.dir, "ckpt/here");
  EXPECT_EQ(c.checkpoint.every_steps, 0);
  EXPECT_EQ(c.checkpoint.keep, 5);
  EXPECT_EQ(c.fault_tolerance.max_restarts, 0);
  EXPECT_DOUBLE_EQ(c.fault_tolerance.heartbeat_s, 0.5);
  EXPECT_DOUBLE_EQ(c.fault_tolerance.hang_timeout_s, 30.0);
  EXPECT_EQ(c.binding.numa, "none");
  EXPECT_EQ(c.source_path, file.string());
}

TEST(JobConfigLoaderTest, AbsentKeysTakeTheStructDefaults) {
  const std::string source = (kTestdata / "inline.yaml").string();
  StatusOr<JobConfig> r =
      ParseJobYaml("name: d\ndata: {path: tiny.txt}\nzero:\n", source);
  ASSERT_THAT(r, IsOk()) << ErrorOf(r);
  const JobConfig d;
  const JobConfig& c = *r;
  EXPECT_EQ(c.source_path, source);
  EXPECT_EQ(c.nodes.min, d.nodes.min);
  EXPECT_EQ(c.nodes.max, d.nodes.max);
  EXPECT_EQ(c.procs_per_node, d.procs_per_node);
  EXPECT_EQ(c.threads_per_proc, d.threads_per_proc);
  EXPECT_EQ(c.device, d.device);
  EXPECT_EQ(c.backend, d.backend);
  EXPECT_EQ(c.topology.cluster, "");
  EXPECT_EQ(c.topology.algorithm, d.topology.algorithm);
  EXPECT_EQ(c.model.vocab, d.model.vocab);
  EXPECT_EQ(c.model.layers, d.model.layers);
  EXPECT_EQ(c.model.d_model, d.model.d_model);
  EXPECT_EQ(c.model.heads, d.model.heads);
  EXPECT_EQ(c.model.seq_len, d.model.seq_len);
  EXPECT_EQ(c.model.d_ff, d.model.d_ff);
  EXPECT_EQ(c.data.type, d.data.type);
  EXPECT_EQ(c.data.prefetch, d.data.prefetch);
  EXPECT_EQ(c.train.steps, d.train.steps);
  EXPECT_EQ(c.train.micro_batch, d.train.micro_batch);
  EXPECT_EQ(c.train.optimizer.lr, d.train.optimizer.lr);
  EXPECT_EQ(c.train.optimizer.beta1, d.train.optimizer.beta1);
  EXPECT_EQ(c.train.optimizer.beta2, d.train.optimizer.beta2);
  EXPECT_EQ(c.train.schedule.type, d.train.schedule.type);
  EXPECT_EQ(c.train.schedule.warmup_steps, d.train.schedule.warmup_steps);
  EXPECT_EQ(c.train.clip_grad_norm, d.train.clip_grad_norm);
  EXPECT_EQ(c.train.seed, d.train.seed);
  EXPECT_EQ(c.zero.stage, d.zero.stage);  // `zero:` alone means defaults
  EXPECT_EQ(c.zero.reshard_after_forward, d.zero.reshard_after_forward);
  EXPECT_EQ(c.amp.dtype, d.amp.dtype);
  EXPECT_EQ(c.recompute.enabled, d.recompute.enabled);
  EXPECT_EQ(c.checkpoint.dir, d.checkpoint.dir);
  EXPECT_EQ(c.checkpoint.keep, d.checkpoint.keep);
  EXPECT_EQ(c.fault_tolerance.heartbeat_s, d.fault_tolerance.heartbeat_s);
  EXPECT_EQ(c.fault_tolerance.hang_timeout_s, d.fault_tolerance.hang_timeout_s);
  EXPECT_EQ(c.binding.numa, d.binding.numa);
}

TEST(JobConfigLoaderTest, RelativePathsResolveAgainstTheJobFolderNotCwd) {
  ScopedCwd cwd("/");
  StatusOr<JobConfig> r = LoadJobFile((kTestdata / "good/full.yaml").string());
  ASSERT_THAT(r, IsOk()) << ErrorOf(r);
  EXPECT_EQ(r->data.path, (kTestdata / "tiny.txt").string());
  EXPECT_EQ(r->topology.cluster, (kTestdata / "cluster.yaml").string());
}

// Generated data needs no path; every other type does, and a glob must
// match a file.
TEST(JobConfigLoaderTest, SyntheticDataNeedsNoPathAndGlobsMustMatch) {
  StatusOr<JobConfig> r =
      ParseJobYaml("name: s\ndata: {type: synthetic, synthetic_tokens: 4096}\n",
                   (kTestdata / "j.yaml").string());
  ASSERT_THAT(r, IsOk()) << ErrorOf(r);
  EXPECT_EQ(r->data.path, "");
  EXPECT_EQ(r->data.synthetic_tokens, 4096);
  EXPECT_THAT(ValidateJob(*r), IsOk());
  r = ParseJobYaml("name: t\ndata: {type: tokens}\n",
                   (kTestdata / "j.yaml").string());
  EXPECT_NE(ErrorOf(r).find("missing required key `data.path`"),
            std::string::npos)
      << ErrorOf(r);
  r = ParseJobYaml("name: g\ndata: {type: tokens, path: \"nothing-*.bin\"}\n",
                   (kTestdata / "j.yaml").string());
  EXPECT_NE(ErrorOf(r).find(": no file matches ("), std::string::npos)
      << ErrorOf(r);
  r = ParseJobYaml("name: g\ndata: {type: tokens, path: \"tin*.txt\"}\n",
                   (kTestdata / "j.yaml").string());
  ASSERT_THAT(r, IsOk()) << ErrorOf(r);
  EXPECT_EQ(r->data.path, (kTestdata / "tin*.txt").string());
  r = ParseJobYaml("name: g\ndata: {type: text, path: \"tin*.txt\"}\n",
                   (kTestdata / "j.yaml").string());
  EXPECT_NE(ErrorOf(r).find("a pattern, but `data.type` text reads one file"),
            std::string::npos)
      << ErrorOf(r);
}

TEST(JobConfigLoaderTest, RelativeJobPathStoresAnAbsoluteSource) {
  ScopedCwd cwd(kTestdata);
  StatusOr<JobConfig> r = LoadJobFile("good/folder.yaml");
  ASSERT_THAT(r, IsOk()) << ErrorOf(r);
  // getcwd() resolves symbolic links, so compare files, not spellings.
  EXPECT_TRUE(fs::path(r->source_path).is_absolute()) << r->source_path;
  EXPECT_TRUE(fs::equivalent(r->source_path, kTestdata / "good/folder.yaml"));
  EXPECT_TRUE(fs::path(r->data.path).is_absolute()) << r->data.path;
  EXPECT_TRUE(fs::equivalent(r->data.path, kTestdata / "corpus"));
}

TEST(JobConfigLoaderTest, AbsoluteDataPathIsKept) {
  const std::string abs = (kTestdata / "tiny.txt").string();
  StatusOr<JobConfig> r =
      ParseJobYaml("name: a\ndata: {path: " + abs + "}\n", "/elsewhere/j.yaml");
  ASSERT_THAT(r, IsOk()) << ErrorOf(r);
  EXPECT_EQ(r->data.path, abs);
}

TEST(JobConfigLoaderTest, BooleanSpellings) {
  const std::string source = (kTestdata / "inline.yaml").string();
  for (const char* yes : {"true", "True", "yes", "on"}) {
    StatusOr<JobConfig> r =
        ParseJobYaml(std::string("name: b\ndata: {path: tiny.txt}\n"
                                 "zero: {reshard_after_forward: ") +
                         yes + "}\n",
                     source);
    ASSERT_THAT(r, IsOk()) << ErrorOf(r);
    EXPECT_TRUE(r->zero.reshard_after_forward) << yes;
  }
  for (const char* no : {"false", "FALSE", "no", "off"}) {
    StatusOr<JobConfig> r =
        ParseJobYaml(std::string("name: b\ndata: {path: tiny.txt}\n"
                                 "zero: {reshard_after_forward: ") +
                         no + "}\n",
                     source);
    ASSERT_THAT(r, IsOk()) << ErrorOf(r);
    EXPECT_FALSE(r->zero.reshard_after_forward) << no;
  }
}

// A path with line breaks in it stays on one line in the message, the
// resolved path included (found by libFuzzer).
TEST(JobConfigLoaderTest, PathMessagesStayOnOneLine) {
  StatusOr<JobConfig> r =
      ParseJobYaml("name: n\ndata: {path: \"no\\nsuch\"}\n", "/tmp/j.yaml");
  ASSERT_THAT(r, Not(IsOk()));
  EXPECT_EQ(r.status().message(),
            "`data.path` = `no\\nsuch` at /tmp/j.yaml:2:14: no such file or "
            "folder (/tmp/no\\nsuch)");
}

TEST(JobConfigLoaderTest, MissingFileIsAnInvalidArgumentNamingIt) {
  StatusOr<JobConfig> r = LoadJobFile("/no/such/job.yaml");
  ASSERT_THAT(r, Not(IsOk()));
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(),
              HasSubstr("cannot read job file `/no/such/job.yaml`"));
}

// --- overrides ---------------------------------------------------------

class OverrideTest : public ::testing::Test {
 protected:
  StatusOr<JobConfig> Load(const std::vector<std::string>& overrides) {
    return ParseJobYaml(
        "name: o\n"
        "data: {path: tiny.txt}\n"
        "train:\n"
        "  steps: 10\n"
        "  optimizer: {lr: 0.001}\n",
        (kTestdata / "job.yaml").string(), overrides);
  }
  const std::string file_ = (kTestdata / "job.yaml").string();
};

TEST_F(OverrideTest, ReplacesValuesAndParsesFlowLists) {
  StatusOr<JobConfig> r = Load({"train.steps=42", "train.optimizer.lr=2e-3",
                                "train.optimizer.betas=[0.9,0.99]"});
  ASSERT_THAT(r, IsOk()) << ErrorOf(r);
  EXPECT_EQ(r->train.steps, 42);
  EXPECT_DOUBLE_EQ(r->train.optimizer.lr, 2e-3);
  EXPECT_DOUBLE_EQ(r->train.optimizer.beta1, 0.9);
  EXPECT_DOUBLE_EQ(r->train.optimizer.beta2, 0.99);
}

TEST_F(OverrideTest, CreatesKeysAndSectionsAbsentFromTheFile) {
  StatusOr<JobConfig> r =
      Load({"model.layers=3", "train.schedule.warmup_steps=4",
            "binding.numa=none", "model={d_model: 48, heads: 3}"});
  ASSERT_THAT(r, IsOk()) << ErrorOf(r);
  EXPECT_EQ(r->train.schedule.warmup_steps, 4);
  EXPECT_EQ(r->binding.numa, "none");
  // A whole mapping replaces the earlier `model.layers=3`.
  EXPECT_EQ(r->model.layers, JobConfig().model.layers);
  EXPECT_EQ(r->model.d_model, 48);
  EXPECT_EQ(r->model.heads, 3);
}

TEST_F(OverrideTest, LaterOverrideWins) {
  StatusOr<JobConfig> r = Load({"train.steps=5", "train.steps=7"});
  ASSERT_THAT(r, IsOk()) << ErrorOf(r);
  EXPECT_EQ(r->train.steps, 7);
}

TEST_F(OverrideTest, UnknownKeyNamesTheOverride) {
  EXPECT_EQ(ErrorOf(Load({"train.stepz=5"})),
            "--set `train.stepz=5`: unknown key `stepz`; did you mean "
            "`steps`?");
  EXPECT_EQ(ErrorOf(Load({"learning_rate=0.1"})),
            "--set `learning_rate=0.1`: unknown key `learning_rate`; did you "
            "mean `train.optimizer.lr`?");
  EXPECT_EQ(ErrorOf(Load({"model={layrs: 2}"})),
            "--set `model={layrs: 2}`: unknown key `layrs`; did you mean "
            "`layers`?");
}

TEST_F(OverrideTest, BadValuesNameTheOverride) {
  EXPECT_EQ(ErrorOf(Load({"train.steps=abc"})),
            "--set `train.steps=abc`: `train.steps`: expected an integer, got "
            "`abc`");
  EXPECT_EQ(ErrorOf(Load({"train.optimizer.betas=[0.9, 1.2]"})),
            "--set `train.optimizer.betas=[0.9, 1.2]`: "
            "`train.optimizer.betas[1]` = 1.2 is out of range: must be in [0, "
            "1)");
  EXPECT_EQ(ErrorOf(Load({"zero.stage=4"})),
            "--set `zero.stage=4`: `zero.stage` = 4 is out of range: must be "
            "in [0, 3]");
  EXPECT_EQ(ErrorOf(Load({"train.schedule.warmup_steps=11"})),
            "`train.schedule.warmup_steps` = 11 (--set "
            "`train.schedule.warmup_steps=11`) must be <= `train.steps` = 10 "
            "at " +
                file_ + ":4:10");
}

TEST_F(OverrideTest, MalformedOverrides) {
  EXPECT_EQ(ErrorOf(Load({"train.steps"})),
            "--set `train.steps`: expected `dotted.key=value`, e.g. "
            "`train.steps=500`");
  EXPECT_EQ(ErrorOf(Load({"=5"})),
            "--set `=5`: expected `dotted.key=value`, e.g. `train.steps=500`");
  EXPECT_EQ(ErrorOf(Load({"train..steps=5"})),
            "--set `train..steps=5`: `train..steps` is not a dotted key path");
  EXPECT_EQ(ErrorOf(Load({"train.steps.x=5"})),
            "--set `train.steps.x=5`: `train.steps` is a single value, not a "
            "mapping");
  EXPECT_THAT(ErrorOf(Load({"train.optimizer.betas=[0.9"})),
              HasSubstr("--set `train.optimizer.betas=[0.9`: cannot parse the "
                        "value `[0.9`: "));
  EXPECT_EQ(ErrorOf(Load({"model={a: 1, a: 2}"})),
            "--set `model={a: 1, a: 2}`: duplicate key `a`");
  // A section given a value its one key would take: that key is suggested.
  EXPECT_THAT(ErrorOf(Load({"amp=bf16"})),
              HasSubstr("did you mean `amp.dtype: bf16` (`--set "
                        "amp.dtype=bf16`)?"));
}

// A --set value is untrusted YAML too: the toolkit's guards apply to it.
TEST_F(OverrideTest, HostileValuesAreRefusedOnOneLine) {
  EXPECT_EQ(ErrorOf(Load({"name=,a"})),
            "--set `name=,a`: cannot parse the value `,a`: unexpected `,` "
            "outside [ ] or { }");
  EXPECT_EQ(ErrorOf(Load({"model={a: &x [1], b: *x}"})),
            "--set `model={a: &x [1], b: *x}`: cannot parse the value "
            "`{a: &x [1], b: *x}`: aliases (*name) are not supported in a "
            "--set value");
  EXPECT_EQ(ErrorOf(Load({"model=" + std::string(100000, '{')})).substr(0, 20),
            "--set `model={{{{{{{");
  EXPECT_THAT(ErrorOf(Load({"model=" + std::string(100000, '{')})),
              HasSubstr(": nested more than 64 levels deep"));
  // "a", 0x01, "b": a control character, escaped in the message.
  EXPECT_EQ(ErrorOf(Load({std::string("name=a\x01") + "b"})),
            "--set `name=a\\x01b`: cannot parse the value `a\\x01b`: "
            "control character 0x01 (a --set value is UTF-8 text)");
}

TEST_F(OverrideTest, OverrideIntoAScalarInTheFileIsRefused) {
  StatusOr<JobConfig> r = ParseJobYaml(
      "name: o\ndata: {path: tiny.txt}\ntrain: 5\n", file_, {"train.steps=3"});
  EXPECT_EQ(ErrorOf(r), "--set `train.steps=3`: `train` is not a mapping in " +
                            file_ + " (it holds `5`)");
}

// --- examples and documentation ----------------------------------------

TEST(JobConfigLoaderTest, EveryExampleJobLoads) {
  const std::vector<fs::path> files = YamlFilesIn(kSource / "configs/examples");
  ASSERT_FALSE(files.empty());
  for (const fs::path& file : files) {
    StatusOr<JobConfig> r = LoadJobFile(file.string());
    EXPECT_THAT(r, IsOk()) << file << ": " << ErrorOf(r);
  }
}

// Like a compiler: every mistake of a file in one pass, one per line, in
// file order; combinations are judged only once every value parsed.
TEST(JobConfigLoaderTest, EveryMistakeIsReportedInOnePass) {
  StatusOr<JobConfig> r = ParseJobYaml(
      "name: x\n"
      "data: {path: /usr/share/games/fortunes}\n"
      "train: {stepz: 5, micro_batch: -1}\n"
      "amp: {dtype: fp8}\n"
      "fault_tolerance: {heartbeat_s: 500ms}\n",
      "m.yaml");
  ASSERT_THAT(r, Not(IsOk()));
  const std::string& m = r.status().message();
  EXPECT_EQ(std::count(m.begin(), m.end(), '\n'), 3) << m;
  EXPECT_THAT(m, HasSubstr("unknown key `stepz` at m.yaml:3:9"));
  EXPECT_THAT(m, HasSubstr("`train.micro_batch`"));
  EXPECT_THAT(m, HasSubstr("`amp.dtype`"));
  EXPECT_THAT(m, HasSubstr("write 0.5"));
  EXPECT_LT(m.find("stepz"), m.find("amp.dtype"));

  std::string many = "name: x\ndata: {path: /usr/share/games/fortunes}\n";
  for (int i = 0; i < 50; ++i) many += "bad" + std::to_string(i) + ": 1\n";
  r = ParseJobYaml(many, "many.yaml");
  ASSERT_THAT(r, Not(IsOk()));
  const std::string& capped = r.status().message();
  EXPECT_EQ(std::count(capped.begin(), capped.end(), '\n'), 20) << capped;
  EXPECT_THAT(capped, HasSubstr("stopped after 20 errors"));
}

TEST(JobConfigLoaderTest, ReadmeDocumentsEveryKey) {
  const std::string readme = ReadFile(kSource / "configs/README.md");
  ASSERT_FALSE(readme.empty());
  for (const std::string& key : KnownJobKeys()) {
    EXPECT_THAT(readme, HasSubstr("`" + key + "`"))
        << "configs/README.md does not document `" << key << "`";
  }
}

// The complete jobs in configs/README.md (its ```yaml blocks) must load, so
// the documented defaults and spellings are ones the loader accepts.
TEST(JobConfigLoaderTest, EveryYamlBlockInReadmeLoads) {
  const fs::path readme_path = kSource / "configs/README.md";
  const std::string readme = ReadFile(readme_path);
  const std::string open = "```yaml\n";
  int blocks = 0;
  for (size_t at = readme.find(open); at != std::string::npos;
       at = readme.find(open, at + 1)) {
    const size_t start = at + open.size();
    const size_t end = readme.find("```", start);
    ASSERT_NE(end, std::string::npos);
    StatusOr<JobConfig> r =
        ParseJobYaml(readme.substr(start, end - start), readme_path.string());
    EXPECT_THAT(r, IsOk()) << "block " << blocks << ": " << ErrorOf(r);
    ++blocks;
  }
  EXPECT_GE(blocks, 1);
}

TEST(JobConfigLoaderTest, KnownKeysCoverTheSchemaOnce) {
  const std::vector<std::string>& keys = KnownJobKeys();
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end());
  for (const char* k : {"name", "nodes.min", "procs_per_node",
                        "train.optimizer.lr", "train.optimizer.betas",
                        "train.schedule.warmup_steps", "binding.numa"}) {
    EXPECT_NE(std::find(keys.begin(), keys.end(), k), keys.end()) << k;
  }
}

// Cutting a valid file anywhere must give a config or a one-line error,
// never an exception or a crash.
TEST(JobConfigLoaderTest, EveryPrefixOfAGoodFileLoadsOrFailsCleanly) {
  const std::string text = ReadFile(kTestdata / "good/full.yaml");
  const std::string source = (kTestdata / "good/full.yaml").string();
  for (size_t n = 0; n <= text.size(); ++n) {
    StatusOr<JobConfig> r = ParseJobYaml(text.substr(0, n), source);
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
      EXPECT_EQ(r.status().message().find('\n'), std::string::npos)
          << r.status().message();
    }
  }
}

}  // namespace
}  // namespace dstrain::config
