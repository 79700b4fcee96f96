// Mutation fuzzing of the loaders: small random edits of good files must
// give either a cluster that validates or one clear one-line error, never
// a crash, a hang or an exception (DESIGN §8). Deterministic seeds.
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "topology/io/cluster_yaml.h"
#include "topology/io/hostlist.h"
#include "topology/io/slurm_topology.h"
#include "topology/io/testdata_util.h"

namespace dstrain::topology {
namespace {

const std::string kSrc = DSTRAIN_SOURCE_DIR;

std::string Mutate(std::string s, std::mt19937& rng) {
  static const std::string kAlphabet = "[]-,:{}#\\\n =\"'0179ax\t";
  const int edits = 1 + static_cast<int>(rng() % 2);
  for (int e = 0; e < edits && !s.empty(); ++e) {
    const size_t at = rng() % s.size();
    switch (rng() % 4) {
      case 0:
        s.erase(at, 1 + rng() % 3);
        break;
      case 1:
        s.insert(at, 1, kAlphabet[rng() % kAlphabet.size()]);
        break;
      case 2:
        s[at] = kAlphabet[rng() % kAlphabet.size()];
        break;
      default: {  // duplicate a short slice
        const size_t len = 1 + rng() % 12;
        s.insert(at, s.substr(at, len));
      }
    }
  }
  return s;
}

void ExpectCleanOutcome(const StatusOr<Cluster>& c, const std::string& input) {
  if (c.ok()) {
    Status v = c->Validate();
    EXPECT_TRUE(v.ok()) << v.message() << "\n--- input:\n" << input;
    return;
  }
  EXPECT_FALSE(c.status().message().empty());
  EXPECT_EQ(c.status().message().find('\n'), std::string::npos)
      << c.status().message() << "\n--- input:\n"
      << input;
}

TEST(ParserFuzz, ClusterYaml) {
  std::vector<std::string> seeds;
  for (const char* f :
       {"configs/clusters/local.yaml", "configs/clusters/fat-tree-2leaf.yaml",
        "configs/clusters/rail-optimized-4x2.yaml",
        "configs/clusters/torus-4x4.yaml",
        "topology/io/testdata/yaml/good/explicit_torus.yaml",
        "topology/io/testdata/yaml/good/gpu_node.yaml"}) {
    seeds.push_back(testing::ReadFile(kSrc + "/" + f));
    ASSERT_FALSE(seeds.back().empty()) << f;
  }
  std::mt19937 rng(2024);
  for (int i = 0; i < 3000; ++i) {
    const std::string input = Mutate(seeds[i % seeds.size()], rng);
    ExpectCleanOutcome(ParseClusterYaml(input, "fuzz.yaml"), input);
  }
}

TEST(ParserFuzz, SlurmTopology) {
  const std::string seed =
      testing::ReadFile(kSrc + "/configs/clusters/slurm-topology.conf");
  ASSERT_FALSE(seed.empty());
  std::mt19937 rng(7);
  for (int i = 0; i < 3000; ++i) {
    const std::string input = Mutate(seed, rng);
    ExpectCleanOutcome(ParseSlurmTopology(input, "fuzz.conf"), input);
  }
}

TEST(ParserFuzz, HostLists) {
  const std::vector<std::string> seeds = {"c[0-5,7],gpu-[001-128]",
                                          "a[1-2]b[3-4]", "node0,node1",
                                          "rack[01-04]-n[1-8]"};
  std::mt19937 rng(11);
  for (int i = 0; i < 6000; ++i) {
    const std::string input = Mutate(seeds[i % seeds.size()], rng);
    std::vector<std::string> out;
    HostListError e;
    Status s = ExpandHostList(input, &out, &e);
    if (s.ok()) {
      // What expands compresses and expands back to the same set.
      std::set<std::string> names(out.begin(), out.end());
      StatusOr<std::vector<std::string>> back =
          ExpandHostList(CompressHostList(out));
      if (names.size() == out.size() && !names.count("")) {
        ASSERT_TRUE(back.ok()) << input << " -> " << CompressHostList(out);
        EXPECT_EQ(std::set<std::string>(back->begin(), back->end()), names)
            << input;
      }
    } else {
      EXPECT_LE(e.offset, input.size()) << input;
      EXPECT_FALSE(e.what.empty());
    }
  }
}

}  // namespace
}  // namespace dstrain::topology
