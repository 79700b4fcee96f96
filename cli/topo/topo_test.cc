// `dstrain topo` end to end: the real binary on the sample clusters and on
// generator specs; text, --json (parsed) and --dot (checked for shape);
// bad input exits 2 with the loader's file:line:column.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/util/dstrain_test.h"
#include "tests/util/subprocess.h"

namespace dstrain {
namespace {

using namespace std::chrono_literals;
using google::protobuf::Struct;
using google::protobuf::Value;

const std::string kDstrain = std::string(DSTRAIN_BINARY_DIR) + "/bin/dstrain";
const std::string kClusters =
    std::string(DSTRAIN_SOURCE_DIR) + "/configs/clusters/";

struct Result {
  int code = -1;
  std::string out;
  std::string err;
};

Result Topo(std::vector<std::string> args) {
  testing::SubprocessOptions o;
  o.argv = {kDstrain, "topo"};
  for (auto& a : args) o.argv.push_back(a);
  std::string error;
  auto sp = testing::Subprocess::Start(o, &error);
  EXPECT_TRUE(sp != nullptr) << error;
  Result r;
  if (sp == nullptr) return r;
  auto st = sp->Wait(120s);
  EXPECT_TRUE(st.has_value()) << "dstrain topo did not finish";
  if (st.has_value()) r.code = testing::ShellExitCode(*st);
  r.out = sp->Stdout();
  r.err = sp->Stderr();
  return r;
}

const Value& Field(const Struct& s, const std::string& key) {
  static const Value kNull;
  auto it = s.fields().find(key);
  EXPECT_NE(it, s.fields().end()) << "missing " << key;
  return it == s.fields().end() ? kNull : it->second;
}

// Graphviz's grammar, as much as `graph { stmt; ... }` needs: a header, a
// closing brace, balanced braces and brackets, quotes closed on every line,
// every statement ending in `;`.
void ExpectDotShape(const std::string& dot) {
  ASSERT_EQ(dot.rfind("graph \"", 0), 0u) << dot;
  ASSERT_GE(dot.size(), 3u);
  EXPECT_EQ(dot.substr(dot.size() - 2), "}\n") << dot;
  int braces = 0;
  std::size_t start = 0;
  int lines = 0;
  while (start < dot.size()) {
    const std::size_t end = dot.find('\n', start);
    const std::string line = dot.substr(start, end - start);
    start = end + 1;
    ++lines;
    bool quoted = false;
    int brackets = 0;
    for (std::size_t i = 0; i < line.size(); ++i) {
      const char c = line[i];
      if (c == '\\') {
        ++i;
        continue;
      }
      if (c == '"') quoted = !quoted;
      if (quoted) continue;
      if (c == '{') ++braces;
      if (c == '}') --braces;
      if (c == '[') ++brackets;
      if (c == ']') --brackets;
    }
    EXPECT_FALSE(quoted) << "unclosed quote: " << line;
    EXPECT_EQ(brackets, 0) << line;
    if (lines > 1 && line != "}" && line.back() != '{') {
      EXPECT_TRUE(line.back() == ';' || line.back() == '}') << line;
    }
  }
  EXPECT_EQ(braces, 0);
}

TEST(TopoShow, SummarisesTheSampleFatTree) {
  Result r = Topo({"show", kClusters + "fat-tree-2leaf.yaml"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("fat-tree-2leaf: fat-tree, 4 hosts (8 devices"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("level 0: 2 switches"), std::string::npos) << r.out;
  // Non-blocking: the halves see 2 hosts' worth of 100 Gb/s.
  EXPECT_NE(r.out.find("bisection: 25 GB/s"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("100% of full bisection"), std::string::npos) << r.out;

  Result j = Topo({"show", kClusters + "fat-tree-2leaf.yaml", "--json"});
  ASSERT_EQ(j.code, 0) << j.err;
  Struct s = testing::ParseJson(j.out);
  EXPECT_EQ(Field(s, "kind").string_value(), "fat-tree");
  EXPECT_EQ(Field(s, "hosts").number_value(), 4);
  EXPECT_EQ(Field(s, "switches").number_value(), 3);
  EXPECT_EQ(Field(s, "levels").list_value().values_size(), 2);
  // Bandwidths in GB/s, as their keys say.
  EXPECT_DOUBLE_EQ(Field(s, "bisection_gb_per_s").number_value(), 25);
  EXPECT_DOUBLE_EQ(Field(s, "min_link_gb_per_s").number_value(), 12.5);
}

TEST(TopoShow, ReadsSlurmFilesAndGeneratorSpecs) {
  Result slurm = Topo({"show", kClusters + "slurm-topology.conf", "--json"});
  ASSERT_EQ(slurm.code, 0) << slurm.err;
  EXPECT_GT(Field(testing::ParseJson(slurm.out), "hosts").number_value(), 8);

  Result torus = Topo({"show", "torus:4x4x2,devices=2", "--json"});
  ASSERT_EQ(torus.code, 0) << torus.err;
  Struct t = testing::ParseJson(torus.out);
  EXPECT_EQ(Field(t, "kind").string_value(), "torus");
  EXPECT_EQ(Field(t, "hosts").number_value(), 32);
  EXPECT_EQ(Field(t, "devices").number_value(), 64);

  Result big = Topo({"show", "fat-tree:k=32,levels=3,hosts=1024,devices=8"});
  ASSERT_EQ(big.code, 0) << big.err;
  EXPECT_NE(big.out.find("1024 hosts (8192 devices"), std::string::npos)
      << big.out;
}

TEST(TopoPlan, PlacesRanksLeafByLeafWithSubCommunicators) {
  Result r = Topo({"plan", kClusters + "fat-tree-2leaf.yaml", "--algorithm",
                   "hierarchical", "--json", "--max-bytes", "1M"});
  ASSERT_EQ(r.code, 0) << r.err;
  Struct s = testing::ParseJson(r.out);
  EXPECT_EQ(Field(s, "world_size").number_value(), 8);
  EXPECT_EQ(Field(s, "ranks_per_node").number_value(), 2);
  const auto& runs = Field(s, "rank_order").list_value();
  ASSERT_EQ(runs.values_size(), 2);
  EXPECT_EQ(Field(runs.values(0).struct_value(), "group").string_value(),
            "leaf0");
  EXPECT_EQ(Field(runs.values(0).struct_value(), "hosts").string_value(),
            "node[0-1]");
  EXPECT_EQ(Field(runs.values(1).struct_value(), "first_rank").number_value(),
            4);
  const auto& ranks = Field(s, "ranks").list_value();
  ASSERT_EQ(ranks.values_size(), 8);
  EXPECT_EQ(Field(ranks.values(5).struct_value(), "host").string_value(),
            "node2");
  // Hierarchical: intra_node (colour = node) and inter_node (colour =
  // local rank), every rank in exactly one group of each.
  const auto& comms = Field(s, "communicators").list_value();
  ASSERT_EQ(comms.values_size(), 2);
  const Struct& intra = comms.values(0).struct_value();
  const Struct& inter = comms.values(1).struct_value();
  EXPECT_EQ(Field(intra, "name").string_value(), "intra_node");
  EXPECT_EQ(Field(inter, "name").string_value(), "inter_node");
  std::vector<double> intra_color, inter_color;
  for (const auto& v : Field(intra, "color").list_value().values())
    intra_color.push_back(v.number_value());
  for (const auto& v : Field(inter, "color").list_value().values())
    inter_color.push_back(v.number_value());
  EXPECT_EQ(intra_color, (std::vector<double>{0, 0, 1, 1, 2, 2, 3, 3}));
  EXPECT_EQ(inter_color, (std::vector<double>{0, 1, 0, 1, 0, 1, 0, 1}));
  const auto& algos = Field(s, "algorithms").list_value();
  ASSERT_EQ(algos.values_size(), 1);
  EXPECT_EQ(Field(algos.values(0).struct_value(), "algorithm").string_value(),
            "hierarchical");
  // 1K .. 1M by x4: 6 sizes, each with the three orders.
  const auto& preds = Field(s, "predictions").list_value();
  ASSERT_EQ(preds.values_size(), 6);
  for (const auto& p : preds.values()) {
    for (const char* order : {"plan", "hostname", "random"})
      EXPECT_GT(Field(Field(p.struct_value(), order).struct_value(), "seconds")
                    .number_value(),
                0);
  }
}

TEST(TopoPlan, TextComparesOrdersOnAnOversubscribedTree) {
  // Hosts interleaved across leaves by name would make hostname order as
  // bad as random; the plan keeps each leaf together.
  Result r = Topo({"plan", "fat-tree:k=8,hosts=24,oversub=3,devices=2",
                   "--max-bytes", "256M"});
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* part :
       {"plan for fat-tree:k=8,hosts=24,oversub=3,devices=2: 24 hosts x 2 "
        "ranks = 48 ranks, placement leaf-contiguous",
        "rank order", "leaf0", "node[00-05]", "0-11",
        "algorithm by message size", "predicted all-reduce", "random / plan",
        "plan busbw (GB/s)"}) {
    EXPECT_NE(r.out.find(part), std::string::npos) << part << "\n" << r.out;
  }
}

// The bound printed beside the predictions is one: no order's prediction
// is below it, at any size, on the two-leaf sample (where ranks share
// hosts and the per-rank formula was beaten) and on generated fabrics.
TEST(TopoPlan, NoPredictionIsBelowTheLowerBound) {
  for (const std::string cluster :
       {kClusters + "fat-tree-2leaf.yaml",
        std::string("fat-tree:k=8,hosts=24,oversub=3,devices=2"),
        std::string("torus:4x4,devices=2"),
        std::string("rail:k=8,hosts=8,rails=4")}) {
    Result r = Topo({"plan", cluster, "--json"});
    ASSERT_EQ(r.code, 0) << r.err;
    Struct s = testing::ParseJson(r.out);
    const auto& preds = Field(s, "predictions").list_value();
    ASSERT_EQ(preds.values_size(), 11) << cluster;  // 1K .. 1G by x4
    for (const auto& p : preds.values()) {
      const double bound =
          Field(p.struct_value(), "lower_bound_s").number_value();
      EXPECT_GT(bound, 0) << cluster;
      for (const char* order : {"plan", "hostname", "random"}) {
        EXPECT_GE(
            Field(Field(p.struct_value(), order).struct_value(), "seconds")
                .number_value(),
            bound)
            << cluster << ", " << order << " at "
            << Field(p.struct_value(), "bytes").number_value() << " bytes";
      }
    }
  }
}

TEST(TopoPlan, AllocationsByHostListAndCount) {
  Result r = Topo({"plan", kClusters + "fat-tree-2leaf.yaml", "--nodes",
                   "node[1,3]", "--procs-per-node", "1", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  Struct s = testing::ParseJson(r.out);
  EXPECT_EQ(Field(s, "world_size").number_value(), 2);
  Result n = Topo({"plan", "torus:4x4", "--num-nodes", "8", "--json"});
  ASSERT_EQ(n.code, 0) << n.err;
  EXPECT_EQ(Field(testing::ParseJson(n.out), "hosts").number_value(), 8);
}

TEST(TopoSimulate, SweepsSizesWithTheBusiestLink) {
  Result r = Topo({"simulate", "torus:4x4,devices=2", "--min-bytes", "1K",
                   "--max-bytes", "16M", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  Struct s = testing::ParseJson(r.out);
  EXPECT_EQ(Field(s, "world_size").number_value(), 32);
  const auto& sweep = Field(s, "sweep").list_value();
  ASSERT_EQ(sweep.values_size(), 8);  // 1K, 4K, ..., 16M
  double last = 0;
  for (const auto& row : sweep.values()) {
    const Struct& p = row.struct_value();
    EXPECT_GT(Field(p, "seconds").number_value(), last);
    last = Field(p, "seconds").number_value();
    EXPECT_GE(Field(p, "seconds").number_value(),
              Field(p, "lower_bound_s").number_value());
    EXPECT_GT(Field(p, "busbw_gb_per_s").number_value(), 0);
    // 32 ranks: busbw = algbw x 2(n-1)/n, both in GB/s.
    EXPECT_NEAR(Field(p, "busbw_gb_per_s").number_value(),
                Field(p, "algbw_gb_per_s").number_value() * 62 / 32, 1e-9);
    EXPECT_NEAR(Field(p, "algbw_gb_per_s").number_value(),
                Field(p, "bytes").number_value() /
                    Field(p, "seconds").number_value() / 1e9,
                1e-9);
    EXPECT_NE(Field(p, "hottest_link").string_value().find(" -> "),
              std::string::npos);
  }
  Result text = Topo({"simulate", kClusters + "fat-tree-2leaf.yaml"});
  ASSERT_EQ(text.code, 0) << text.err;
  // Every column says its unit: sizes in binary units, bandwidths in GB/s,
  // and the short algorithm names are spelt out.
  for (const char* part :
       {"most loaded link", "1 GiB", "1 KiB", "algbw (GB/s)", "busbw (GB/s)",
        "busy (% of time)", "GB/s a host", "rhd: recursive halving-doubling"}) {
    EXPECT_NE(text.out.find(part), std::string::npos) << part << "\n"
                                                      << text.out;
  }
  for (const char* old : {"Gb/s", " 1G ", " 1K "})
    EXPECT_EQ(text.out.find(old), std::string::npos) << old << "\n" << text.out;
}

TEST(TopoDot, DrawsSmallFabricsAndRefusesHugeOnes) {
  for (const char* action : {"show", "plan", "simulate"}) {
    Result r = Topo({action, kClusters + "fat-tree-2leaf.yaml", "--dot"});
    ASSERT_EQ(r.code, 0) << r.err;
    ExpectDotShape(r.out);
    EXPECT_NE(r.out.find("color=red"), std::string::npos) << r.out;
  }
  Result torus = Topo({"show", "torus:4x4", "--dot"});
  ASSERT_EQ(torus.code, 0) << torus.err;
  ExpectDotShape(torus.out);
  Result huge = Topo({"show", "torus:16x16x16", "--dot"});
  EXPECT_EQ(huge.code, 2);
  EXPECT_NE(huge.err.find("--num-nodes"), std::string::npos) << huge.err;
}

TEST(TopoErrors, BadInputExitsTwoNamingThePlace) {
  Result yaml = Topo({"show", std::string(DSTRAIN_SOURCE_DIR) +
                                  "/topology/io/testdata/yaml/bad/"
                                  "bad_hostlist.yaml"});
  EXPECT_EQ(yaml.code, 2);
  EXPECT_NE(yaml.err.find("bad_hostlist.yaml:3:13: range `3-1` goes down"),
            std::string::npos)
      << yaml.err;
  Result missing = Topo({"plan", "/nonexistent/c.yaml"});
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.err.find("/nonexistent/c.yaml"), std::string::npos);
  Result spec = Topo({"show", "torus:4xq"});
  EXPECT_EQ(spec.code, 2);
  EXPECT_NE(spec.err.find("at column 7"), std::string::npos) << spec.err;
  Result algo = Topo({"plan", "torus:4x4", "--algorithm", "trees"});
  EXPECT_EQ(algo.code, 2);
  EXPECT_NE(algo.err.find("--algorithm: unknown algorithm `trees`"),
            std::string::npos)
      << algo.err;
  Result node = Topo(
      {"plan", kClusters + "fat-tree-2leaf.yaml", "--nodes", "node[0-1],gpu9"});
  EXPECT_EQ(node.code, 2);
  EXPECT_NE(node.err.find("--nodes: "), std::string::npos) << node.err;
  EXPECT_NE(node.err.find("gpu9"), std::string::npos) << node.err;
  Result both = Topo({"show", "torus:4x4", "--json", "--dot"});
  EXPECT_EQ(both.code, 2);
  Result flag = Topo({"plan", "torus:4x4", "--frobnicate"});
  EXPECT_EQ(flag.code, 2);
}

}  // namespace
}  // namespace dstrain
