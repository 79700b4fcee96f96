#include "common/contract/worker_env.h"

#include <cstdlib>

#include "common/strings.h"

namespace dstrain::contract {
namespace {

// Reads an integer variable in [lo, hi]; unset keeps `*out`.
Status DecodeInt(const EnvLookup& lookup, const char* name, int lo, int hi,
                 int* out) {
  const std::optional<std::string> v = lookup(name);
  if (!v || v->empty()) return Status::Ok();
  const std::optional<int> parsed = ParseInteger<int>(*v);
  if (!parsed || *parsed < lo || *parsed > hi) {
    return InvalidArgument("environment variable " + std::string(name) + "=" +
                           *v + " is not an integer in [" + std::to_string(lo) +
                           ", " + std::to_string(hi) + "]");
  }
  *out = *parsed;
  return Status::Ok();
}

void DecodeString(const EnvLookup& lookup, const char* name, std::string* out) {
  const std::optional<std::string> v = lookup(name);
  if (v && !v->empty()) *out = *v;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> EncodeWorkerEnv(
    const WorkerEnv& env) {
  std::vector<std::pair<std::string, std::string>> out = {
      {kRank, std::to_string(env.rank)},
      {kWorldSize, std::to_string(env.world_size)},
      {kLocalRank, std::to_string(env.local_rank)},
      {kLocalWorldSize, std::to_string(env.local_world_size)},
      {kNodeRank, std::to_string(env.node_rank)},
      {kDstrainNodeRank, std::to_string(env.node_rank)},
      {kNumNodes, std::to_string(env.num_nodes)},
      {kJobId, env.job_id},
      {kAttempt, std::to_string(env.attempt)},
      {kRunDir, env.run_dir},
      {kResume, env.resume ? "1" : "0"},
  };
  auto optional = [&out](const char* name, const std::string& value) {
    if (!value.empty()) out.emplace_back(name, value);
  };
  optional(kJobName, env.job_name);
  optional(kMasterAddr, env.master_addr);
  if (env.master_port > 0)
    out.emplace_back(kMasterPort, std::to_string(env.master_port));
  optional(kCoordinator, env.coordinator);
  optional(kToken, env.token);
  if (env.metrics_fd >= 0)
    out.emplace_back(kMetricsFd, std::to_string(env.metrics_fd));
  optional(kProgressFile, env.progress_file);
  optional(kTlsCert, env.tls_cert);
  optional(kTlsKey, env.tls_key);
  optional(kTlsCa, env.tls_ca);
  optional(kNodeName, env.node_name);
  optional(kCommHost, env.comm_host);
  optional(kGlooSocketIfname, env.comm_interface);
  if (env.numa_node >= 0)
    out.emplace_back(kNumaNode, std::to_string(env.numa_node));
  optional(kSubCommunicators, FormatSubCommunicators(env.sub_communicators));
  optional(kGradAllReduce, FormatGradRoutes(env.grad_routes));
  return out;
}

std::string DescribeWorkerEnv(const WorkerEnv& env) {
  std::string out = "{";
  for (const auto& [k, v] : EncodeWorkerEnv(env)) out += " " + k + "=" + v;
  return out + " }";
}

const std::vector<std::string>& WorkerEnvVariables() {
  // clang-format off
  static const std::vector<std::string> kAll = {
      kRank, kWorldSize, kLocalRank, kLocalWorldSize, kNodeRank,
      kMasterAddr, kMasterPort, kCoordinator, kToken, kJobId, kJobName,
      kAttempt, kNumNodes, kDstrainNodeRank, kRunDir, kResume, kMetricsFd,
      kProgressFile, kTlsCert, kTlsKey, kTlsCa, kNodeName, kCommHost, kGlooSocketIfname,
      kNumaNode, kSubCommunicators, kGradAllReduce};
  // clang-format on
  return kAll;
}

EnvLookup ProcessEnvironment() {
  return [](const char* name) -> std::optional<std::string> {
    const char* v = std::getenv(name);
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

StatusOr<WorkerEnv> DecodeWorkerEnv(const EnvLookup& lookup) {
  WorkerEnv env;
  constexpr int kMaxRanks = 1 << 20;
  DSTRAIN_RETURN_IF_ERROR(
      DecodeInt(lookup, kWorldSize, 1, kMaxRanks, &env.world_size));
  DSTRAIN_RETURN_IF_ERROR(
      DecodeInt(lookup, kRank, 0, env.world_size - 1, &env.rank));
  env.local_world_size = env.world_size;
  DSTRAIN_RETURN_IF_ERROR(DecodeInt(lookup, kLocalWorldSize, 1, env.world_size,
                                    &env.local_world_size));
  env.local_rank = env.rank % env.local_world_size;
  DSTRAIN_RETURN_IF_ERROR(DecodeInt(lookup, kLocalRank, 0,
                                    env.local_world_size - 1, &env.local_rank));
  DSTRAIN_RETURN_IF_ERROR(
      DecodeInt(lookup, kNodeRank, 0, kMaxRanks, &env.node_rank));
  DSTRAIN_RETURN_IF_ERROR(
      DecodeInt(lookup, kNumNodes, 1, kMaxRanks, &env.num_nodes));
  DecodeString(lookup, kMasterAddr, &env.master_addr);
  DSTRAIN_RETURN_IF_ERROR(
      DecodeInt(lookup, kMasterPort, 1, 65535, &env.master_port));
  DecodeString(lookup, kCoordinator, &env.coordinator);
  DecodeString(lookup, kToken, &env.token);
  DecodeString(lookup, kJobId, &env.job_id);
  DecodeString(lookup, kJobName, &env.job_name);
  DSTRAIN_RETURN_IF_ERROR(
      DecodeInt(lookup, kAttempt, 0, 1 << 30, &env.attempt));
  DecodeString(lookup, kRunDir, &env.run_dir);
  std::string resume = "0";
  DecodeString(lookup, kResume, &resume);
  if (resume != "0" && resume != "1") {
    return InvalidArgument("environment variable " + std::string(kResume) +
                           "=" + resume + " is not 0 or 1");
  }
  env.resume = resume == "1";
  DSTRAIN_RETURN_IF_ERROR(
      DecodeInt(lookup, kMetricsFd, 0, 1 << 20, &env.metrics_fd));
  DecodeString(lookup, kProgressFile, &env.progress_file);
  DecodeString(lookup, kTlsCert, &env.tls_cert);
  DecodeString(lookup, kTlsKey, &env.tls_key);
  DecodeString(lookup, kTlsCa, &env.tls_ca);
  DecodeString(lookup, kNodeName, &env.node_name);
  DecodeString(lookup, kCommHost, &env.comm_host);
  DecodeString(lookup, kGlooSocketIfname, &env.comm_interface);
  DSTRAIN_RETURN_IF_ERROR(
      DecodeInt(lookup, kNumaNode, 0, 1 << 16, &env.numa_node));
  std::string subs;
  DecodeString(lookup, kSubCommunicators, &subs);
  DSTRAIN_ASSIGN_OR_RETURN(env.sub_communicators, ParseSubCommunicators(subs));
  std::string routes;
  DecodeString(lookup, kGradAllReduce, &routes);
  if (!routes.empty()) {
    StatusOr<std::vector<GradRoute>> parsed = ParseGradRoutes(routes);
    if (!parsed.ok()) {
      return InvalidArgument("environment variable " +
                             std::string(kGradAllReduce) + "=" + routes + ": " +
                             parsed.status().message());
    }
    env.grad_routes = std::move(parsed).value();
  }
  return env;
}

std::string FormatSubCommunicators(const std::vector<SubCommunicator>& subs) {
  std::string out;
  for (const SubCommunicator& s : subs) {
    if (!out.empty()) out += ';';
    out += s.name + ":" + std::to_string(s.color) + ":" + std::to_string(s.key);
  }
  return out;
}

StatusOr<std::vector<SubCommunicator>> ParseSubCommunicators(
    std::string_view text) {
  std::vector<SubCommunicator> out;
  std::size_t index = 0;
  while (!text.empty()) {
    const std::size_t semi = text.find(';');
    const std::string_view item = text.substr(0, semi);
    const std::string what = std::string(kSubCommunicators) + " item " +
                             std::to_string(index) + " `" + std::string(item) +
                             "`";
    const std::size_t c1 = item.find(':');
    const std::size_t c2 =
        c1 == std::string_view::npos ? c1 : item.find(':', c1 + 1);
    if (c2 == std::string_view::npos || c1 == 0)
      return InvalidArgument(what + ": expected name:colour:key");
    SubCommunicator sub;
    sub.name = std::string(item.substr(0, c1));
    const std::optional<int> color =
        ParseInteger<int>(item.substr(c1 + 1, c2 - c1 - 1));
    const std::optional<int> key = ParseInteger<int>(item.substr(c2 + 1));
    if (!color || !key)
      return InvalidArgument(what + ": colour and key must be integers");
    sub.color = *color;
    sub.key = *key;
    for (const SubCommunicator& s : out)
      if (s.name == sub.name)
        return InvalidArgument(what + ": `" + sub.name + "` is given twice");
    out.push_back(std::move(sub));
    if (semi == std::string_view::npos) break;
    text.remove_prefix(semi + 1);
    ++index;
  }
  return out;
}

}  // namespace dstrain::contract
