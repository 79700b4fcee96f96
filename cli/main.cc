// dstrain: the command line. One subcommand per file under cli/commands/;
// this file only declares the flags and dispatches. Bad subcommands or
// flags are CLI11 errors and exit with code 2.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "agent/agent_main.h"
#include "cli/commands/bench_comm.h"
#include "cli/commands/data.h"
#include "cli/commands/doctor.h"
#include "cli/commands/launch.h"
#include "cli/commands/logs.h"
#include "cli/commands/operate.h"
#include "cli/commands/plan.h"
#include "cli/commands/top.h"
#include "cli/commands/version.h"
#include "cli/engine/library_versions.h"
#include "cli/engine/worker.h"
#include "cli/topo/topo.h"
#include "common/rpc/listen.h"
#include "common/rpc/tls.h"
#include "coordinator/command/coordinator_main.h"

namespace {

void AddTlsFlags(CLI::App* cmd, dstrain::rpc::TlsFiles* tls, const char* what) {
  cmd->add_option("--tls-cert", tls->cert,
                  std::string("PEM certificate of this ") + what +
                      " (mutual TLS; with --tls-key and --tls-ca)");
  cmd->add_option("--tls-key", tls->key, "PEM private key of --tls-cert");
  cmd->add_option("--tls-ca", tls->ca,
                  "PEM CA certificate that signed every dstrain certificate");
}

// `--set k=v`, repeatable, one value per occurrence (so a positional after
// it is not swallowed).
void AddOverrides(CLI::App* cmd, std::vector<std::string>* into) {
  cmd->add_option("--set", *into,
                  "override a job file key: dotted.key=value (repeatable)")
      ->allow_extra_args(false)
      ->type_name("KEY=VALUE");
}

}  // namespace

