#include "agent/node_probe.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/testing/status_matchers.h"

namespace dstrain::agent {
namespace {

using ::dstrain::testing::IsOk;
using ::testing::Not;

namespace fs = std::filesystem;

TEST(NodeProbeTest, ParsesCpuLists) {
  auto a = ParseCpuList("0-3,8,10-11\n");
  ASSERT_THAT(a, IsOk());
  EXPECT_EQ(*a, (std::vector<int>{0, 1, 2, 3, 8, 10, 11}));
  auto empty = ParseCpuList("\n");
  ASSERT_THAT(empty, IsOk());
  EXPECT_TRUE(empty->empty());
  EXPECT_THAT(ParseCpuList("0-"), Not(IsOk()));
  EXPECT_THAT(ParseCpuList("3-1"), Not(IsOk()));
  auto bad = ParseCpuList("0,x");
  ASSERT_THAT(bad, Not(IsOk()));
  EXPECT_NE(bad.status().message().find("`x`"), std::string::npos);
}

TEST(NodeProbeTest, ParsesMemTotal) {
  auto node = ParseMemTotal(
      "Node 0 MemTotal:       11495636 kB\nNode 0 MemFree:  9280748 kB\n");
  ASSERT_THAT(node, IsOk());
  EXPECT_EQ(*node, 11495636LL * 1024);
  auto proc = ParseMemTotal("MemTotal:        2048 kB\nMemFree: 1 kB\n");
  ASSERT_THAT(proc, IsOk());
  EXPECT_EQ(*proc, 2048LL * 1024);
  EXPECT_THAT(ParseMemTotal("MemFree: 1 kB\n"), Not(IsOk()));
  EXPECT_THAT(ParseMemTotal("MemTotal: lots kB\n"), Not(IsOk()));
}

TEST(NodeProbeTest, ParsesNvidiaSmi) {
  auto gpus = ParseNvidiaSmiCsv(
      "0, NVIDIA H200, 00000000:18:00.0, 143771\n"
      "1, NVIDIA H200, 00000000:2A:00.0, 143771\n");
  ASSERT_THAT(gpus, IsOk());
  ASSERT_EQ(gpus->size(), 2u);
  EXPECT_EQ((*gpus)[1].index(), 1);
  EXPECT_EQ((*gpus)[1].name(), "NVIDIA H200");
  EXPECT_EQ((*gpus)[1].pci_bus_id(), "00000000:2A:00.0");
  EXPECT_EQ((*gpus)[1].memory_bytes(), 143771LL * 1024 * 1024);
  EXPECT_THAT(ParseNvidiaSmiCsv("0, H200\n"), Not(IsOk()));
}

class FakeSysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("dstrain_probe_" + std::to_string(getpid()));
    fs::remove_all(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  void Write(const std::string& rel, const std::string& text) {
    fs::path p = root_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }
  fs::path root_;
};

TEST_F(FakeSysTest, ReadsNumaNodesInOrder) {
  Write("sys/devices/system/node/node1/cpulist", "4-7\n");
  Write("sys/devices/system/node/node1/meminfo", "Node 1 MemTotal:  2048 kB\n");
  Write("sys/devices/system/node/node0/cpulist", "0-3\n");
  Write("sys/devices/system/node/node0/meminfo", "Node 0 MemTotal:  1024 kB\n");
  Write("sys/devices/system/node/possible", "0-1\n");
  Write("sys/devices/system/node/node2/cpulist", "garbage\n");
  auto nodes = ProbeNumaNodes(root_.string());
  ASSERT_EQ(nodes.size(), 2u);
  EXPECT_EQ(nodes[0].id(), 0);
  EXPECT_EQ(nodes[0].cpus_size(), 4);
  EXPECT_EQ(nodes[0].memory_bytes(), 1024 * 1024);
  EXPECT_EQ(nodes[1].id(), 1);
  EXPECT_EQ(nodes[1].cpus(0), 4);
  EXPECT_EQ(nodes[1].memory_bytes(), 2048 * 1024);
}

TEST_F(FakeSysTest, ProbeNodeUsesOverridesAndRoot) {
  Write("proc/meminfo", "MemTotal:  4096 kB\n");
  Write("sys/devices/system/node/node0/cpulist", "0\n");
  ProbeOptions opts;
  opts.sys_root = root_.string();
  opts.hostname = "vm-test";
  auto inv = ProbeNode(opts);
  EXPECT_EQ(inv.hostname(), "vm-test");
  EXPECT_EQ(inv.memory_bytes(), 4096 * 1024);
  EXPECT_EQ(inv.numa_nodes_size(), 1);
  EXPECT_GE(inv.cpus(), 1);
  EXPECT_GE(inv.addresses_size(), 1);
  EXPECT_EQ(inv.gpus_size(), 0);  // no proc/driver/nvidia under the root
}

TEST(NodeProbeTest, RealNodeHasNumaAndMemory) {
  auto inv = ProbeNode();
  EXPECT_FALSE(inv.hostname().empty());
  EXPECT_GT(inv.memory_bytes(), 0);
  EXPECT_GE(inv.numa_nodes_size(), 1);
}

}  // namespace
}  // namespace dstrain::agent
