#include <gtest/gtest.h>

#include <cctype>
#include <cstdio>
#include <cstring>

#include "common/testing/status_matchers.h"
#include "topology/io/cluster_yaml.h"
#include "topology/io/nccl_env.h"
#include "topology/io/nccl_topo_xml.h"
#include "topology/model/generators.h"

namespace dstrain::topology {
namespace {

using ::dstrain::testing::IsOk;
using ::testing::Not;

const std::string kSrc = DSTRAIN_SOURCE_DIR;

// A tiny well-formedness checker for the subset we write: elements with
// double-quoted attributes, no text, comments, declarations or CDATA;
// entities limited to the five predefined ones; one root; tags nest.
// Returns "" when well-formed, else what is wrong.
std::string CheckWellFormed(const std::string& xml) {
  std::vector<std::string> open;
  int roots = 0;
  size_t i = 0;
  auto name_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  };
  while (i < xml.size()) {
    if (std::isspace(static_cast<unsigned char>(xml[i]))) {
      ++i;
      continue;
    }
    if (xml[i] != '<') return "text outside tags at " + std::to_string(i);
    ++i;
    const bool closing = i < xml.size() && xml[i] == '/';
    if (closing) ++i;
    size_t n = i;
    while (n < xml.size() && name_char(xml[n])) ++n;
    if (n == i) return "missing tag name at " + std::to_string(i);
    const std::string name = xml.substr(i, n - i);
    i = n;
    if (closing) {
      if (open.empty() || open.back() != name)
        return "mismatched </" + name + ">";
      open.pop_back();
      if (i >= xml.size() || xml[i] != '>') return "bad closing tag " + name;
      ++i;
      continue;
    }
    std::vector<std::string> attrs;
    while (true) {
      while (i < xml.size() && xml[i] == ' ') ++i;
      if (i >= xml.size()) return "unterminated tag " + name;
      if (xml[i] == '>' ||
          (xml[i] == '/' && i + 1 < xml.size() && xml[i + 1] == '>'))
        break;
      size_t a = i;
      while (a < xml.size() && name_char(xml[a])) ++a;
      if (a == i) return "bad attribute in " + name;
      const std::string attr = xml.substr(i, a - i);
      for (const std::string& seen : attrs)
        if (seen == attr) return "repeated attribute " + attr;
      attrs.push_back(attr);
      if (xml.compare(a, 2, "=\"") != 0)
        return "attribute " + attr + " not =\"...\"";
      size_t v = a + 2;
      while (v < xml.size() && xml[v] != '"') {
        if (xml[v] == '<' || xml[v] == '>') return "raw < or > in " + attr;
        if (xml[v] == '&') {
          bool ok = false;
          for (const char* e : {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"})
            ok |= xml.compare(v, std::strlen(e), e) == 0;
          if (!ok) return "bad entity in " + attr;
        }
        ++v;
      }
      if (v >= xml.size()) return "unterminated value of " + attr;
      i = v + 1;
    }
    if (open.empty() && ++roots > 1) return "more than one root";
    if (xml[i] == '/') {
      i += 2;
    } else {
      open.push_back(name);
      ++i;
    }
  }
  if (!open.empty()) return "unclosed <" + open.back() + ">";
  if (roots != 1) return "no root";
  return "";
}

TEST(NcclTopologyXml, GoldenForAGpuNode) {
  StatusOr<Cluster> c = LoadClusterYamlFile(
      kSrc + "/topology/io/testdata/yaml/good/gpu_node.yaml");
  ASSERT_THAT(c, IsOk()) << c.status().message();
  StatusOr<std::string> xml = NcclTopologyXml(c->vertex(c->Find("dgx01")).host);
  ASSERT_THAT(xml, IsOk()) << xml.status().message();
  const std::string golden =
      R"(<system version="1">
  <cpu numaid="0" affinity="0000000f" arch="x86_64" vendor="GenuineIntel" familyid="6" modelid="143">
    <pci busid="0000:1b:00.0" class="0x030200" link_speed="32.0 GT/s PCIe" link_width="16">
      <gpu dev="0" sm="90" rank="0" gdr="1"/>
    </pci>
    <pci busid="0000:1c:00.0" class="0x020700" link_speed="32.0 GT/s PCIe" link_width="16">
      <nic>
        <net name="mlx5_0" dev="0" speed="400000" port="1" guid="0x1c34da0300a1b2c3" maxconn="131072" gdr="1"/>
      </nic>
    </pci>
  </cpu>
  <cpu numaid="1" affinity="000000f0" arch="x86_64" vendor="GenuineIntel" familyid="6" modelid="143">
    <pci busid="0000:9a:00.0" class="0x030200" link_speed="32.0 GT/s PCIe" link_width="16">
      <gpu dev="1" sm="90" rank="1" gdr="1"/>
    </pci>
    <pci busid="0000:9b:00.0" class="0x020700" link_speed="32.0 GT/s PCIe" link_width="16">
      <nic>
        <net name="mlx5_1" dev="1" speed="400000" port="1" maxconn="131072" gdr="1"/>
      </nic>
    </pci>
  </cpu>
</system>
)";
  EXPECT_EQ(*xml, golden);
  EXPECT_EQ(CheckWellFormed(*xml), "");
}

TEST(NcclTopologyXml, EscapesAndLooseNicsAndArm) {
  HostInfo h;
  h.devices = 1;
  DeviceInfo d;
  d.pci_bus_id = "1B:00.0";  // short, upper case
  h.device_info = {d};
  NicInfo nic;
  nic.name = "od<d>&\"n'ame";
  nic.bandwidth = GbpsToBytesPerSecond(200);
  h.nics = {nic};
  NcclXmlOptions o;
  o.cpu_arch = "arm64";
  StatusOr<std::string> xml = NcclTopologyXml(h, o);
  ASSERT_THAT(xml, IsOk()) << xml.status().message();
  EXPECT_EQ(CheckWellFormed(*xml), "") << *xml;
  EXPECT_NE(xml->find(R"(name="od&lt;d&gt;&amp;&quot;n&apos;ame")"),
            std::string::npos)
      << *xml;
  EXPECT_NE(xml->find(R"(busid="0000:1b:00.0")"), std::string::npos);
  EXPECT_NE(xml->find("    <nic>\n      <net "), std::string::npos) << *xml;
  EXPECT_NE(xml->find(R"(speed="200000")"), std::string::npos);
  EXPECT_EQ(xml->find("vendor="), std::string::npos);    // arm64: no x86 fields
  EXPECT_EQ(xml->find("affinity="), std::string::npos);  // CPUs unknown
}

TEST(NcclTopologyXml, WellFormedForManyHosts) {
  // Every shape of host the generators and loaders make, with details.
  for (int devices = 1; devices <= 8; ++devices) {
    for (int nics = 0; nics <= 4; ++nics) {
      HostInfo h;
      h.devices = devices;
      for (int i = 0; i < devices; ++i) {
        DeviceInfo d;
        d.index = i;
        char bus[16];
        std::snprintf(bus, sizeof bus, "0000:%02x:00.0", 0x10 + i);
        d.pci_bus_id = bus;
        d.numa_node = i % 2 == 0 ? 0 : (devices > 4 ? 1 : -1);
        h.device_info.push_back(d);
      }
      for (int i = 0; i < nics; ++i) {
        NicInfo n;
        n.name = "mlx5_" + std::to_string(i);
        n.numa_node = i % 3 - 1;
        if (i % 2) {
          char bus[16];
          std::snprintf(bus, sizeof bus, "0000:%02x:00.1", 0x80 + i);
          n.pci_bus_id = bus;
        }
        h.nics.push_back(n);
      }
      h.numa_nodes = {{0, {0, 1, 2, 3}}, {1, {32, 33, 63}}};
      StatusOr<std::string> xml = NcclTopologyXml(h);
      ASSERT_THAT(xml, IsOk()) << xml.status().message();
      EXPECT_EQ(CheckWellFormed(*xml), "") << *xml;
      // Every device and NIC appears exactly once.
      for (int i = 0; i < devices; ++i) {
        const std::string g = "<gpu dev=\"" + std::to_string(i) + "\"";
        EXPECT_NE(xml->find(g), std::string::npos);
        EXPECT_EQ(xml->find(g), xml->rfind(g));
      }
      for (int i = 0; i < nics; ++i) {
        const std::string n = "name=\"mlx5_" + std::to_string(i) + "\"";
        EXPECT_NE(xml->find(n), std::string::npos);
        EXPECT_EQ(xml->find(n), xml->rfind(n));
      }
    }
  }
  EXPECT_EQ(CpuMask({32, 33, 63}), "80000003,00000000");
  EXPECT_EQ(CpuMask({}), "");
}

TEST(NcclTopologyXml, TheCheckerCatchesBrokenXml) {
  EXPECT_EQ(CheckWellFormed("<a x=\"1\"><b/></a>"), "");
  EXPECT_NE(CheckWellFormed("<a><b></a></b>"), "");
  EXPECT_NE(CheckWellFormed("<a>"), "");
  EXPECT_NE(CheckWellFormed("<a/><b/>"), "");
  EXPECT_NE(CheckWellFormed("<a x=\"&\"/>"), "");
  EXPECT_NE(CheckWellFormed("<a x=\"<\"/>"), "");
  EXPECT_NE(CheckWellFormed("<a x=1/>"), "");
  EXPECT_NE(CheckWellFormed("<a x=\"1\" x=\"2\"/>"), "");
  EXPECT_NE(CheckWellFormed("<a>text</a>"), "");
}

TEST(NcclTopologyXml, Errors) {
  HostInfo h;
  EXPECT_NE(NcclTopologyXml(h).status().message().find("no devices"),
            std::string::npos);
  h.devices = 2;
  EXPECT_NE(
      NcclTopologyXml(h).status().message().find("every device needs one"),
      std::string::npos);
  h.device_info.resize(2);
  h.device_info[1].index = 1;
  h.device_info[0].pci_bus_id = "0000:1b:00.0";
  EXPECT_NE(
      NcclTopologyXml(h).status().message().find("device 1 has no PCI bus id"),
      std::string::npos);
  h.device_info[1].pci_bus_id = "1b:00";
  EXPECT_NE(NcclTopologyXml(h).status().message().find(
                "malformed PCI bus id `1b:00`"),
            std::string::npos);
  h.device_info[1].pci_bus_id = "0000:1B:00.0";
  EXPECT_NE(
      NcclTopologyXml(h).status().message().find("0000:1b:00.0 appears twice"),
      std::string::npos);
}

TEST(NcclEnvironment, RailOptimizedHostsGetHcasAndNoCrossNic) {
  RailOptimizedOptions o;
  o.hosts = 4;
  o.rails = 4;
  o.k = 4;
  o.levels = 1;
  Cluster c = MakeRailOptimized(o).value();
  NcclEnvOptions eo;
  eo.topo_file = "/run/dstrain/job1/nccl_topo_node0.xml";
  eo.algorithm = "ring";
  StatusOr<std::map<std::string, std::string>> env = NcclEnvironment(c, 0, eo);
  ASSERT_THAT(env, IsOk()) << env.status().message();
  EXPECT_EQ(*env,
            (std::map<std::string, std::string>{
                {"NCCL_IB_HCA", "=mlx5_0:1,mlx5_1:1,mlx5_2:1,mlx5_3:1"},
                {"NCCL_CROSS_NIC", "0"},
                {"NCCL_TOPO_FILE", "/run/dstrain/job1/nccl_topo_node0.xml"},
                {"NCCL_ALGO", "Ring"},
            }));
}

TEST(NcclEnvironment, FatTreeAndFlatHosts) {
  FatTreeOptions o;
  o.hosts = 2;
  o.k = 4;
  Cluster c = MakeFatTree(o).value();
  NcclEnvOptions eo;
  eo.algorithm = "Tree,collnet_direct";
  StatusOr<std::map<std::string, std::string>> env = NcclEnvironment(c, 1, eo);
  ASSERT_THAT(env, IsOk()) << env.status().message();
  EXPECT_EQ(env->count("NCCL_CROSS_NIC"), 0u);
  EXPECT_EQ(env->at("NCCL_IB_HCA"), "=mlx5_0:1");
  EXPECT_EQ(env->at("NCCL_ALGO"), "Tree,CollnetDirect");
  eo.algorithm = "auto";
  EXPECT_EQ(NcclEnvironment(c, 1, eo)->count("NCCL_ALGO"), 0u);
  Cluster flat;
  const VertexId h = flat.AddHost("cpu0").value();
  EXPECT_TRUE(NcclEnvironment(flat, h)->empty());
  eo.algorithm = "hierarchical";
  EXPECT_NE(NcclEnvironment(c, 1, eo).status().message().find(
                "unknown NCCL algorithm"),
            std::string::npos);
  const VertexId leaf = c.Find("leaf0");
  EXPECT_THAT(NcclEnvironment(c, leaf), Not(IsOk()));
}

}  // namespace
}  // namespace dstrain::topology
