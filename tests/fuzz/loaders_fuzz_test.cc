// Mutation fuzzing of every loader of user-written files, in the normal
// test build: the job file (ParseJobYaml) and its `--set` overrides, the
// cluster description (ParseClusterYaml), Slurm's topology.conf, host-list
// expressions and checkpoint manifests. Each runs over its good and bad
// corpora as they are, then over seeded mutations of them, hostile ones
// included (mutator.h). For every input the outcome must be clean
// (loader_checks.h) and the call must finish within the deadline
// (fuzz_harness.h: 2 s of CPU time).
//
// Deterministic: the same inputs on every run. DSTRAIN_FUZZ_SEED picks
// another sequence and DSTRAIN_FUZZ_SCALE multiplies the iterations, for
// longer hunts by hand:
//   DSTRAIN_FUZZ_SEED=7 DSTRAIN_FUZZ_SCALE=20 build/tests/loaders_fuzz_test
// Failing inputs are saved under <build>/fuzz-failures/.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "common/crc32c.h"
#include "tests/fuzz/fuzz_env.h"
#include "tests/fuzz/fuzz_harness.h"
#include "tests/fuzz/loader_checks.h"
#include "tests/fuzz/mutator.h"

namespace dstrain::fuzz {
namespace {

namespace fs = std::filesystem;

const fs::path kSrc = DSTRAIN_SOURCE_DIR;

// ---------------------------------------------------------------- corpora

struct Seed {
  std::string name;  // for labels: the file's name
  std::string text;
  std::string source_path;  // where a job's relative paths start
};

void AddFiles(const fs::path& dir, std::vector<Seed>* seeds,
              const std::string& ext = "") {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_regular_file() && (ext.empty() || e.path().extension() == ext)) {
      files.push_back(e.path());
    }
  }
  std::sort(files.begin(), files.end());
  for (const fs::path& f : files) {
    seeds->push_back({f.filename().string(), ReadFile(f), f.string()});
  }
}

// Every corpus file as it is, then `n` mutations of them, round robin.
// `prepare` finishes each mutated input (default: as it is).
void Fuzz(
    const std::string& what, const std::vector<Seed>& seeds, int n,
    std::uint32_t seed,
    const std::function<std::string(const Seed&, const std::string&)>& check,
    const std::function<std::string(std::string)>& prepare = {}) {
  ASSERT_FALSE(seeds.empty()) << what;
  Harness& h = Harness::Get();
  for (const Seed& s : seeds) {
    h.Run(what + " " + s.name, s.text, [&] { return check(s, s.text); });
  }
  Mutator m(seed + SeedOffset());
  const int total = Iterations(n);
  for (int i = 0; i < total; ++i) {
    const Seed& s = seeds[static_cast<std::size_t>(i) % seeds.size()];
    const std::string input =
        prepare ? prepare(m.Mutate(s.text)) : m.Mutate(s.text);
    h.Run(what + " " + s.name + " mutation " + std::to_string(i), input,
          [&] { return check(s, input); });
  }
}

std::vector<Seed> JobSeeds() {
  std::vector<Seed> seeds;
  AddFiles(kSrc / "common/config/testdata/good", &seeds, ".yaml");
  AddFiles(kSrc / "common/config/testdata/bad", &seeds, ".yaml");
  AddFiles(kSrc / "configs/examples", &seeds, ".yaml");
  return seeds;
}

// A mutated manifest would almost always stop at its checksum; give half
// of them the checksum of their (mutated) content, so the fuzz reaches
// every line's parser.
std::string WithChecksum(const std::string& text) {
  const std::size_t at = text.rfind("\ncrc32c ");
  if (at == std::string::npos) return text;
  const std::string body = text.substr(0, at + 1);
  return body + "crc32c " + Crc32cHex(Crc32cOf(body.data(), body.size())) +
         "\n";
}

// ------------------------------------------------------------------ tests

TEST(LoadersFuzz, JobFiles) {
  Fuzz("job", JobSeeds(), 2500, 101, [](const Seed& s, const std::string& in) {
    return CheckJobYaml(in, s.source_path);
  });
}

TEST(LoadersFuzz, JobOverrides) {
  const fs::path job = kSrc / "common/config/testdata/good/full.yaml";
  const std::string job_text = ReadFile(job);
  const std::vector<std::string> good = {
      "train.steps=500",
      "model.heads=3",
      "name=other",
      "train.optimizer.betas=[0.9, 0.95]",
      "model={layers: 3, d_model: 96}",
      "zero.stage=2",
      "data.path=../tiny.txt",
      "amp.dtype=bf16",
      "device=cpu",
      "train.schedule={type: cosine, warmup_steps: 5}",
      "fault_tolerance.hang_timeout_s=120",
      "nodes.min=1",
  };
  std::vector<Seed> seeds;
  for (const std::string& g : good) seeds.push_back({g, g, job.string()});
  Mutator pick(202 + SeedOffset());
  Fuzz("--set", seeds, 2500, 203, [&](const Seed& s, const std::string& in) {
    // One to three overrides, the mutated one among good ones.
    std::vector<std::string> ovs = {in};
    if (pick.Below(2) == 0) ovs.push_back(good[pick.Below(good.size())]);
    if (pick.Below(4) == 0) ovs.insert(ovs.begin(), good[0]);
    return CheckJobOverrides(job_text, s.source_path, ovs);
  });
}

TEST(LoadersFuzz, ClusterYaml) {
  std::vector<Seed> seeds;
  AddFiles(kSrc / "configs/clusters", &seeds, ".yaml");
  AddFiles(kSrc / "topology/io/testdata/yaml/good", &seeds);
  AddFiles(kSrc / "topology/io/testdata/yaml/bad", &seeds);
  Fuzz("cluster", seeds, 2500, 2024,
       [](const Seed&, const std::string& in) { return CheckClusterYaml(in); });
}

TEST(LoadersFuzz, SlurmTopology) {
  std::vector<Seed> seeds;
  const fs::path conf = kSrc / "configs/clusters/slurm-topology.conf";
  seeds.push_back({"slurm-topology.conf", ReadFile(conf), conf.string()});
  AddFiles(kSrc / "topology/io/testdata/slurm/bad", &seeds);
  Fuzz("slurm", seeds, 2500, 7, [](const Seed&, const std::string& in) {
    return CheckSlurmTopology(in);
  });
}

TEST(LoadersFuzz, HostLists) {
  std::vector<Seed> seeds;
  AddFiles(kSrc / "tests/fuzz/corpus/hostlist", &seeds);
  Fuzz("hostlist", seeds, 5000, 11,
       [](const Seed&, const std::string& in) { return CheckHostList(in); });
}

TEST(LoadersFuzz, Manifests) {
  std::vector<Seed> seeds;
  AddFiles(kSrc / "tests/fuzz/corpus/manifest", &seeds);
  Mutator coin(31 + SeedOffset());
  Fuzz(
      "manifest", seeds, 2500, 29,
      [](const Seed&, const std::string& in) { return CheckManifest(in); },
      [&](std::string in) {
        return coin.Below(2) == 0 ? WithChecksum(in) : in;
      });
}

}  // namespace
}  // namespace dstrain::fuzz
