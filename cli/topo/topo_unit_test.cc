// The pieces of `dstrain topo`: generator specs, bisection bandwidth and
// the Graphviz output.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "cli/topo/topo_bisection.h"
#include "cli/topo/topo_cluster_arg.h"
#include "cli/topo/topo_dot.h"
#include "common/testing/status_matchers.h"
#include "topology/plan/placement.h"

namespace dstrain::cli {
namespace {

using ::dstrain::testing::IsOk;
using ::testing::Not;

using topology::Cluster;
using topology::FabricKind;

std::string Error(const std::string& arg) {
  StatusOr<Cluster> c = LoadClusterArg(arg);
  EXPECT_THAT(c, Not(IsOk())) << arg;
  return c.ok() ? "" : c.status().message();
}

TEST(ClusterArg, AFileThatCannotBeReadSaysWhy) {
  EXPECT_THAT(Error("/no/such/cluster.yaml"),
              ::testing::HasSubstr("`/no/such/cluster.yaml`: no such file"));
  EXPECT_THAT(Error("/tmp"), ::testing::HasSubstr("it is a folder"));
}

TEST(ClusterArg, GeneratorSpecsBuildTheirFabrics) {
  Cluster ft =
      LoadClusterArg("fat-tree:k=16,levels=3,hosts=128,devices=8,oversub=3")
          .value();
  EXPECT_EQ(ft.fabric().kind, FabricKind::kFatTree);
  EXPECT_EQ(ft.num_hosts(), 128);
  EXPECT_EQ(ft.fabric().levels, 3);
  EXPECT_EQ(ft.fabric().oversubscription, 3);
  EXPECT_EQ(ft.vertex(ft.hosts()[0]).host.devices, 8);
  EXPECT_EQ(ft.name(), "fat-tree:k=16,levels=3,hosts=128,devices=8,oversub=3");

  Cluster torus = LoadClusterArg("torus:4x3x2,devices=2,wrap=false").value();
  EXPECT_EQ(torus.fabric().kind, FabricKind::kTorus);
  EXPECT_EQ(torus.num_hosts(), 24);
  EXPECT_EQ(torus.fabric().torus_dims, (std::vector<int>{4, 3, 2}));
  EXPECT_FALSE(torus.fabric().torus_wrap[0]);

  Cluster rail = LoadClusterArg("rail:k=8,hosts=8,rails=4,bw=200Gb/s").value();
  EXPECT_EQ(rail.fabric().kind, FabricKind::kRailOptimized);
  EXPECT_EQ(rail.vertex(rail.hosts()[0]).host.nics.size(), 4u);
}

TEST(ClusterArg, BadSpecsNameTheColumn) {
  EXPECT_EQ(Error("torus:4xq"),
            "cluster spec `torus:4xq` at column 7: `dims`: expected 1 to 4 "
            "sizes like `16x16x16`, got `4xq`");
  EXPECT_EQ(Error("fat-tree:k=16,hostz=4"),
            "cluster spec `fat-tree:k=16,hostz=4` at column 15: unknown key "
            "`hostz` (expected bw, devices, hosts, k, latency, levels, nics, "
            "oversub, oversubscription, prefix, switch_bw)");
  EXPECT_EQ(Error("fat-tree:k=16,hosts=x"),
            "cluster spec `fat-tree:k=16,hosts=x` at column 21: `hosts`: "
            "expected an integer, got `x`");
  EXPECT_EQ(Error("fat-tree:hosts=4"),
            "cluster spec `fat-tree:hosts=4` at column 1: `k` is required");
  EXPECT_EQ(Error("fat-tree:k=16,,hosts=4"),
            "cluster spec `fat-tree:k=16,,hosts=4` at column 15: empty item");
  EXPECT_EQ(Error("fat-tree:k=16,hosts=4,bw=400"),
            "cluster spec `fat-tree:k=16,hosts=4,bw=400` at column 26: `bw`: "
            "expected a bandwidth with a unit (`400Gb/s`), got `400`");
  // The generator's own objection comes through, naming the spec.
  EXPECT_NE(
      Error("fat-tree:k=16,hosts=4,oversub=2")
          .find("cluster spec `fat-tree:k=16,hosts=4,oversub=2`: fat-tree"),
      std::string::npos);
  // Not a spec, not a file.
  EXPECT_NE(Error("/nonexistent/cluster.yaml").find("cluster.yaml"),
            std::string::npos);
}

TEST(ClusterArg, LoadsTheSampleFiles) {
  const std::string dir =
      std::string(DSTRAIN_SOURCE_DIR) + "/configs/clusters/";
  Cluster yaml = LoadClusterArg(dir + "fat-tree-2leaf.yaml").value();
  EXPECT_EQ(yaml.num_hosts(), 4);
  Cluster slurm = LoadClusterArg(dir + "slurm-topology.conf", 4).value();
  EXPECT_EQ(slurm.vertex(slurm.hosts()[0]).host.devices, 4);
}

TEST(Bisection, MatchesTheFabricsCut) {
  // 2 leaves x 2 hosts at 100 Gb/s, each leaf with 2 x 100 Gb/s to the
  // spine: non-blocking, so the halves exchange 2 hosts' worth.
  const std::string dir =
      std::string(DSTRAIN_SOURCE_DIR) + "/configs/clusters/";
  Cluster c = LoadClusterArg(dir + "fat-tree-2leaf.yaml").value();
  auto order = topology::Place(c, c.hosts()).value().hosts;
  EXPECT_NEAR(BisectionBandwidth(c, order), 2 * 100e9 / 8, 1);
  // 2:1 oversubscribed 2-level tree: half the hosts' bandwidth / 2.
  Cluster ft =
      LoadClusterArg("fat-tree:k=6,hosts=16,oversub=2,bw=100Gb/s,devices=1")
          .value();
  auto ft_order = topology::Place(ft, ft.hosts()).value().hosts;
  EXPECT_NEAR(BisectionBandwidth(ft, ft_order), 8 * 100e9 / 8 / 2, 1);
  // A 4x4 wrapped torus cut in half across x: 2 x 4 links.
  Cluster t = LoadClusterArg("torus:4x4,bw=100Gb/s").value();
  auto t_order = topology::Place(t, t.hosts()).value().hosts;
  EXPECT_GT(BisectionBandwidth(t, t_order), 0);
  EXPECT_EQ(BisectionBandwidth(t, std::vector<topology::VertexId>{}), -1);
}

TEST(FabricDot, DrawsTheFabricAndTheRing) {
  const std::string dir =
      std::string(DSTRAIN_SOURCE_DIR) + "/configs/clusters/";
  Cluster c = LoadClusterArg(dir + "fat-tree-2leaf.yaml").value();
  auto order = topology::Place(c, c.hosts()).value().hosts;
  const std::string dot = FabricDot(c, order).value();
  EXPECT_EQ(dot.rfind("graph \"fat-tree-2leaf\" {", 0), 0u) << dot;
  EXPECT_EQ(dot.back(), '\n');
  EXPECT_NE(dot.find("\"leaf0\" -- \"spine0\" [label=\"2x 12.5 GB/s\"]"),
            std::string::npos)
      << dot;
  EXPECT_NE(dot.find("\"node0\" -- \"leaf0\""), std::string::npos) << dot;
  // The ring: node0 -> node1 -> node2 -> node3 -> node0.
  for (const char* hop : {"\"node0\" -- \"node1\" [color=red",
                          "\"node1\" -- \"node2\" [color=red",
                          "\"node3\" -- \"node0\" [color=red"}) {
    EXPECT_NE(dot.find(hop), std::string::npos) << hop << "\n" << dot;
  }
  // Too many vertices: hosts fold into one box per leaf.
  Cluster big = LoadClusterArg("fat-tree:k=16,hosts=128,devices=1").value();
  auto big_order = topology::Place(big, big.hosts()).value().hosts;
  const std::string folded = FabricDot(big, big_order, 60).value();
  EXPECT_NE(folded.find("\"leaf0 hosts\" [shape=box3d, label=\"node[000-007]"),
            std::string::npos)
      << folded;
  EXPECT_EQ(folded.find("\"node001\""), std::string::npos);
  // And when the switches alone are too many, a refusal naming the flags.
  EXPECT_NE(FabricDot(big, big_order, 10).status().message().find("--nodes"),
            std::string::npos);
}

// Labels of two lines carry DOT's own `\n` escape; a doubled backslash
// would make Graphviz print a literal backslash-n.
TEST(FabricDot, LabelsBreakLinesWithDotsEscape) {
  const std::string dir =
      std::string(DSTRAIN_SOURCE_DIR) + "/configs/clusters/";
  Cluster c = LoadClusterArg(dir + "fat-tree-2leaf.yaml").value();
  auto order = topology::Place(c, c.hosts()).value().hosts;
  const std::string dot = FabricDot(c, order).value();
  EXPECT_NE(dot.find("label=\"node0\\n2 dev\""), std::string::npos) << dot;
  EXPECT_NE(dot.find("label=\"leaf0\\nlevel 0\""), std::string::npos) << dot;
  EXPECT_EQ(dot.find("\\\\"), std::string::npos) << dot;
}

bool OnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  for (std::string d; std::getline(dirs, d, ':');)
    if (::access((d + "/" + name).c_str(), X_OK) == 0) return true;
  return false;
}

// What Graphviz itself draws: every label line as its own text, and no
// backslash in any of them.
TEST(FabricDot, GraphvizDrawsTwoLineLabels) {
  if (!OnPath("dot"))
    GTEST_SKIP() << "Graphviz's `dot` is not installed (Debian: graphviz); "
                    "the drawing is not checked";
  const std::string dir =
      std::string(DSTRAIN_SOURCE_DIR) + "/configs/clusters/";
  const std::filesystem::path tmp =
      std::filesystem::temp_directory_path() /
      ("dstrain_dot_" + std::to_string(::getpid()));
  std::filesystem::create_directories(tmp);
  struct Case {
    std::string cluster;
    int max_vertices;
    std::string second_line;  // of some label, as drawn
  } cases[] = {{dir + "fat-tree-2leaf.yaml", 200, ">2 dev</text>"},
               {"fat-tree:k=16,hosts=128,devices=1", 60,  // folded boxes
                ">8 hosts</text>"},
               {"torus:3x3", 200, ">8 dev (0,0)</text>"}};
  for (const Case& k : cases) {
    Cluster c = LoadClusterArg(k.cluster).value();
    auto order = topology::Place(c, c.hosts()).value().hosts;
    const std::string in = (tmp / "fabric.dot").string();
    const std::string out = (tmp / "fabric.svg").string();
    std::ofstream(in) << FabricDot(c, order, k.max_vertices).value();
    const std::string cmd = "dot -Tsvg '" + in + "' -o '" + out + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    std::ifstream svg_in(out);
    std::ostringstream svg;
    svg << svg_in.rdbuf();
    EXPECT_EQ(svg.str().find("\\n"), std::string::npos)
        << k.cluster << ": a literal backslash-n in the drawing";
    EXPECT_EQ(svg.str().find('\\'), std::string::npos) << k.cluster;
    EXPECT_NE(svg.str().find(k.second_line), std::string::npos)
        << k.cluster << "\n"
        << svg.str().substr(0, 2000);
  }
  std::filesystem::remove_all(tmp);
}

}  // namespace
}  // namespace dstrain::cli
