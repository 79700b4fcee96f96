#pragma once
// The cluster description format of configs/clusters/*.yaml (documented in
// docs/topology.md, "Cluster descriptions"): either an explicit list of
// switches, hosts and links, or a `generator:` shorthand for the
// generators of topology/model/generators.h.
//
//   name: two-leaf
//   fabric: {kind: fat-tree}
//   defaults: {devices: 2, bandwidth: 100 Gb/s, latency: 1 us}
//   switches:
//     - {name: "leaf[0-1]", level: 0}
//     - {name: spine0, level: 1}
//   hosts:
//     - {name: "node[0-1]", leaf: leaf0}
//     - {name: "node[2-3]", leaf: leaf1}
//   links:
//     - {a: "leaf[0-1]", b: spine0}
//
// Loading is strict, like the job loader (common/config): an unknown key,
// a wrong type, a missing unit, a duplicate key or name, a reference to a
// vertex that does not exist is INVALID_ARGUMENT with one line naming the
// place as `file:line:column` (1-based) and, for misspelt keys, a
// suggestion:
//   unknown key `leef` at two-leaf.yaml:9:26; did you mean `leaf`?
//   `hosts[0].devices` at x.yaml:7:14: expected an integer, got `many`
//   `defaults.bandwidth` at x.yaml:3:14: expected a bandwidth with a unit
//       (`400 Gb/s`, `50 GB/s`), got `400`
//   `links[0].b` at x.yaml:12:19: no switch or host is called `spine9`
// Whole-graph problems found by Cluster::Validate / CheckConnected are
// reported as `file: message`. A file with hosts and no switches or links
// at all is a flat list of machines (fabric kind unknown) and needs no
// connectivity; any other file must connect every host.
// Pure functions (LoadClusterYamlFile reads the file); thread-safe.

#include <string>
#include <string_view>

#include "common/status.h"
#include "topology/model/cluster.h"

namespace dstrain::topology {

// `display` names the file in messages; Cluster::name() defaults to the
// file's stem when the file has no `name:`.
StatusOr<Cluster> ParseClusterYaml(std::string_view text,
                                   const std::string& display);

// NOT_FOUND when `path` cannot be read.
StatusOr<Cluster> LoadClusterYamlFile(const std::string& path);

}  // namespace dstrain::topology
