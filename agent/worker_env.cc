#include "agent/worker_env.h"

#include <unistd.h>

#include <map>
#include <optional>
#include <set>

#include "agent/progress_watch.h"
#include "common/contract/grad_routes.h"
#include "common/contract/worker_env.h"

namespace dstrain::agent {

std::vector<std::string> CurrentEnvironment() {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e)
    env.emplace_back(*e);
  return env;
}

StatusOr<std::string> CurrentExecutable() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return Internal("cannot resolve /proc/self/exe");
  return std::string(buf, n);
}

StatusOr<JobLaunch> BuildJobLaunch(const proto::StartWorkersRequest& req,
                                   const WorkerEnvContext& ctx) {
  const proto::JobSpec& spec = req.spec();
  if (req.job_id().empty())
    return InvalidArgument("StartWorkers: empty job_id");
  if (req.ranks().empty()) return InvalidArgument("StartWorkers: no ranks");
  if (req.world_size() < req.ranks_size()) {
    return InvalidArgument("StartWorkers: world_size " +
                           std::to_string(req.world_size()) + " < " +
                           std::to_string(req.ranks_size()) + " local ranks");
  }
  if (spec.source_path().empty()) {
    return InvalidArgument("StartWorkers: spec.source_path is empty");
  }
  for (const auto& c : req.communicators()) {
    if (c.name().empty() || c.name().find_first_of(":;") != std::string::npos)
      return InvalidArgument("StartWorkers: bad sub-communicator name `" +
                             c.name() + "`");
    if (c.color_size() != req.world_size() ||
        c.key_size() != req.world_size()) {
      return InvalidArgument("StartWorkers: sub-communicator `" + c.name() +
                             "` has " + std::to_string(c.color_size()) +
                             " colours and " + std::to_string(c.key_size()) +
                             " keys for world_size " +
                             std::to_string(req.world_size()));
    }
  }
  const int local_world = req.ranks_size();
  const int node_rank = req.ranks(0).node_rank();
  std::set<int> seen_rank, seen_local;
  for (const auto& a : req.ranks()) {
    std::string where = "StartWorkers: rank " + std::to_string(a.rank());
    if (a.rank() < 0 || a.rank() >= req.world_size()) {
      return InvalidArgument(where + " is outside world_size " +
                             std::to_string(req.world_size()));
    }
    if (a.local_rank() < 0 || a.local_rank() >= local_world) {
      return InvalidArgument(where + " has local_rank " +
                             std::to_string(a.local_rank()) + " outside [0, " +
                             std::to_string(local_world) + ")");
    }
    if (a.node_rank() != node_rank) {
      return InvalidArgument(where + " has node_rank " +
                             std::to_string(a.node_rank()) + ", others " +
                             std::to_string(node_rank));
    }
    if (!seen_rank.insert(a.rank()).second ||
        !seen_local.insert(a.local_rank()).second) {
      return InvalidArgument(where + " is assigned twice");
    }
  }

  std::vector<std::string> argv = {ctx.executable, "worker", "--job"};
  if (ctx.job_file.empty()) {
    argv.push_back(spec.source_path());
  } else {
    argv.insert(argv.end(), {ctx.job_file, "--job-origin", spec.source_path()});
  }
  for (const auto& o : spec.overrides()) {
    argv.push_back("--set");
    argv.push_back(o);
  }

  // The environment: the agent's own, then the plan's (the request's env
  // map), then the worker contract, which only the contract's encoder
  // writes. What the contract passes through rather than owns (MASTER_*,
  // DSTRAIN_COMM_HOST, GLOO_SOCKET_IFNAME, the job's name) is read from
  // the first two.
  std::map<std::string, std::string> inherited;
  for (const auto& kv : ctx.base_env) {
    auto eq = kv.find('=');
    if (eq == std::string::npos) continue;
    inherited[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : req.env()) inherited[k] = v;
  // The contract's variables that this request decides, so stale values in
  // the agent's environment never reach the workers.
  static const std::set<std::string> kDecidedHere = {
      contract::kRank,
      contract::kWorldSize,
      contract::kLocalRank,
      contract::kLocalWorldSize,
      contract::kNodeRank,
      contract::kDstrainNodeRank,
      contract::kNumNodes,
      contract::kCoordinator,
      contract::kToken,
      contract::kJobId,
      contract::kAttempt,
      contract::kRunDir,
      contract::kResume,
      contract::kMetricsFd,
      contract::kProgressFile,
      contract::kNumaNode,
      contract::kSubCommunicators,
      contract::kGradAllReduce};
  StatusOr<contract::WorkerEnv> passed = contract::DecodeWorkerEnv(
      [&](const char* name) -> std::optional<std::string> {
        if (kDecidedHere.count(name) != 0) return std::nullopt;
        auto it = inherited.find(name);
        if (it == inherited.end()) return std::nullopt;
        return it->second;
      });
  if (!passed.ok()) {
    return InvalidArgument("StartWorkers: the environment passed to workers: " +
                           passed.status().message());
  }
  for (const std::string& name : contract::WorkerEnvVariables())
    inherited.erase(name);

  contract::WorkerEnv job_env = *passed;
  job_env.world_size = req.world_size();
  job_env.local_world_size = local_world;
  job_env.node_rank = node_rank;
  job_env.num_nodes = req.num_nodes() > 0 ? req.num_nodes() : 1;
  job_env.coordinator = ctx.rendezvous_address.empty()
                            ? req.coordinator_address()
                            : ctx.rendezvous_address;
  // Workers get their attempt's job credential, not the node's.
  job_env.token = req.job_token().empty() ? ctx.token : req.job_token();
  job_env.job_id = req.job_id();
  if (job_env.job_name.empty()) job_env.job_name = spec.name();
  job_env.attempt = req.attempt();
  job_env.run_dir = spec.run_dir();
  // `dstrain launch --resume`: start from the newest complete checkpoint
  // (a restart, attempt > 0, resumes anyway).
  job_env.resume = spec.resume();
  job_env.metrics_fd = kMetricsFd;
  job_env.tls_cert = ctx.tls_cert;
  job_env.tls_key = ctx.tls_key;
  job_env.tls_ca = ctx.tls_ca;
  // The name the node registered as: several nodes may share a hostname.
  if (!ctx.inventory.hostname().empty()) {
    job_env.node_name = ctx.inventory.hostname();
  }
  for (const proto::GradRoute& r : req.grad_routes())
    job_env.grad_routes.push_back({r.min_bytes(), r.via()});
  if (!job_env.grad_routes.empty()) {
    // Through the codec once, so a malformed table stops here, naming the
    // request, instead of in every worker.
    StatusOr<std::vector<GradRoute>> checked =
        ParseGradRoutes(FormatGradRoutes(job_env.grad_routes));
    if (!checked.ok()) {
      return InvalidArgument("StartWorkers: grad_routes: " +
                             checked.status().message());
    }
  }

  const std::vector<RankBinding> bindings =
      PlanNumaBinding(ctx.inventory, spec.numa_binding(), spec.device(),
                      local_world, ctx.allowed_cpus,
                      inherited.count("CUDA_VISIBLE_DEVICES") != 0
                          ? inherited.at("CUDA_VISIBLE_DEVICES")
                          : "");

  JobLaunch launch;
  launch.job_id = req.job_id();
  launch.attempt = req.attempt();
  for (const auto& a : req.ranks()) {
    RankProcess p;
    p.rank = a.rank();
    p.local_rank = a.local_rank();
    p.argv = argv;
    const RankBinding& b = bindings[a.local_rank()];
    p.numa_node = b.numa_node;
    p.cpus = b.cpus;
    contract::WorkerEnv rank_env = job_env;
    rank_env.rank = a.rank();
    rank_env.local_rank = a.local_rank();
    rank_env.numa_node = b.numa_node;
    if (!ctx.progress_dir.empty()) {
      rank_env.progress_file = ProgressFileOf(ctx.progress_dir, a.rank());
    }
    for (const auto& c : req.communicators())
      rank_env.sub_communicators.push_back(
          {c.name(), c.color(a.rank()), c.key(a.rank())});
    std::map<std::string, std::string> env = inherited;
    for (auto& [k, v] : contract::EncodeWorkerEnv(rank_env)) env[k] = v;
    for (const auto& [k, v] : env) p.env.push_back(k + "=" + v);
    launch.ranks.push_back(std::move(p));
  }
  return launch;
}

}  // namespace dstrain::agent
