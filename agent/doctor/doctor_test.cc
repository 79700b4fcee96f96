#include "agent/doctor/doctor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace dstrain::agent {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// A fake node under a temporary root: its proc/ and sys/ as the kernel
// would show them.
class FakeNode {
 public:
  FakeNode() {
    root_ =
        fs::temp_directory_path() / ("doctor_test." + std::to_string(getpid()) +
                                     "." + std::to_string(counter_++));
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  ~FakeNode() { fs::remove_all(root_); }

  void Write(const std::string& rel, const std::string& text) {
    const fs::path p = root_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text << "\n";
  }

  void Pci(const std::string& dir, const std::string& speed,
           const std::string& max_speed, int width, int max_width, int numa) {
    Write(dir + "/current_link_speed", speed + " GT/s PCIe");
    Write(dir + "/max_link_speed", max_speed + " GT/s PCIe");
    Write(dir + "/current_link_width", std::to_string(width));
    Write(dir + "/max_link_width", std::to_string(max_width));
    Write(dir + "/numa_node", std::to_string(numa));
  }

  void Gpu(const std::string& addr, int width, int numa) {
    const std::string d = "sys/bus/pci/devices/" + addr;
    Write(d + "/vendor", "0x10de");
    Write(d + "/class", "0x030200");
    Pci(d, "16.0", "16.0", width, 16, numa);
  }

  void IbPort(const std::string& dev, const std::string& state,
              const std::string& phys, const std::string& rate, int numa) {
    const std::string d = "sys/class/infiniband/" + dev;
    Pci(d + "/device", "16.0", "16.0", 16, 16, numa);
    Write(d + "/ports/1/state", state);
    Write(d + "/ports/1/phys_state", phys);
    Write(d + "/ports/1/rate", rate);
    Write(d + "/ports/1/link_layer", "InfiniBand");
  }

  std::string root() const { return root_.string(); }

 private:
  static inline int counter_ = 0;
  fs::path root_;
};

const proto::DoctorCheck* Find(const proto::DoctorReport& r,
                               const std::string& subject) {
  for (const proto::DoctorCheck& c : r.checks()) {
    if (c.subject() == subject) return &c;
  }
  return nullptr;
}

// Two GPUs (one trained at x8), three HCAs (one port down, one at a lower
// rate), a NIC, two NUMA nodes.
TEST(DoctorTest, FlagsANarrowGpuLinkADownPortAndASlowPort) {
  FakeNode n;
  n.Write("proc/cpuinfo",
          "processor\t: 0\nmodel name\t: Fake Xeon\nflags\t\t: fpu sse avx "
          "avx2 avx512f\nprocessor\t: 1\nmodel name\t: Fake Xeon\nflags\t\t: "
          "fpu sse avx avx2 avx512f\n");
  n.Write("proc/meminfo",
          "MemTotal:       16000000 kB\nMemAvailable:   12000000 kB");
  n.Write("sys/devices/system/node/node0/cpulist", "0");
  n.Write("sys/devices/system/node/node0/meminfo",
          "Node 0 MemTotal:  8000000 kB");
  n.Write("sys/devices/system/node/node1/cpulist", "1");
  n.Write("sys/devices/system/node/node1/meminfo",
          "Node 1 MemTotal:  8000000 kB");
  n.Gpu("0000:17:00.0", 16, 0);
  n.Gpu("0000:65:00.0", 8, 1);
  n.Write("sys/bus/pci/devices/0000:00:1f.0/vendor", "0x8086");  // not a GPU
  n.Write("sys/bus/pci/devices/0000:00:1f.0/class", "0x060100");
  n.Write("sys/module/nvidia/version", "550.54.15");
  n.IbPort("mlx5_0", "4: ACTIVE", "5: LinkUp", "200 Gb/sec (4X HDR)", 0);
  n.IbPort("mlx5_1", "1: DOWN", "3: Disabled", "10 Gb/sec (4X SDR)", 1);
  n.IbPort("mlx5_2", "4: ACTIVE", "5: LinkUp", "100 Gb/sec (4X EDR)", 0);
  n.Write("sys/class/net/eth0/operstate", "up");
  n.Write("sys/class/net/eth0/speed", "100000");
  n.Pci("sys/class/net/eth0/device", "8.0", "8.0", 16, 16, 0);
  n.Write("sys/class/net/lo/operstate", "unknown");  // virtual: no device

  DoctorOptions o;
  o.sys_root = n.root();
  o.data_path = n.root();
  o.read_test = false;
  o.versions = {{"libtorch", "2.11.0"}, {"NCCL", "2.27.3"}};
  proto::Gpu* g = o.inventory.add_gpus();
  g->set_name("NVIDIA H100 80GB HBM3");
  g->set_pci_bus_id("00000000:17:00.0");
  g->set_memory_bytes(std::int64_t{80} << 30);
  const proto::DoctorReport r = RunDoctor(o);

  const proto::DoctorCheck* cpu = Find(r, "cpu");
  ASSERT_NE(cpu, nullptr);
  EXPECT_EQ(cpu->verdict(), "ok");
  EXPECT_THAT(cpu->found(),
              HasSubstr("2 logical CPUs; AVX2 yes, AVX-512 yes, AMX no"));

  const proto::DoctorCheck* good = Find(r, "GPU 0000:17:00.0");
  ASSERT_NE(good, nullptr);
  EXPECT_EQ(good->verdict(), "ok");
  EXPECT_THAT(good->found(), HasSubstr("NVIDIA H100 80GB HBM3, 80 GiB"));
  EXPECT_THAT(good->found(), HasSubstr("PCIe 16 GT/s x16 (max 16 GT/s x16)"));

  const proto::DoctorCheck* narrow = Find(r, "GPU 0000:65:00.0");
  ASSERT_NE(narrow, nullptr);
  EXPECT_EQ(narrow->verdict(), "warn");
  EXPECT_THAT(narrow->reason(), HasSubstr("trained at x8 of x16"));

  const proto::DoctorCheck* down = Find(r, "mlx5_1 port 1");
  ASSERT_NE(down, nullptr);
  EXPECT_EQ(down->verdict(), "fail");
  EXPECT_THAT(down->reason(),
              HasSubstr("port is DOWN (physical state Disabled)"));

  const proto::DoctorCheck* slow = Find(r, "mlx5_2 port 1");
  ASSERT_NE(slow, nullptr);
  EXPECT_EQ(slow->verdict(), "warn");
  EXPECT_THAT(slow->reason(), HasSubstr("runs at 100 Gb/s where the node's "
                                        "other InfiniBand ports run 200"));
  EXPECT_EQ(Find(r, "mlx5_0 port 1")->verdict(), "ok");

  const proto::DoctorCheck* eth = Find(r, "eth0");
  ASSERT_NE(eth, nullptr);
  EXPECT_EQ(eth->verdict(), "ok");
  EXPECT_THAT(eth->found(), HasSubstr("up, 100 Gb/s"));
  EXPECT_EQ(Find(r, "lo"), nullptr);

  EXPECT_THAT(Find(r, "2 nodes")->found(), HasSubstr("node1: CPUs 1"));
  EXPECT_EQ(Find(r, "NVIDIA driver")->found(), "550.54.15");
  EXPECT_EQ(Find(r, "NCCL")->found(), "2.27.3");
  EXPECT_EQ(r.verdict(), "fail");

  const std::string text = DoctorText("fake", r);
  EXPECT_THAT(text, HasSubstr("summary: fail (1 failed, 2 warnings)"));
  EXPECT_THAT(DoctorJson("fake", r), HasSubstr("\"verdict\":\"fail\""));
}

TEST(DoctorTest, GpusWithoutADriverFailAndNoAvx2Warns) {
  FakeNode n;
  n.Write("proc/cpuinfo",
          "processor\t: 0\nmodel name\t: Old\nflags\t: sse avx");
  n.Gpu("0000:17:00.0", 16, 0);
  DoctorOptions o;
  o.sys_root = n.root();
  o.data_path = n.root();
  o.read_test = false;
  const proto::DoctorReport r = RunDoctor(o);
  EXPECT_EQ(Find(r, "cpu")->verdict(), "warn");
  EXPECT_THAT(Find(r, "cpu")->reason(), HasSubstr("no AVX2"));
  EXPECT_EQ(Find(r, "NVIDIA driver")->verdict(), "fail");
}

// An empty tree (what a container may show) and junk in the files: lines
// that say what is missing, no failure.
TEST(DoctorTest, AnEmptyOrJunkTreeReportsWhatIsMissing) {
  FakeNode n;
  n.Write("sys/bus/pci/devices/x/vendor", std::string("\x01\xff junk", 7));
  n.Write("sys/class/infiniband/mlx5_0/ports/1/rate", "nonsense");
  n.Write("sys/class/infiniband/mlx5_0/ports/1/state", "4: ACTIVE");
  DoctorOptions o;
  o.sys_root = n.root();
  o.data_path = n.root() + "/missing";
  o.read_test = false;
  const proto::DoctorReport r = RunDoctor(o);
  EXPECT_EQ(Find(r, "gpus")->found(),
            "no NVIDIA GPU on the PCI bus (CPU ranks only)");
  EXPECT_EQ(Find(r, "mlx5_0 port 1")->verdict(), "ok");
  EXPECT_EQ(Find(r, "cpu")->verdict(), "warn");
  EXPECT_EQ(Find(r, o.data_path)->verdict(), "warn");
}

// The read test on a real folder: a scratch file written, read back past
// the page cache, removed.
TEST(DoctorTest, TheReadTestMeasuresAndCleansUp) {
  FakeNode n;
  DoctorOptions o;
  o.sys_root = "/";
  o.data_path = n.root();
  o.read_test_bytes = 32 << 20;
  const proto::DoctorReport r = RunDoctor(o);
  const proto::DoctorCheck* read = Find(r, "read test");
  ASSERT_NE(read, nullptr);
  EXPECT_THAT(read->found(), HasSubstr("MB/s sequential"));
  EXPECT_THAT(read->found(), HasSubstr("a test file"));
  EXPECT_TRUE(fs::is_empty(n.root()));
  // This machine: whatever it has, nothing is a failure.
  EXPECT_NE(r.verdict(), "fail") << DoctorText("this node", r);
}

}  // namespace
}  // namespace dstrain::agent