int main(int argc, char** argv) {
  // gRPC's own error records would repeat, in its format, failures that
  // dstrain reports in one line (DSTRAIN_LOG_LEVEL=debug shows them).
  dstrain::rpc::QuietGrpcLog();
  CLI::App app{"dstrain: a distributed training orchestrator", "dstrain"};
  app.require_subcommand(1);
  app.set_version_flag("--version", dstrain::cli::VersionText,
                       "print versions and exit (as `dstrain version`)");

  dstrain::cli::LaunchOptions launch;
  CLI::App* launch_cmd = app.add_subcommand(
      "launch", "run a job; an embedded coordinator and agent by default");
  launch_cmd->add_option("job", launch.job_path, "the job file (YAML)")
      ->required();
  launch_cmd->add_option("--coordinator", launch.coordinator,
                         "submit to this coordinator (host:port) instead of "
                         "running one here");
  launch_cmd->add_option("--token-file", launch.token_file,
                         "file (mode 0600) holding the cluster token, with "
                         "--coordinator; default: $DSTRAIN_TOKEN");
  AddTlsFlags(launch_cmd, &launch.tls, "client (with --coordinator)");
  launch_cmd->add_option("--run-dir", launch.run_dir,
                         "where metrics.jsonl and summary.json go "
                         "(default runs/<job name>)");
  launch_cmd->add_option("--tensorboard", launch.tensorboard_dir,
                         "also write the step metrics as TensorBoard event "
                         "files into DIR (the job's `tensorboard: true` "
                         "uses <run dir>/tensorboard)");
  AddOverrides(launch_cmd, &launch.overrides);
  launch_cmd->add_flag("--quiet", launch.quiet,
                       "no worker output and no progress; summary only");
  launch_cmd->add_flag("--json", launch.json,
                       "print the summary as JSON on stdout");
  launch_cmd->add_flag("--detach", launch.detach,
                       "with --coordinator: submit, print the job id and "
                       "return (the job runs on)");
  launch_cmd->add_flag("--resume", launch.resume,
                       "resume from the newest complete checkpoint of the "
                       "job's checkpoint directory; metrics.jsonl keeps "
                       "the steps before it");

  launch_cmd->add_flag("--force", launch.force,
                       "launch even when `dstrain plan` says the job does "
                       "not fit the device");

  // dstrain plan JOB.yaml (cli/commands/plan.h)
  dstrain::cli::PlanCommandOptions plan;
  CLI::App* plan_cmd = app.add_subcommand(
      "plan",
      "whether a job fits before it runs: memory per ZeRO stage, the "
      "smallest fit, compute and communication per step");
  plan_cmd->add_option("job", plan.job_path, "the job file (YAML)");
  plan_cmd->add_option("--nodes", plan.nodes,
                       "nodes (default: the job's nodes.min)");
  plan_cmd->add_option("--procs-per-node", plan.procs_per_node,
                       "ranks per node (default: the job's procs_per_node)");
  plan_cmd->add_option("--gpu", plan.gpu,
                       "size for this GPU (H100, A100-80GB, RTX 4090, ...; "
                       "`--gpu list` lists them)");
  plan_cmd->add_option("--device-memory", plan.device_memory_gib,
                       "size for a device of this many GiB");
  plan_cmd->add_option("--cluster", plan.cluster,
                       "the fabric, for communication time: a cluster YAML, "
                       "topology.conf or generator spec (default: the "
                       "job's topology.cluster)");
  AddOverrides(plan_cmd, &plan.overrides);
  plan_cmd->add_flag("--json", plan.json, "one JSON object on stdout");
  plan_cmd->footer(
      "Exit codes: 0 the job fits as configured, 3 it does not (the report "
      "says what would), 2 bad arguments or job file.");

  // dstrain data prepare|inspect|check|read-bench (cli/commands/data.h)
  dstrain::cli::DataCommandOptions data_opts;
  CLI::App* data_cmd = app.add_subcommand(
      "data", "prepare, inspect and check training data (tokens, HDF5)");
  data_cmd->require_subcommand(1);
  CLI::App* data_prepare = data_cmd->add_subcommand(
      "prepare",
      "text to token ids (byte-level or --vocab), tokens to HDF5 and back; "
      "written atomically");
  data_prepare
      ->add_option("input", data_opts.input,
                   "text file or folder, token file, or HDF5 file")
      ->required();
  data_prepare->add_option("--out", data_opts.out, "the file to write")
      ->required();
  data_prepare->add_option("--format", data_opts.format, "tokens | hdf5")
      ->capture_default_str();
  data_prepare->add_option("--vocab", data_opts.vocab,
                           "vocabulary file for text: one token per line "
                           "(escapes \\n \\t \\xHH), greedy longest match");
  data_prepare->add_option("--dtype", data_opts.dtype,
                           "uint16 | uint32 (default: uint16 when the "
                           "vocabulary fits)");
  data_prepare
      ->add_option("--dataset", data_opts.dataset,
                   "HDF5 dataset to read or write")
      ->capture_default_str();
  data_prepare->add_option("--chunk", data_opts.chunk, "HDF5 chunk in tokens")
      ->capture_default_str();
  data_prepare->add_option("--sample-length", data_opts.sample_length,
                           "write HDF5 as [samples, L] rows of L tokens");
  CLI::App* data_inspect = data_cmd->add_subcommand(
      "inspect", "shape, dtype, vocabulary histogram, first samples decoded");
  data_inspect->add_option("file", data_opts.input, "token or HDF5 file")
      ->required();
  data_inspect->add_option("--dataset", data_opts.dataset, "HDF5 dataset")
      ->capture_default_str();
  data_inspect->add_option("--dtype", data_opts.dtype,
                           "a token file's dtype when it has no sidecar");
  data_inspect->add_option("--vocab", data_opts.vocab,
                           "decode the samples with this vocabulary file");
  data_inspect->add_option("--samples", data_opts.samples, "samples shown")
      ->capture_default_str();
  data_inspect->add_flag("--json", data_opts.json, "one JSON object");
  CLI::App* data_check = data_cmd->add_subcommand(
      "check", "every token of a job's data against model.vocab");
  data_check->add_option("job", data_opts.input, "the job file")->required();
  AddOverrides(data_check, &data_opts.overrides);
  CLI::App* data_bench = data_cmd->add_subcommand(
      "read-bench", "the data pipeline alone: samples/s and bytes/s (JSON)");
  data_bench->add_option("job", data_opts.input, "the job file")->required();
  data_bench->add_option("--steps", data_opts.steps, "micro-batches read")
      ->capture_default_str();
  AddOverrides(data_bench, &data_opts.overrides);
  for (CLI::App* c : {data_prepare, data_inspect, data_check, data_bench}) {
    c->callback([&data_opts, c] { data_opts.action = c->get_name(); });
  }
  data_cmd->footer(
      "Exit codes: 0 done, 1 the data is wrong (check) or a write failed, 2 "
      "bad arguments or an unreadable input.");

  // dstrain doctor (cli/commands/doctor.h)
  dstrain::cli::DoctorCommandOptions doctor;
  CLI::App* doctor_cmd = app.add_subcommand(
      "doctor",
      "check this node against what training needs: CPU, memory, GPUs' and "
      "NICs' PCIe links, InfiniBand ports, the data path, versions");
  doctor_cmd->add_flag("--json", doctor.json, "one JSON object on stdout");
  doctor_cmd
      ->add_option("--data-path", doctor.data_path,
                   "the training data's folder: free space and a short "
                   "read past the page cache")
      ->capture_default_str();
  doctor_cmd->add_flag("--no-read-test", doctor.no_read_test,
                       "skip the data path's read test");
  doctor_cmd
      ->add_option("--sys-root", doctor.sys_root,
                   "read proc/ and sys/ under this folder (a fake tree)")
      ->capture_default_str();
  doctor_cmd->footer(
      "Exit codes: 0 nothing failed (warnings included), 1 a check failed, "
      "2 bad arguments.");

  dstrain::WorkerCommandOptions worker;
  CLI::App* worker_cmd =
      app.add_subcommand("worker",
                         "run one rank (started by an agent, "
                         "torchrun, mpirun or srun)");
  worker_cmd->add_option("--job", worker.job_path, "the job file")->required();
  worker_cmd->add_option("--job-origin", worker.job_origin,
                         "the path the job file was submitted as, when --job "
                         "is a copy (relative paths and messages use it)");
  AddOverrides(worker_cmd, &worker.overrides);
  worker_cmd->add_option("--metrics-file", worker.metrics_file,
                         "also write this rank's metrics JSON lines to PATH "
                         "({rank} is replaced by the rank; without it "
                         ".rank<N> is appended)");

  dstrain::coordinator::CoordinatorCommandOptions coord;
  CLI::App* coord_cmd =
      app.add_subcommand("coordinator", "serve a coordinator until SIGINT");
  coord_cmd->add_option("--listen", coord.listen, "host:port (port 0: any)")
      ->capture_default_str();
  coord_cmd->add_option("--token-file", coord.token_file,
                        "file (mode 0600) holding the cluster token; "
                        "default: $DSTRAIN_TOKEN");
  AddTlsFlags(coord_cmd, &coord.tls, "coordinator");
  coord_cmd->add_option("--node-network", coord.node_network,
                        "CIDR (e.g. 10.0.0.0/8): multi-node jobs' ranks "
                        "connect over each node's address in it (default: "
                        "the address each agent announced)");
  coord_cmd->add_option("--node-token-file", coord.node_token_file,
                        "file (mode 0600) with the nodes' own token: agents "
                        "use it and may only register and report (default: "
                        "the cluster token serves nodes too)");
  coord_cmd->add_option("--state", coord.state_dir,
                        "keep jobs, nodes, events and step history in this "
                        "directory (SQLite) and take them back at start; "
                        "one coordinator per directory (default: in memory)");
  coord_cmd
      ->add_option("--restore-grace", coord.restore_grace_s,
                   "seconds the agents of a restarted coordinator's nodes "
                   "have to register again (their running workers are "
                   "re-adopted) before those nodes are lost")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  coord_cmd
      ->add_option("--heartbeat", coord.heartbeat_s,
                   "seconds between each agent's heartbeats (agents are "
                   "told at registration)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  coord_cmd
      ->add_option("--missed-heartbeats", coord.missed_heartbeats,
                   "heartbeats a node may miss before it is lost and its "
                   "jobs fail or restart")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  coord_cmd
      ->add_option("--cordon-after", coord.cordon_after,
                   "failures a node may cause within an hour before it is "
                   "cordoned (given no job for --cordon-for); 0: never")
      ->check(CLI::Range(0, 1000))
      ->capture_default_str();
  coord_cmd
      ->add_option("--cordon-for", coord.cordon_s,
                   "seconds a cordoned node takes no job (`dstrain undrain` "
                   "lifts it sooner)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  coord_cmd->add_option("--viewer-token-file", coord.viewer_token_file,
                        "file (mode 0600) with a read-only token: it may list "
                        "jobs and nodes, read a job's status and /metrics, "
                        "and nothing else (for dashboards and Prometheus)");
  coord_cmd->add_option("--http", coord.http_listen,
                        "host:port (port 0: any) to serve HTTP on: "
                        "Prometheus' /metrics and /healthz (HTTPS with the "
                        "--tls-cert pair); default: no HTTP");
  coord_cmd->add_flag("--metrics-per-rank", coord.metrics_per_rank,
                      "also export each rank's gauges on /metrics (one "
                      "series per rank and metric: mind a big job)");
  coord_cmd->add_option("--generate-token", coord.generate_token,
                        "write a new random cluster token to this new file "
                        "(mode 0600) and use it");

  dstrain::agent::AgentCommandOptions agent;
  CLI::App* agent_cmd = app.add_subcommand(
      "agent", "serve this node's agent for a coordinator until SIGINT");
  agent_cmd->add_option("--coordinator", agent.coordinator, "host:port")
      ->required();
  agent_cmd->add_option("--token-file", agent.token_file,
                        "file (mode 0600) holding the cluster token; "
                        "default: $DSTRAIN_TOKEN");
  agent_cmd->add_option("--listen", agent.listen,
                        "host:port (port 0: any); default: this machine's "
                        "address on the route to the coordinator");
  AddTlsFlags(agent_cmd, &agent.tls, "node");
  agent_cmd->add_option("--log-dir", agent.log_dir,
                        "keep the workers' output (for `dstrain logs`) in "
                        "DIR/dstrain-logs-<hostname>, emptied at start "
                        "(default: a temporary folder removed at exit)");
  agent_cmd
      ->add_option("--log-cap-mib", agent.log_cap_mib,
                   "each rank's log file rotates at this size; one older "
                   "file is kept, all jobs together at most 1 GiB")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  agent_cmd->add_option("--hostname", agent.hostname,
                        "name this node registers as (default: "
                        "$SLURMD_NODENAME under srun, else the hostname)");
  agent_cmd
      ->add_option("--preempt-grace", agent.preempt_grace_s,
                   "on SIGTERM or SIGUSR1, seconds the workers get to "
                   "checkpoint their step and exit 75 (requeue) before "
                   "SIGKILL")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();

  dstrain::cli::BenchCommOptions bench_comm;
  CLI::App* bench_cmd = app.add_subcommand("bench", "benchmarks: comm");
  bench_cmd->require_subcommand(1);
  CLI::App* bench_comm_cmd = bench_cmd->add_subcommand(
      "comm",
      "time, algbw and busbw of every collective at every size, "
      "nccl-tests style, with a correctness check");
  bench_comm_cmd
      ->add_option("--ranks", bench_comm.ranks,
                   "start N local ranks (default: run as one rank of an "
                   "already launched job, or alone)")
      ->check(CLI::Range(1, 1024));
  bench_comm_cmd
      ->add_option("--backend", bench_comm.backend,
                   "gloo | mpi | nccl | auto (mpi under mpirun, else gloo)")
      ->capture_default_str();
  bench_comm_cmd
      ->add_option("--min-bytes", bench_comm.min_bytes,
                   "smallest message (bytes; K, M, G suffixes)")
      ->capture_default_str();
  bench_comm_cmd
      ->add_option("--max-bytes", bench_comm.max_bytes,
                   "largest message; sizes grow x4 from the smallest, and "
                   "the largest is always measured")
      ->capture_default_str();
  bench_comm_cmd
      ->add_option("--ops", bench_comm.ops,
                   "comma-separated: all_reduce, all_gather, "
                   "reduce_scatter, broadcast, barrier, or all")
      ->capture_default_str();
  bench_comm_cmd
      ->add_option("--dtype", bench_comm.dtype,
                   "float32, float16, bfloat16, float64, int32, int64, uint8")
      ->capture_default_str();
  bench_comm_cmd
      ->add_option("--iters", bench_comm.iters,
                   "timed iterations per repeat (default: from "
                   "--target-time, at least 3)")
      ->check(CLI::Range(1, 100000000));
  bench_comm_cmd
      ->add_option("--repeats", bench_comm.repeats,
                   "repeats per row, at least; each row reports the median, "
                   "fastest and slowest")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  bench_comm_cmd
      ->add_option("--target-time", bench_comm.target_seconds,
                   "seconds to measure per row (over its repeats) when "
                   "--iters is not given")
      ->capture_default_str();
  bench_comm_cmd
      ->add_option("--timeout", bench_comm.timeout_seconds,
                   "seconds a collective may take before it fails")
      ->capture_default_str();
  bench_comm_cmd->add_flag("--json", bench_comm.json,
                           "print one JSON object instead of the table");

  // dstrain topo show|plan|simulate CLUSTER [...]
  dstrain::cli::TopoOptions topo;
  CLI::App* topo_cmd = app.add_subcommand(
      "topo", "the topology engine: show a fabric, plan a job, simulate");
  topo_cmd->require_subcommand(1);
  auto topo_action = [&](const char* name, const char* help, bool plan,
                         bool sweep) {
    CLI::App* c = topo_cmd->add_subcommand(name, help);
    c->add_option("cluster", topo.cluster,
                  "cluster YAML, Slurm topology.conf, or a generator spec "
                  "(fat-tree:k=16,levels=3,hosts=1024,devices=8,oversub=2 | "
                  "rail:k=16,hosts=32,rails=8 | torus:16x16x16)")
        ->required();
    c->add_option("--nodes", topo.nodes,
                  "the allocation as a Slurm host list (default: every "
                  "host)");
    c->add_option("--num-nodes", topo.num_nodes,
                  "the allocation: the first N hosts in name order");
    c->add_option("--procs-per-node", topo.procs_per_node,
                  "ranks per host (default: the hosts' device count)");
    c->add_option("--devices", topo.devices,
                  "devices per host of a Slurm topology.conf (default 1)");
    c->add_option("--placement", topo.placement,
                  "auto | fat-tree | rail | torus | hostname | random")
        ->capture_default_str();
    if (plan) {
      c->add_option("--algorithm", topo.algorithm,
                    "auto | ring | tree (double binary) | rhd (recursive "
                    "halving-doubling) | hierarchical | torus")
          ->capture_default_str();
      c->add_option("--seed", topo.seed, "seed of the random order")
          ->capture_default_str();
    }
    if (sweep) {
      c->add_option("--min-bytes", topo.min_bytes,
                    "smallest message (K, M, G suffixes)")
          ->capture_default_str();
      c->add_option("--max-bytes", topo.max_bytes,
                    "largest message; sizes grow x4")
          ->capture_default_str();
    }
    c->add_flag("--json", topo.json, "one JSON object instead of tables");
    c->add_flag("--dot", topo.dot,
                "Graphviz of the fabric with the ring drawn over it");
    c->callback([&topo, name] { topo.action = name; });
    return c;
  };
  topo_action("show", "the fabric at a glance", false, false);
  topo_action("plan",
              "rank order, sub-communicators, algorithm per size, predicted "
              "time against hostname and random order",
              true, true);
  topo_action("simulate",
              "all-reduce sweep: time, algbw, busbw, most loaded link", true,
              true);

  CLI::App* version_cmd =
      app.add_subcommand("version", "print versions and exit");

  // The operators' commands (cli/commands/operate.h): one set of
  // connection flags, each command its own arguments.
  dstrain::cli::OperateOptions operate;
  std::string op_job, op_node, op_reason;
  auto operate_cmd = [&](const char* name, const char* what) {
    CLI::App* cmd = app.add_subcommand(name, what);
    cmd->add_option("--coordinator", operate.coordinator,
                    "host:port of the coordinator (default: "
                    "$DSTRAIN_COORDINATOR)");
    cmd->add_option("--token-file", operate.token_file,
                    "file (mode 0600) holding the cluster token; default: "
                    "$DSTRAIN_TOKEN");
    AddTlsFlags(cmd, &operate.tls, "client");
    cmd->add_flag("--json", operate.json,
                  "one JSON document (stable field names: "
                  "docs/operators.md)");
    cmd->footer(
        "Exit codes: 0 done, 1 the coordinator failed or is unreachable, 2 "
        "bad usage, 3 no such job or node, 4 not allowed for this "
        "credential.");
    return cmd;
  };
  CLI::App* jobs_cmd = operate_cmd(
      "jobs", "list the coordinator's jobs, queued ones with their reason");
  CLI::App* nodes_cmd =
      operate_cmd("nodes", "list the nodes: state, heartbeat, resources, job");
  bool nodes_doctor = false;
  nodes_cmd->add_flag("--doctor", nodes_doctor,
                      "each node's `dstrain doctor` report, as its agent "
                      "ran it when it registered");
  CLI::App* status_cmd = operate_cmd(
      "status", "one job: state, placement, restarts, metrics, events");
  status_cmd->add_option("job", op_job, "the job id")->required();
  std::string op_since;
  bool op_follow = false;
  CLI::App* events_cmd = operate_cmd(
      "events", "changes of state of one job or all, with times and causes");
  events_cmd->add_option("job", op_job, "the job id (default: every job)");
  events_cmd->add_option("--since", op_since,
                         "only events after this: 90s, 10m, 2h, 1d back, or "
                         "a Unix time");
  events_cmd->add_flag("--follow", op_follow,
                       "keep printing new events until interrupted");
  std::string top_sort;
  bool top_once = false;
  CLI::App* top_cmd = operate_cmd(
      "top",
      "a live table of a job's ranks (step, time, tokens/s, loss, memory, "
      "communication and data wait), refreshed every second");
  top_cmd->add_option("job", op_job, "the job id")->required();
  top_cmd->add_option("--sort", top_sort,
                      "first order: rank, host, step, time, tokens, loss, "
                      "scale, memory, comm or data (keys: s next, r reverse, "
                      "q quit)");
  top_cmd->add_flag("--once", top_once,
                    "print one frame and exit (with --json: one document)");
  dstrain::cli::LogsOptions logs_options;
  CLI::App* logs_cmd =
      operate_cmd("logs",
                  "what a job's workers wrote, kept on their nodes (all ranks "
                  "by default)");
  logs_cmd->add_option("job", op_job, "the job id")->required();
  logs_cmd->add_option("--rank", logs_options.rank, "only this rank");
  logs_cmd->add_option("--node", logs_options.node,
                       "only the ranks on this node (id or hostname)");
  logs_cmd->add_option("--tail", logs_options.tail,
                       "only each rank's last K lines (0: all kept)");
  logs_cmd->add_flag("--follow,-f", logs_options.follow,
                     "then print new lines as they come, until the job ends");
  CLI::App* cancel_cmd = operate_cmd("cancel", "cancel a job");
  cancel_cmd->add_option("job", op_job, "the job id")->required();
  cancel_cmd->add_option("--reason", op_reason, "recorded with the job");
  double preempt_warning = 120;
  CLI::App* preempt_cmd = operate_cmd(
      "preempt",
      "stop a job with a checkpoint of its current step (exit 75: requeue; "
      "`launch --resume` goes on from there)");
  preempt_cmd->add_option("job", op_job, "the job id")->required();
  preempt_cmd
      ->add_option("--warning", preempt_warning,
                   "seconds before the workers are killed (default 120)")
      ->check(CLI::Range(1.0, 86400.0));
  preempt_cmd->add_option("--reason", op_reason, "recorded with the job");
  CLI::App* drain_cmd =
      operate_cmd("drain", "give a node no new job (the one it runs finishes)");
  drain_cmd->add_option("node", op_node, "node id or hostname")->required();
  drain_cmd->add_option("--reason", op_reason, "shown by `dstrain nodes`");
  CLI::App* undrain_cmd =
      operate_cmd("undrain", "let a drained node take jobs again");
  undrain_cmd->add_option("node", op_node, "node id or hostname")->required();

  // CLI11 reads an unknown first word as a stray positional ("A subcommand
  // is required"); name it instead.
  auto known = [&](const char* name) {
    try {
      return app.get_subcommand(name) != nullptr;
    } catch (const CLI::Error&) {
      return false;
    }
  };
  if (argc >= 2 && argv[1][0] != '-' && !known(argv[1])) {
    std::fprintf(
        stderr,
        "dstrain: unknown command `%s`; commands: launch, plan, doctor, data, "
        "jobs, "
        "status, events, top, logs, nodes, cancel, preempt, drain, undrain, "
        "worker, coordinator, agent, bench, topo, version (dstrain "
        "--help)\n",
        argv[1]);
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }

  if (*launch_cmd) return dstrain::cli::RunLaunch(launch);
  if (*plan_cmd) return dstrain::cli::RunPlanCommand(plan);
  if (*doctor_cmd) return dstrain::cli::RunDoctorCommand(doctor);
  if (*data_cmd) return dstrain::cli::RunDataCommand(data_opts);
  if (*worker_cmd) {
    return dstrain::cli::RunWorker(worker);
  }
  if (*coord_cmd) {
    coord.version = dstrain::cli::DstrainVersion();
    return dstrain::coordinator::RunCoordinatorCommand(coord);
  }
  if (*agent_cmd) {
    agent.versions = {{"libtorch", dstrain::cli::TorchVersion()},
                      {"NCCL", dstrain::cli::NcclVersion()}};
    return dstrain::agent::RunAgentCommand(agent);
  }
  if (*bench_comm_cmd) return dstrain::cli::RunBenchComm(bench_comm);
  if (*topo_cmd) return dstrain::cli::RunTopo(topo);
  if (*version_cmd) return dstrain::cli::RunVersion();
  if (*jobs_cmd) return dstrain::cli::RunJobsCommand(operate);
  if (*nodes_cmd) return dstrain::cli::RunNodesCommand(operate, nodes_doctor);
  if (*status_cmd) return dstrain::cli::RunStatusCommand(operate, op_job);
  if (*logs_cmd) {
    return dstrain::cli::RunLogsCommand(operate, op_job, logs_options);
  }
  if (*top_cmd) {
    return dstrain::cli::RunTopCommand(operate, op_job, top_sort, top_once);
  }
  if (*events_cmd) {
    return dstrain::cli::RunEventsCommand(operate, op_job, op_since, op_follow);
  }
  if (*cancel_cmd) {
    return dstrain::cli::RunCancelCommand(operate, op_job, op_reason);
  }
  if (*preempt_cmd) {
    return dstrain::cli::RunPreemptCommand(operate, op_job, preempt_warning,
                                           op_reason);
  }
  if (*drain_cmd) {
    return dstrain::cli::RunDrainCommand(operate, op_node, op_reason, false);
  }
  if (*undrain_cmd) {
    return dstrain::cli::RunDrainCommand(operate, op_node, "", true);
  }
  return 2;
}
