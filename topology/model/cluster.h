#pragma once
// The cluster model: the network as data.
//
// A Cluster is an undirected multigraph whose vertices are hosts and
// switches. Every vertex has a stable integer id (VertexId, dense from 0 in
// insertion order, never reused) and a unique, non-empty name. Every link
// has a stable id (LinkId, dense from 0) and is full duplex: `bandwidth` is
// available in EACH direction at once.
//
// Units, everywhere in topology/: bandwidth in BYTES per second (double),
// latency in SECONDS (double). Use GbpsToBytesPerSecond /
// GBpsToBytesPerSecond at the edges (files, flags).
//
// Levels: a switch's `level` is its height above the hosts (0 = leaf,
// 1 = spine / aggregation, 2 = core). Hosts report Level() == -1. On
// fat-tree and rail-optimized fabrics every switch-to-switch link joins
// two different levels (up-down routing relies on it).
//
// Building: AddHost / AddSwitch / AddLink check what can be checked locally
// (name empty or taken, endpoint missing, self link, bandwidth <= 0,
// latency < 0) and return INVALID_ARGUMENT; Validate() checks the whole
// graph against its fabric kind; CheckConnected() checks that every host
// reaches every host. Loaders and generators call all three.
//
// Lookups: Find(name) is a hash lookup; neighbours(v) is a contiguous span
// (O(1)); HostAtCoords is a hash lookup. Memory is O(V + E), so a 65,536
// rank fabric (8,192 hosts x 8 devices, a few thousand switches) costs a
// few MB and builds in milliseconds.
//
// A Cluster is a value type (copyable, movable). Const methods are
// thread-safe; mutating methods need exclusive access.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"

namespace dstrain::topology {

using VertexId = int32_t;
using LinkId = int32_t;
inline constexpr VertexId kNoVertex = -1;
inline constexpr LinkId kNoLink = -1;

// Unit helpers: Gb/s (network marketing unit) and GB/s to bytes/s.
constexpr double GbpsToBytesPerSecond(double gbps) { return gbps * 1e9 / 8; }
constexpr double GBpsToBytesPerSecond(double gBps) { return gBps * 1e9; }
constexpr double BytesPerSecondToGbps(double bps) { return bps * 8 / 1e9; }

// Defaults used by generators and loaders when a file leaves them out:
// a 400 Gb/s (NDR) link and half a microsecond per hop.
inline constexpr double kDefaultLinkBandwidth = GbpsToBytesPerSecond(400);
inline constexpr double kDefaultLinkLatency = 0.5e-6;

enum class VertexKind { kHost, kSwitch };

// One accelerator (or CPU rank slot) of a host. All but `index` optional.
struct DeviceInfo {
  int index = 0;           // local device index, 0..devices-1
  std::string name;        // e.g. "NVIDIA H100 80GB HBM3"; may be empty
  std::string pci_bus_id;  // e.g. "0000:1b:00.0"; empty when unknown
  int numa_node = -1;      // -1 when unknown
  int64_t memory_bytes = 0;
  int sm = 0;  // compute capability x 10 (90 for sm_90); 0 when unknown
};

// A network adapter (InfiniBand HCA / RoCE NIC) of a host.
struct NicInfo {
  std::string name;        // e.g. "mlx5_0"; unique within the host
  int port = 1;            // IB port number (NCCL_IB_HCA's `:port`)
  int rail = -1;           // rail index on rail-optimized fabrics; -1 = none
  double bandwidth = 0;    // bytes/s; 0 when unknown
  int numa_node = -1;      // -1 when unknown
  std::string pci_bus_id;  // empty when unknown
  std::string guid;        // e.g. "0x1c34da0300a1b2c3"; empty when unknown
};

// A NUMA node of a host and its CPUs (for CPU binding and the NCCL XML).
struct NumaInfo {
  int id = 0;
  std::vector<int> cpus;
};

struct HostInfo {
  int devices = 0;                      // local devices (ranks) it can run
  std::vector<DeviceInfo> device_info;  // empty, or exactly `devices` long
  std::vector<NicInfo> nics;            // index = NIC index used by links
  std::vector<NumaInfo> numa_nodes;     // may be empty
  std::vector<int> torus_coords;        // empty unless on a torus
};

struct SwitchInfo {
  int level = 0;  // 0 = leaf
  int rail = -1;  // rail of a rail leaf; -1 = serves every rail
};

struct Vertex {
  VertexId id = kNoVertex;
  VertexKind kind = VertexKind::kHost;
  std::string name;
  HostInfo host;  // meaningful when kind == kHost
  SwitchInfo sw;  // meaningful when kind == kSwitch
  bool is_host() const { return kind == VertexKind::kHost; }
  bool is_switch() const { return kind == VertexKind::kSwitch; }
};

struct Link {
  LinkId id = kNoLink;
  VertexId a = kNoVertex;
  VertexId b = kNoVertex;
  double bandwidth = kDefaultLinkBandwidth;  // bytes/s, each direction
  double latency = kDefaultLinkLatency;      // seconds
  // The NIC index (into HostInfo::nics) at a host endpoint, or -1 when the
  // endpoint is a switch or the link stands for all of the host's NICs.
  int nic_a = -1;
  int nic_b = -1;
  // The endpoint that is not `v` (v must be a or b).
  VertexId Other(VertexId v) const { return v == a ? b : a; }
};

// One entry of a vertex's adjacency list.
struct Adjacent {
  VertexId neighbor = kNoVertex;
  LinkId link = kNoLink;
};

enum class FabricKind { kUnknown, kFatTree, kRailOptimized, kTorus };
const char* FabricKindName(FabricKind kind);  // "fat-tree", "torus", ...

// What a generator (or a file) says about the fabric's shape. Fields that
// do not apply to `kind` stay at their defaults; 0 means "not known".
struct FabricParams {
  FabricKind kind = FabricKind::kUnknown;
  // Fat-tree and rail-optimized.
  int k = 0;                    // switch radix (ports per switch)
  int levels = 0;               // switch levels (2 or 3)
  double oversubscription = 0;  // downlink/uplink bandwidth at leaf and agg
  int rails = 0;                // rail-optimized: NICs (rails) per host
  // Torus.
  std::vector<int> torus_dims;   // e.g. {16, 16, 16}
  std::vector<bool> torus_wrap;  // per dimension; same length as dims
};

class Cluster {
 public:
  Cluster() = default;

