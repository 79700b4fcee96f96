// Mutation fuzzing of what `dstrain plan`, `dstrain doctor` and the data
// readers read besides the job file: token-file sidecars and vocabulary
// files (`dstrain data prepare --vocab`), mutated; and job
// files (the good corpus and the examples, mutated, hostile
// splices included: huge numbers above all) through the loader into
// MakeJobPlan, and fake sysfs/procfs trees with mutated contents through
// RunDoctor. Each call must finish within the harness's deadline and give
// a clean outcome: a plan whose figures are sane, or INVALID_ARGUMENT with
// one line; a report whose every line has an area and a known verdict.
// Deterministic, as loaders_fuzz_test (DSTRAIN_FUZZ_SEED, _SCALE).

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "agent/doctor/doctor.h"
#include "cli/data/vocab_tokenizer.h"
#include "cli/plan/job_plan.h"
#include "common/config/job_config_loader.h"
#include "common/units.h"
#include "tests/fuzz/fuzz_env.h"
#include "tests/fuzz/fuzz_harness.h"
#include "tests/fuzz/mutator.h"
#include "worker/data/sidecar.h"

namespace dstrain::fuzz {
namespace {

namespace fs = std::filesystem;

const fs::path kSrc = DSTRAIN_SOURCE_DIR;

// "" when the plan of `job` on `nodes` x 8 ranks of 80 GiB is clean.
std::string CheckPlan(const config::JobConfig& job, int nodes) {
  cli::RankDevice d;
  d.memory_bytes = 80 * kGiB;
  d.reserve_bytes = kGiB;
  d.dense_tflops = 989;
  d.gpu = true;
  d.description = "H100";
  StatusOr<cli::JobPlan> p = cli::MakeJobPlan(job, {nodes, 8, ""}, d);
  if (!p.ok()) {
    const std::string& m = p.status().message();
    if (p.status().code() != StatusCode::kInvalidArgument || m.empty() ||
        m.find('\n') != std::string::npos) {
      return "plan: not one line of INVALID_ARGUMENT: " + p.status().ToString();
    }
    return "";
  }
  if (p->memory.params <= 0) return "plan: no parameters";
  for (const sizing::StageMemory& s : p->memory.stages) {
    if (s.state.total() < 0 || s.transient < 0 ||
        s.total_with_recompute < s.state.total() ||
        s.total_without_recompute < s.state.total()) {
      return "plan: stage " + std::to_string(s.stage) + " has impossible bytes";
    }
  }
  if (!(p->comm.sent_bytes_per_rank >= 0) || p->verdict.empty() ||
      p->verdict.find('\n') != std::string::npos) {
    return "plan: bad communication figure or verdict";
  }
  return "";
}

std::string CheckJobPlan(const std::string& text, const std::string& source,
                         int nodes) {
  try {
    StatusOr<config::JobConfig> job = config::ParseJobYaml(text, source);
    if (!job.ok()) return "";  // the loader's own fuzz test judges this
    return CheckPlan(*job, nodes);
  } catch (const std::exception& e) {
    return std::string("threw ") + e.what();
  }
}

TEST(PreflightFuzz, PlansOfMutatedJobs) {
  std::vector<std::pair<std::string, std::string>> seeds;  // path, text
  for (const fs::path dir :
       {kSrc / "common/config/testdata/good", kSrc / "configs/examples"}) {
    for (const auto& e : fs::directory_iterator(dir)) {
      if (e.path().extension() == ".yaml") {
        seeds.emplace_back(e.path().string(), ReadFile(e.path()));
      }
    }
  }
  std::sort(seeds.begin(), seeds.end());
  ASSERT_FALSE(seeds.empty());
  Harness& h = Harness::Get();
  Mutator m(211 + SeedOffset());
  const int total = Iterations(2000);
  for (int i = 0; i < total; ++i) {
    const auto& [path, text] =
        seeds[static_cast<std::size_t>(i) % seeds.size()];
    const std::string input =
        i < static_cast<int>(seeds.size()) ? text : m.Mutate(text);
    const int nodes = 1 + static_cast<int>(m.Below(4096));
    h.Run("plan " + fs::path(path).filename().string() + " mutation " +
              std::to_string(i),
          input, [&] { return CheckJobPlan(input, path, nodes); });
  }
}

// Every field at the ends of what the loader accepts.
TEST(PreflightFuzz, PlansOfExtremeModels) {
  Harness& h = Harness::Get();
  const int values[] = {1, 2, 3, 7, 4096, 65535, 1 << 20, INT_MAX / 2, INT_MAX};
  int i = 0;
  for (int a : values) {
    for (int b : values) {
      config::JobConfig job;
      job.name = "extreme";
      job.model.d_model = a;
      job.model.heads = 1;
      job.model.layers = b;
      job.model.vocab = std::max(2, b);
      job.model.seq_len = a;
      job.model.d_ff = b % 3 == 0 ? 0 : b;
      job.train.micro_batch = b;
      job.train.grad_accum = a;
      job.zero.stage = i % 4;
      job.recompute.enabled = i % 2 == 0;
      job.amp.dtype =
          i % 3 == 0 ? config::AmpDtype::kBf16 : config::AmpDtype::kOff;
      const int nodes = 1 + i % 2048;
      h.Run("extreme " + std::to_string(a) + " x " + std::to_string(b),
            std::to_string(a) + "," + std::to_string(b),
            [&] { return CheckPlan(job, nodes); });
      ++i;
    }
  }
}

// A fake node whose files are realistic, then mutated.
class FakeTree {
 public:
  FakeTree() {
    root_ = fs::temp_directory_path() /
            ("preflight_fuzz." + std::to_string(getpid()));
  }
  ~FakeTree() { fs::remove_all(root_); }
  void Reset() {
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void Put(const std::string& rel, const std::string& text) {
    fs::create_directories((root_ / rel).parent_path());
    std::ofstream(root_ / rel, std::ios::binary) << text;
  }
  std::string root() const { return root_.string(); }

 private:
  fs::path root_;
};

const std::vector<std::pair<std::string, std::string>>& TreeFiles() {
  static const std::vector<std::pair<std::string, std::string>> files = {
      {"proc/cpuinfo",
       "processor\t: 0\nmodel name\t: Xeon\nflags\t: fpu avx2 avx512f "
       "amx_tile\n"},
      {"proc/meminfo", "MemTotal: 16000000 kB\nMemAvailable: 8000000 kB\n"},
      {"sys/devices/system/node/node0/cpulist", "0-3,8\n"},
      {"sys/devices/system/node/node0/meminfo",
       "Node 0 MemTotal: 8000000 kB\n"},
      {"sys/bus/pci/devices/0000:17:00.0/vendor", "0x10de\n"},
      {"sys/bus/pci/devices/0000:17:00.0/class", "0x030200\n"},
      {"sys/bus/pci/devices/0000:17:00.0/current_link_speed",
       "16.0 GT/s PCIe\n"},
      {"sys/bus/pci/devices/0000:17:00.0/max_link_speed", "32.0 GT/s PCIe\n"},
      {"sys/bus/pci/devices/0000:17:00.0/current_link_width", "8\n"},
      {"sys/bus/pci/devices/0000:17:00.0/max_link_width", "16\n"},
      {"sys/bus/pci/devices/0000:17:00.0/numa_node", "1\n"},
      {"sys/module/nvidia/version", "550.54.15\n"},
      {"sys/class/infiniband/mlx5_0/ports/1/state", "4: ACTIVE\n"},
      {"sys/class/infiniband/mlx5_0/ports/1/phys_state", "5: LinkUp\n"},
      {"sys/class/infiniband/mlx5_0/ports/1/rate", "200 Gb/sec (4X HDR)\n"},
      {"sys/class/infiniband/mlx5_0/ports/1/link_layer", "InfiniBand\n"},
      {"sys/class/infiniband/mlx5_0/device/numa_node", "0\n"},
      {"sys/class/net/eth0/operstate", "up\n"},
      {"sys/class/net/eth0/speed", "100000\n"},
      {"sys/class/net/eth0/device/current_link_width", "16\n"},
  };
  return files;
}

// "" for OK or one line of INVALID_ARGUMENT starting with `where`.
std::string CheckOneLine(const Status& s, const std::string& where) {
  if (s.ok()) return "";
  if (s.code() != StatusCode::kInvalidArgument ||
      s.message().rfind(where, 0) != 0 ||
      s.message().find('\n') != std::string::npos) {
    return "not one line of INVALID_ARGUMENT naming " + where + ": " +
           s.ToString();
  }
  return "";
}

TEST(PreflightFuzz, TokenSidecars) {
  const std::vector<std::string> seeds = {
      "{\"dtype\": \"uint16\", \"vocab\": 50257, \"tokens\": 1000000}\n",
      "{\"dtype\": \"uint32\"}", "{}"};
  Harness& h = Harness::Get();
  Mutator m(227 + SeedOffset());
  for (int i = 0; i < Iterations(3000); ++i) {
    const std::string in =
        i < 3 ? seeds[static_cast<std::size_t>(i)]
              : m.Mutate(seeds[static_cast<std::size_t>(i) % 3]);
    h.Run("sidecar " + std::to_string(i), in, [&]() -> std::string {
      StatusOr<data::Sidecar> s = data::ParseSidecar(in, "x.bin.json");
      if (s.ok() && !s->dtype.empty() && data::DtypeBytes(s->dtype) == 0) {
        return "accepted dtype " + s->dtype;
      }
      return CheckOneLine(s.status(), "x.bin.json:");
    });
  }
}

TEST(PreflightFuzz, VocabularyFiles) {
  const std::string seed = "a\nb\nab\n\\n\n\\x20\nthe\n\\\\\n";
  Harness& h = Harness::Get();
  Mutator m(229 + SeedOffset());
  for (int i = 0; i < Iterations(2000); ++i) {
    const std::string in = i == 0 ? seed : m.Mutate(seed);
    h.Run("vocabulary " + std::to_string(i), in, [&]() -> std::string {
      StatusOr<cli::VocabTokenizer> v = cli::VocabTokenizer::Parse(in, "v.txt");
      if (!v.ok()) return CheckOneLine(v.status(), "v.txt:");
      // What it accepts must encode its own tokens back to themselves.
      std::vector<std::int64_t> ids;
      const std::string tok = v->token(v->size() - 1);
      Status s = v->Encode(tok, 0, &ids);
      if (!s.ok() || ids.empty()) return "cannot encode its own token";
      std::string back;
      for (std::int64_t id : ids) back += v->token(id);
      return back == tok ? "" : "encoding does not round-trip";
    });
  }
}

TEST(PreflightFuzz, DoctorOverMutatedTrees) {
  FakeTree tree;
  Harness& h = Harness::Get();
  Mutator m(223 + SeedOffset());
  const int total = Iterations(300);
  for (int i = 0; i < total; ++i) {
    tree.Reset();
    std::string what;
    for (const auto& [rel, text] : TreeFiles()) {
      const bool mutate = i > 0 && m.Below(3) == 0;
      const std::string content = mutate ? m.Mutate(text) : text;
      tree.Put(rel, content);
      if (mutate) what += rel + ": " + content.substr(0, 200) + "\n";
    }
    h.Run("doctor tree " + std::to_string(i), what, [&]() -> std::string {
      agent::DoctorOptions o;
      o.sys_root = tree.root();
      o.data_path = tree.root();
      o.read_test = false;
      try {
        const proto::DoctorReport r = agent::RunDoctor(o);
        for (const proto::DoctorCheck& c : r.checks()) {
          if (c.area().empty() ||
              (c.verdict() != "ok" && c.verdict() != "warn" &&
               c.verdict() != "fail")) {
            return "doctor: line without an area or a known verdict";
          }
        }
        if (r.checks_size() < 5) return "doctor: lines missing";
      } catch (const std::exception& e) {
        return std::string("threw ") + e.what();
      }
      return "";
    });
  }
}

}  // namespace
}  // namespace dstrain::fuzz
