#include "agent/worker_env.h"

#include <unistd.h>

#include <map>
#include <set>

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

  std::vector<std::string> argv = {ctx.executable, "worker", "--job",
                                   spec.source_path()};
  for (const auto& o : spec.overrides()) {
    argv.push_back("--set");
    argv.push_back(o);
  }

  // Later layers win: agent environment, then the plan's, then the contract.
  std::map<std::string, std::string> common;
  for (const auto& kv : ctx.base_env) {
    auto eq = kv.find('=');
    if (eq == std::string::npos) continue;
    common[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : req.env()) common[k] = v;
  common["WORLD_SIZE"] = std::to_string(req.world_size());
  common["LOCAL_WORLD_SIZE"] = std::to_string(local_world);
  common["NODE_RANK"] = std::to_string(node_rank);
  common["DSTRAIN_COORDINATOR"] = req.coordinator_address();
  common["DSTRAIN_TOKEN"] = ctx.token;
  common["DSTRAIN_JOB_ID"] = req.job_id();
  common["DSTRAIN_ATTEMPT"] = std::to_string(req.attempt());
  common["DSTRAIN_RUN_DIR"] = spec.run_dir();
  // `dstrain launch --resume`: start from the newest complete checkpoint
  // (a restart, DSTRAIN_ATTEMPT > 0, resumes anyway).
  common["DSTRAIN_RESUME"] = spec.resume() ? "1" : "0";
  common["DSTRAIN_METRICS_FD"] = "3";
  common.erase("DSTRAIN_SUBCOMMS");
  common.erase("DSTRAIN_GRAD_ALLREDUCE");
  if (!req.grad_allreduce().empty())
    common["DSTRAIN_GRAD_ALLREDUCE"] = req.grad_allreduce();

  const std::vector<RankBinding> bindings =
      PlanNumaBinding(ctx.inventory, spec.numa_binding(), spec.device(),
                      local_world, ctx.allowed_cpus,
                      common.count("CUDA_VISIBLE_DEVICES") != 0
                          ? common.at("CUDA_VISIBLE_DEVICES")
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
    auto env = common;
    env.erase("DSTRAIN_NUMA_NODE");
    if (b.numa_node >= 0)
      env["DSTRAIN_NUMA_NODE"] = std::to_string(b.numa_node);
    env["RANK"] = std::to_string(a.rank());
    env["LOCAL_RANK"] = std::to_string(a.local_rank());
    std::string subs;
    for (const auto& c : req.communicators()) {
      if (!subs.empty()) subs += ';';
      subs += c.name() + ":" + std::to_string(c.color(a.rank())) + ":" +
              std::to_string(c.key(a.rank()));
    }
    if (!subs.empty()) env["DSTRAIN_SUBCOMMS"] = subs;
    for (const auto& [k, v] : env) p.env.push_back(k + "=" + v);
    launch.ranks.push_back(std::move(p));
  }
  return launch;
}

}  // namespace dstrain::agent