  // Name of the description (file stem or generator spec), for messages.
  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }

  const FabricParams& fabric() const { return fabric_; }
  void set_fabric(FabricParams fabric) { fabric_ = std::move(fabric); }

  // ---- building
  StatusOr<VertexId> AddHost(std::string name, HostInfo info = {});
  StatusOr<VertexId> AddSwitch(std::string name, SwitchInfo info = {});
  // Joins a and b. `nic_a` / `nic_b`: NIC index at a host endpoint or -1.
  StatusOr<LinkId> AddLink(VertexId a, VertexId b,
                           double bandwidth = kDefaultLinkBandwidth,
                           double latency = kDefaultLinkLatency, int nic_a = -1,
                           int nic_b = -1);
  // Replaces a host's details (devices, NICs, coordinates). Keeps links.
  // INVALID_ARGUMENT when `host` is not a host.
  Status SetHostInfo(VertexId host, HostInfo info);
  // Capacity hints for generators (avoid rehashing / reallocation).
  void Reserve(int vertices, int links);

  // ---- whole-graph checks (see the file comment)
  // Per kind: device_info sizes, NIC names unique per host; fat-tree:
  // hosts link only to leaves and to exactly one leaf, switch links join
  // different levels; rail-optimized: a host's leaves serve distinct rails
  // and each link's NIC rail matches its leaf's; torus: every host has
  // coordinates inside the dims, no two hosts share coordinates.
  Status Validate() const;
  // Every host reaches every other host.
  Status CheckConnected() const;

  // ---- reading
  int num_vertices() const { return static_cast<int>(vertices_.size()); }
  int num_links() const { return static_cast<int>(links_.size()); }
  int num_hosts() const { return static_cast<int>(hosts_.size()); }
  int num_switches() const { return static_cast<int>(switches_.size()); }
  int64_t total_devices() const;

  const Vertex& vertex(VertexId v) const { return vertices_[v]; }
  const std::vector<Vertex>& vertices() const { return vertices_; }
  const Link& link(LinkId l) const { return links_[l]; }
  const std::vector<Link>& links() const { return links_; }
  // Host / switch ids in insertion order.
  const std::vector<VertexId>& hosts() const { return hosts_; }
  const std::vector<VertexId>& switches() const { return switches_; }

  bool IsHost(VertexId v) const {
    return v >= 0 && v < num_vertices() && vertices_[v].is_host();
  }
  bool IsSwitch(VertexId v) const {
    return v >= 0 && v < num_vertices() && vertices_[v].is_switch();
  }
  // -1 for hosts, the switch level for switches.
  int Level(VertexId v) const {
    return vertices_[v].is_host() ? -1 : vertices_[v].sw.level;
  }

  // kNoVertex when no vertex has that name.
  VertexId Find(std::string_view name) const;

  std::span<const Adjacent> neighbors(VertexId v) const {
    return adjacency_[v];
  }
  int degree(VertexId v) const {
    return static_cast<int>(adjacency_[v].size());
  }
  // The first link joining a and b (kNoLink if none); all of them.
  LinkId LinkBetween(VertexId a, VertexId b) const;
  std::vector<LinkId> LinksBetween(VertexId a, VertexId b) const;

  // A host's leaf switch (level 0). With rail >= 0, the leaf serving that
  // rail (rail-optimized); with rail == -1, the first leaf it links to.
  // kNoVertex when none.
  VertexId LeafOf(VertexId host, int rail = -1) const;
  // Every leaf switch the host links to, in link order.
  std::vector<VertexId> LeavesOf(VertexId host) const;

  // The host at these torus coordinates, or kNoVertex.
  VertexId HostAtCoords(std::span<const int> coords) const;

  // Hop distances from `from` to every vertex (breadth-first; -1 when
  // unreachable). O(V + E).
  std::vector<int> HopDistances(VertexId from) const;

 private:
  static bool PackCoords(std::span<const int> coords, uint64_t* key);
  Status CheckFatTreeHost(const Vertex& h, bool rail_optimized) const;

  std::string name_;
  FabricParams fabric_;
  std::vector<Vertex> vertices_;
  std::vector<Link> links_;
  std::vector<std::vector<Adjacent>> adjacency_;  // indexed by VertexId
  std::vector<VertexId> hosts_;
  std::vector<VertexId> switches_;
  std::unordered_map<std::string, VertexId> by_name_;
  // Packed torus coordinates -> host (first host with them; Validate
  // reports duplicates).
  std::unordered_map<uint64_t, VertexId> by_coords_;
};

}  // namespace dstrain::topology
