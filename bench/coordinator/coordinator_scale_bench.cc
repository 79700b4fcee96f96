// The coordinator at cluster scale: N simulated agents register and
// heartbeat every 2 s over real gRPC while N x ranks_per_node ranks run one
// rendezvous through the coordinator's key-value store; then the same
// rendezvous through PyTorch's TCPStore (bench/coordinator/
// tcpstore_rendezvous.py), for the ratio (docs/performance.md,
// "Coordinator at scale").
//
//   coordinator_scale_bench [--agents 2048] [--ranks-per-node 8]
//       [--clients 64] [--heartbeat-threads 16] [--hold-s 6]
//       [--parked-waits 1] [--fence-only 0]
//       [--python PY --peer-script tcpstore_rendezvous.py]
//
// The coordinator runs in a forked child process (in-memory state), so its
// CPU time (/proc/PID/stat) and peak RSS (VmHWM) are its own, not the
// simulated clients'. The fork happens before this process touches gRPC.
//
// Rendezvous pattern, the same for both stores, per rank r of W:
//   phase 1: set addr/<r> (a 64-byte address record); add("arrived", 1);
//            the rank whose add returns W sets "ready"
//   phase 2: wait(["ready"]); get addr/<r+1 mod W>; get addr/<r-1 mod W>
// i.e. a store barrier plus a ring-neighbour address exchange, as NCCL's
// bootstrap ring does. Gloo's full mesh (every rank reads every other
// rank's address) is W^2 = 268M reads at 16,384 ranks, which no store
// serves in a benchmark's time on two cores, so it is not used.
//
// Client concurrency: `clients` threads, each with its own channel (and
// KvStore / CoordinatorClient), simulate the ranks r = t, t + clients, ...
// one after another; every thread runs phase 1 for all its ranks before
// phase 2, so blocking waits cannot deadlock. At most `clients` KvWait calls
// are parked in the coordinator at a time (a real job parks one per rank).
// Heartbeats come from their own threads, spread evenly over the period.
// --parked-waits 1 then runs the first phase again with every rank's wait
// parked in the coordinator, as a real job does (ParkedRendezvous). Then
// the same pattern through each simulated agent's rendezvous relay
// (RelayedRendezvous), and the same result as one fence through the relays
// (FenceRendezvous: every rank's address in, both neighbours' out, the
// fence being the barrier), which is how dstrain's NCCL bootstrap joins.
// --fence-only 1 runs only the fence (for profiling it).

#include <grpcpp/client_context.h>
#include <grpcpp/completion_queue.h>
#include <grpcpp/create_channel.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "agent/rendezvous_relay.h"
#include "common/rpc/auth.h"
#include "common/rpc/channel.h"
#include "common/status.h"
#include "coordinator/client/coordinator_client.h"
#include "coordinator/client/coordinator_kv_store.h"
#include "coordinator/coordinator_server.h"
#include "dstrain.grpc.pb.h"

namespace {

using dstrain::Status;
using dstrain::StatusOr;
using dstrain::coordinator::CoordinatorClient;
using dstrain::coordinator::CoordinatorKvStore;
using Clock = std::chrono::steady_clock;

constexpr char kToken[] = "scale-bench-operator-token";

struct Options {
  int agents = 2048;
  int ranks_per_node = 8;
  int clients = 64;
  int heartbeat_threads = 16;
  bool fence_only = false;  // only the fence rendezvous (for profiling)
  double hold_s = 6;        // heartbeats keep going at least this long
  bool parked_waits = true;
  std::string python;
  std::string peer_script;
};

// CPU seconds of this process: the simulated agents and ranks.
double ClientCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec +
         (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double Seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// The coordinator process: CPU seconds (utime + stime) and peak RSS.
struct ProcessUsage {
  double cpu_s = 0;
  std::int64_t peak_rss_kib = 0;
};

ProcessUsage ReadUsage(pid_t pid) {
  ProcessUsage u;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  // Fields after the parenthesised command name, which may hold spaces;
  // utime and stime are fields 14 and 15 (the 12th and 13th after it).
  std::istringstream rest(line.substr(line.rfind(')') + 2));
  std::string field;
  std::uint64_t utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  u.cpu_s = static_cast<double>(utime + stime) / sysconf(_SC_CLK_TCK);
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) {
      u.peak_rss_kib = std::stoll(line.substr(6));
    }
  }
  return u;
}

// Forks the coordinator. It writes its address to `addr_fd` and serves
// until `stop_fd` reaches EOF (the parent closing its end).
struct Child {
  pid_t pid = -1;
  int stop_write = -1;
  std::string address;
};

StatusOr<Child> ForkCoordinator() {
  int addr_pipe[2], stop_pipe[2];
  if (pipe(addr_pipe) != 0 || pipe(stop_pipe) != 0) {
    return dstrain::Internal("pipe failed");
  }
  pid_t pid = fork();
  if (pid < 0) return dstrain::Internal("fork failed");
  if (pid == 0) {
    close(addr_pipe[0]);
    close(stop_pipe[1]);
    dstrain::coordinator::CoordinatorOptions options;
    options.token = kToken;
    auto server = dstrain::coordinator::CoordinatorServer::Start(options);
    std::string line =
        server.ok() ? (*server)->address() + "\n" : std::string("\n");
    if (!server.ok()) {
      std::fprintf(stderr, "coordinator: %s\n",
                   server.status().ToString().c_str());
    }
    (void)!write(addr_pipe[1], line.data(), line.size());
    close(addr_pipe[1]);
    char c;
    while (read(stop_pipe[0], &c, 1) > 0) {
    }
    if (server.ok()) (*server)->Shutdown();
    _exit(server.ok() ? 0 : 1);
  }
  close(addr_pipe[1]);
  close(stop_pipe[0]);
  Child child;
  child.pid = pid;
  child.stop_write = stop_pipe[1];
  char buf[256];
  std::string got;
  ssize_t n;
  while (got.find('\n') == std::string::npos &&
         (n = read(addr_pipe[0], buf, sizeof buf)) > 0) {
    got.append(buf, n);
  }
  close(addr_pipe[0]);
  child.address = got.substr(0, got.find('\n'));
  if (child.address.empty()) {
    return dstrain::Internal("the coordinator did not start");
  }
  return child;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t i = std::min(
      v.size() - 1, static_cast<std::size_t>(p / 100.0 * (v.size() - 1) + 0.5));
  return v[i];
}

// A 64-byte record standing in for a rank's Gloo/NCCL address.
std::string AddressOf(int rank) {
  char buf[65];
  std::snprintf(buf, sizeof buf, "10.%03d.%03d.%03d:%05d/%043d",
                (rank >> 16) & 255, (rank >> 8) & 255, rank & 255,
                20000 + rank % 40000, rank);
  return std::string(buf);
}

// Phase 1 of the rendezvous for one rank (see the file comment).
Status Arrive(CoordinatorKvStore& kv, int rank, int world) {
  DSTRAIN_RETURN_IF_ERROR(
      kv.Set("addr/" + std::to_string(rank), AddressOf(rank)));
  DSTRAIN_ASSIGN_OR_RETURN(std::int64_t arrived, kv.Add("arrived", 1));
  if (arrived == world) DSTRAIN_RETURN_IF_ERROR(kv.Set("ready", "1"));
  return Status::Ok();
}

// Phase 2: the barrier, then the ring neighbours' addresses.
Status Exchange(CoordinatorKvStore& kv, int rank, int world) {
  const std::chrono::milliseconds timeout = std::chrono::minutes(10);
  DSTRAIN_RETURN_IF_ERROR(kv.Wait({"ready"}, timeout));
  for (int peer : {(rank + 1) % world, (rank + world - 1) % world}) {
    DSTRAIN_ASSIGN_OR_RETURN(std::string v,
                             kv.Get("addr/" + std::to_string(peer), timeout));
    if (v != AddressOf(peer)) {
      return dstrain::Internal("rank " + std::to_string(rank) +
                               " read a wrong address for " +
                               std::to_string(peer));
    }
  }
  return Status::Ok();
}

// Runs `body(t)` on `n` threads; the first error wins.
template <typename F>
Status RunThreads(int n, F body) {
  std::mutex mu;
  Status first;
  std::vector<std::thread> threads;
  for (int t = 0; t < n; ++t) {
    threads.emplace_back([&, t] {
      Status s = body(t);
      std::lock_guard<std::mutex> lock(mu);
      if (!s.ok() && first.ok()) first = s;
    });
  }
  for (auto& th : threads) th.join();
  return first;
}

// The peer: the script's "key value" lines, captured.
StatusOr<std::string> RunPeer(const Options& o) {
  std::string cmd = o.python + " " + o.peer_script + " --world " +
                    std::to_string(o.agents * o.ranks_per_node) +
                    " --clients " + std::to_string(o.clients);
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return dstrain::Internal("cannot run: " + cmd);
  std::string out;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  if (pclose(p) != 0)
    return dstrain::Internal("peer failed: " + cmd + "\n" + out);
  return out;
}

double ValueOf(const std::string& lines, const std::string& key) {
  std::istringstream in(lines);
  std::string k;
  double v;
  while (in >> k >> v) {
    if (k == key) return v;
  }
  return 0;
}

// A second rendezvous (attempt 1) as a real job runs it: every rank's wait
// for "ready" is parked in the coordinator before the writes begin. The
// W KvWait calls go out asynchronously on one channel (a blocking client
// would need a thread per rank); the `clients` threads then run phase 1.
// Returns the seconds from the first KvWait sent to the last one answered.
StatusOr<double> ParkedRendezvous(const Options& o, const std::string& address,
                                  const std::string& job_id) {
  const int world = o.agents * o.ranks_per_node;
  const std::string prefix = CoordinatorKvStore::KeyPrefix(1);
  auto stub =
      dstrain::proto::Coordinator::NewStub(dstrain::rpc::MakeChannel(address));
  grpc::CompletionQueue cq;
  struct Call {
    grpc::ClientContext context;
    dstrain::proto::KvWaitResponse response;
    grpc::Status status;
    std::unique_ptr<
        grpc::ClientAsyncResponseReader<dstrain::proto::KvWaitResponse>>
        reader;
  };
  std::vector<std::unique_ptr<Call>> calls(world);
  dstrain::proto::KvWaitRequest request;
  request.set_job_id(job_id);
  request.add_keys(prefix + "ready");
  const Clock::time_point start = Clock::now();
  for (int r = 0; r < world; ++r) {
    calls[r] = std::make_unique<Call>();
    Call& c = *calls[r];
    dstrain::rpc::AddToken(&c.context, kToken);
    c.context.set_deadline(std::chrono::system_clock::now() +
                           std::chrono::minutes(10));
    c.reader = stub->PrepareAsyncKvWait(&c.context, request, &cq);
    c.reader->StartCall();
    c.reader->Finish(&c.response, &c.status, &c);
  }
  std::vector<std::unique_ptr<CoordinatorKvStore>> stores;
  for (int t = 0; t < o.clients; ++t) {
    stores.push_back(std::make_unique<CoordinatorKvStore>(address, kToken,
                                                          job_id,
                                                          /*attempt=*/1));
  }
  DSTRAIN_RETURN_IF_ERROR(RunThreads(o.clients, [&](int t) -> Status {
    for (int r = t; r < world; r += o.clients) {
      DSTRAIN_RETURN_IF_ERROR(Arrive(*stores[t], r, world));
    }
    return Status::Ok();
  }));
  Status first;
  for (int done = 0; done < world; ++done) {
    void* tag = nullptr;
    bool ok = false;
    if (!cq.Next(&tag, &ok)) return dstrain::Internal("completion queue shut");
    const Call& c = *static_cast<Call*>(tag);
    if (first.ok() && !c.status.ok()) {
      first = dstrain::Internal("parked KvWait: " + c.status.error_message());
    }
  }
  const double seconds = Seconds(Clock::now() - start);
  cq.Shutdown();
  DSTRAIN_RETURN_IF_ERROR(first);
  return seconds;
}

// One relay per simulated agent, each with its own channel: a node's agent
// has its own connection, made when the agent started (a real relay shares
// the agent's, which has carried its registration and heartbeats), so it
// is connected, and has carried a call (gRPC sets up a connection's first
// stream lazily), before the clock starts.
StatusOr<std::vector<std::unique_ptr<dstrain::agent::RendezvousRelay>>>
ConnectRelays(const Options& o, const std::string& address,
              const std::string& job_id) {
  std::vector<std::unique_ptr<dstrain::agent::RendezvousRelay>> relays;
  for (int a = 0; a < o.agents; ++a) {
    grpc::ChannelArguments args = dstrain::rpc::DefaultChannelArguments();
    args.SetInt("dstrain.agent", a);
    std::shared_ptr<grpc::Channel> channel = grpc::CreateCustomChannel(
        address, grpc::InsecureChannelCredentials(), args);
    if (!channel->WaitForConnected(std::chrono::system_clock::now() +
                                   std::chrono::seconds(30))) {
      return dstrain::Internal("agent " + std::to_string(a) +
                               "'s relay could not connect");
    }
    grpc::ClientContext context;
    dstrain::rpc::AddToken(&context, kToken);
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(30));
    dstrain::proto::KvCheckRequest check;
    check.set_job_id(job_id);
    dstrain::proto::KvCheckResponse answer;
    grpc::Status warm = dstrain::proto::Coordinator::NewStub(channel)->KvCheck(
        &context, check, &answer);
    if (!warm.ok()) {
      return dstrain::Internal("agent " + std::to_string(a) +
                               "'s first call failed: " + warm.error_message());
    }
    relays.push_back(
        std::make_unique<dstrain::agent::RendezvousRelay>(std::move(channel)));
  }
  return relays;
}

// The rendezvous as dstrain's agents run it (agent/rendezvous_relay.h):
// each simulated agent has its own relay, with its own connection to the
// coordinator, and its ranks_per_node ranks call it in-process, as their
// workers call their agent on the node. The ranks' five steps chain on the
// relay's callbacks, so no thread is held per rank; what reaches the
// coordinator is one KvBatch per agent per window and one shared KvWait
// per agent. Attempt 2's keys ("a2/"), so the runs before do not interfere.
// Returns the seconds from the first operation to the last rank done.
struct RelayRunResult {
  double seconds = 0;
  double coordinator_cpu_s = 0;                      // during those seconds
  dstrain::agent::RendezvousRelay::Counters totals;  // every relay's, summed
};

// Counts the ranks that finished (from the relays' callbacks) and keeps
// the first error; Wait returns once `world` have.
class RanksDone {
 public:
  void Finish(const Status& s) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!s.ok() && first_.ok()) first_ = s;
    ++done_;
    cv_.notify_all();
  }
  Status Wait(int world) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return done_ == world; });
    return first_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int done_ = 0;
  Status first_;
};

// Once every rank finished: the time since `start`, the coordinator's CPU
// since `before`, the relays' counters summed; then the relays stop.
StatusOr<RelayRunResult> EndRelayRun(
    RanksDone& ranks, int world, Clock::time_point start,
    const ProcessUsage& before, pid_t coordinator,
    std::vector<std::unique_ptr<dstrain::agent::RendezvousRelay>>& relays) {
  const Status first = ranks.Wait(world);
  RelayRunResult result;
  result.seconds = Seconds(Clock::now() - start);
  result.coordinator_cpu_s = ReadUsage(coordinator).cpu_s - before.cpu_s;
  for (auto& relay : relays) {
    const dstrain::agent::RendezvousRelay::Counters c = relay->counters();
    result.totals.ops += c.ops;
    result.totals.batches += c.batches;
    result.totals.waits += c.waits;
    result.totals.upstream_waits += c.upstream_waits;
    result.totals.fence_joins += c.fence_joins;
    result.totals.upstream_fences += c.upstream_fences;
  }
  for (auto& relay : relays) relay->Shutdown();
  DSTRAIN_RETURN_IF_ERROR(first);
  return result;
}

StatusOr<RelayRunResult> RelayedRendezvous(const Options& o,
                                           const std::string& address,
                                           const std::string& job_id,
                                           pid_t coordinator) {
  using dstrain::agent::RendezvousRelay;
  const int world = o.agents * o.ranks_per_node;
  const std::string prefix = CoordinatorKvStore::KeyPrefix(2);
  DSTRAIN_ASSIGN_OR_RETURN(std::vector<std::unique_ptr<RendezvousRelay>> relays,
                           ConnectRelays(o, address, job_id));
  RanksDone ranks;
  const auto finish = [&ranks](const Status& s) { ranks.Finish(s); };
  const auto op = [](dstrain::proto::KvOp::Kind kind, const std::string& key) {
    dstrain::proto::KvOp o;
    o.set_kind(kind);
    o.set_key(key);
    return o;
  };
  const auto failed = [](const grpc::Status& s,
                         const dstrain::proto::KvOpResult& r,
                         const char* what) -> Status {
    if (!s.ok())
      return dstrain::Internal(std::string(what) + ": " + s.error_message());
    if (r.code() != 0)
      return dstrain::Internal(std::string(what) + ": " + r.message());
    return Status::Ok();
  };
  const auto deadline =
      std::chrono::system_clock::now() + std::chrono::minutes(10);
  const ProcessUsage before = ReadUsage(coordinator);
  const Clock::time_point start = Clock::now();
  for (int r = 0; r < world; ++r) {
    RendezvousRelay* relay = relays[r / o.ranks_per_node].get();
    // Phase 2: the barrier, then both ring neighbours' addresses.
    auto exchange = [=, &finish, &op, &failed, &prefix, &job_id] {
      relay->Wait(
          job_id, kToken, {prefix + "ready"}, deadline,
          [=, &finish, &op, &failed, &prefix, &job_id](const grpc::Status& s,
                                                       const std::string&) {
            if (!s.ok()) {
              finish(dstrain::Internal("wait: " + s.error_message()));
              return;
            }
            auto left = std::make_shared<std::atomic<int>>(2);
            for (int peer : {(r + 1) % world, (r + world - 1) % world}) {
              auto get = op(dstrain::proto::KvOp::GET,
                            prefix + "addr/" + std::to_string(peer));
              relay->Submit(
                  job_id, kToken, get,
                  [=, &finish, &failed](const grpc::Status& gs,
                                        const dstrain::proto::KvOpResult& gr,
                                        const std::string&) {
                    Status e = failed(gs, gr, "get");
                    if (e.ok() && gr.value() != AddressOf(peer)) {
                      e = dstrain::Internal("a wrong address");
                    }
                    if (!e.ok()) {
                      if (left->exchange(-100) > 0) finish(e);
                      return;
                    }
                    if (left->fetch_sub(1) == 1) finish(e);
                  });
            }
          });
    };
    // Phase 1: the address, the count, "ready" from the last to arrive.
    auto set =
        op(dstrain::proto::KvOp::SET, prefix + "addr/" + std::to_string(r));
    set.set_value(AddressOf(r));
    relay->Submit(
        job_id, kToken, set,
        [=, &finish, &op, &failed, &prefix, &job_id](
            const grpc::Status& s, const dstrain::proto::KvOpResult& res,
            const std::string&) {
          Status e = failed(s, res, "set");
          if (!e.ok()) return finish(e);
          auto add = op(dstrain::proto::KvOp::ADD, prefix + "arrived");
          add.set_delta(1);
          relay->Submit(
              job_id, kToken, add,
              [=, &finish, &op, &failed, &prefix, &job_id](
                  const grpc::Status& as, const dstrain::proto::KvOpResult& ar,
                  const std::string&) {
                Status ae = failed(as, ar, "add");
                if (!ae.ok()) return finish(ae);
                if (ar.number() != world) return exchange();
                auto ready = op(dstrain::proto::KvOp::SET, prefix + "ready");
                ready.set_value("1");
                relay->Submit(
                    job_id, kToken, ready,
                    [=, &finish, &failed](const grpc::Status& rs,
                                          const dstrain::proto::KvOpResult& rr,
                                          const std::string&) {
                      Status re = failed(rs, rr, "set ready");
                      if (!re.ok()) return finish(re);
                      exchange();
                    });
              });
        });
  }
  return EndRelayRun(ranks, world, start, before, coordinator, relays);
}

// The same rendezvous as one fence (common/rendezvous/fence.h), as
// dstrain's NCCL bootstrap joins it: each rank contributes its address and
// wants both ring neighbours'; the fence is the barrier. Each simulated
// agent's ranks call its relay in-process, which joins them in one KvFence
// per window; the coordinator answers every agent once all have joined.
// Attempt 3's keys. Returns the seconds from the first join to the last
// rank answered.
StatusOr<RelayRunResult> FenceRendezvous(const Options& o,
                                         const std::string& address,
                                         const std::string& job_id,
                                         pid_t coordinator) {
  using dstrain::agent::RendezvousRelay;
  const int world = o.agents * o.ranks_per_node;
  DSTRAIN_ASSIGN_OR_RETURN(std::vector<std::unique_ptr<RendezvousRelay>> relays,
                           ConnectRelays(o, address, job_id));
  RanksDone ranks;
  const auto deadline =
      std::chrono::system_clock::now() + std::chrono::minutes(10);
  const std::string name = CoordinatorKvStore::KeyPrefix(3) + "boot";
  const ProcessUsage before = ReadUsage(coordinator);
  const Clock::time_point start = Clock::now();
  for (int r = 0; r < world; ++r) {
    const int right = (r + 1) % world, left = (r + world - 1) % world;
    dstrain::proto::KvFenceRequest join;
    join.set_job_id(job_id);
    join.set_name(name);
    join.set_world(world);
    dstrain::proto::KvFenceRecord* mine = join.add_contributions();
    mine->set_rank(r);
    mine->set_record(AddressOf(r));
    join.add_want(right);
    join.add_want(left);
    relays[r / o.ranks_per_node]->Fence(
        kToken, std::move(join), deadline,
        [&, right, left](const grpc::Status& s,
                         const dstrain::proto::KvFenceResponse& got,
                         const std::string&) {
          Status e;
          if (!s.ok()) {
            e = dstrain::Internal("fence: " + s.error_message());
          } else {
            for (const auto& rec : got.records()) {
              if ((rec.rank() != right && rec.rank() != left) ||
                  rec.record() != AddressOf(rec.rank())) {
                e = dstrain::Internal("a wrong address");
              }
            }
            if (e.ok() && got.records_size() != (right == left ? 1 : 2)) {
              e = dstrain::Internal("a neighbour's address is missing");
            }
          }
          ranks.Finish(e);
        });
  }
  return EndRelayRun(ranks, world, start, before, coordinator, relays);
}

Status Run(const Options& o) {
  const int world = o.agents * o.ranks_per_node;
  DSTRAIN_ASSIGN_OR_RETURN(Child child, ForkCoordinator());
  const ProcessUsage idle = ReadUsage(child.pid);

  std::vector<std::unique_ptr<CoordinatorClient>> clients;
  for (int t = 0; t < o.clients; ++t) {
    clients.push_back(
        std::make_unique<CoordinatorClient>(child.address, kToken));
  }

  // Registration.
  std::vector<std::string> node_ids(o.agents);
  const Clock::time_point reg_start = Clock::now();
  DSTRAIN_RETURN_IF_ERROR(RunThreads(o.clients, [&](int t) -> Status {
    for (int i = t; i < o.agents; i += o.clients) {
      dstrain::proto::NodeInventory inv;
      inv.set_hostname("sim-" + std::to_string(i));
      // Never called: the benchmark's job stays pending (below).
      DSTRAIN_ASSIGN_OR_RETURN(
          dstrain::proto::RegisterNodeResponse r,
          clients[t]->RegisterNode(inv,
                                   "127.0.0.1:" + std::to_string(10000 + i)));
      node_ids[i] = r.node_id();
    }
    return Status::Ok();
  }));
  const double register_s = Seconds(Clock::now() - reg_start);
  const ProcessUsage after_register = ReadUsage(child.pid);

  // Heartbeats: agent i beats at start + 2 s * (i / agents + k).
  std::atomic<bool> stop{false};
  std::mutex lat_mu;
  std::vector<double> latencies_ms;
  std::atomic<int> heartbeat_errors{0};
  const Clock::time_point hb_start = Clock::now();
  const auto period = std::chrono::milliseconds(2000);
  std::vector<std::thread> beaters;
  for (int t = 0; t < o.heartbeat_threads; ++t) {
    beaters.emplace_back([&, t] {
      std::vector<double> mine;
      CoordinatorClient& c = *clients[t % o.clients];
      for (int k = 0; !stop.load(); ++k) {
        for (int i = t; i < o.agents && !stop.load();
             i += o.heartbeat_threads) {
          std::this_thread::sleep_until(hb_start + k * period +
                                        period * i / o.agents);
          const Clock::time_point s = Clock::now();
          auto known = c.Heartbeat(node_ids[i], {});
          if (!known.ok() || !*known) {
            ++heartbeat_errors;
            continue;
          }
          mine.push_back(
              std::chrono::duration<double, std::milli>(Clock::now() - s)
                  .count());
        }
      }
      std::lock_guard<std::mutex> lock(lat_mu);
      latencies_ms.insert(latencies_ms.end(), mine.begin(), mine.end());
    });
  }

  // A job that waits for one more node than exist: it stays pending, with
  // its rendezvous namespace open, and no agent is ever called.
  dstrain::proto::JobSpec spec;
  spec.set_name("scale-bench");
  spec.set_procs_per_node(o.ranks_per_node);
  spec.set_nodes_min(o.agents + 1);
  spec.set_nodes_max(o.agents + 1);
  DSTRAIN_ASSIGN_OR_RETURN(std::string job_id, clients[0]->LaunchJob(spec));

  std::vector<std::unique_ptr<CoordinatorKvStore>> stores;
  for (int t = 0; t < o.clients; ++t) {
    stores.push_back(std::make_unique<CoordinatorKvStore>(
        child.address, kToken, job_id, /*attempt=*/0));
  }
  const ProcessUsage before_rdzv = ReadUsage(child.pid);
  const double client_cpu_before = ClientCpuSeconds();
  const Clock::time_point rdzv_start = Clock::now();
  Status rdzv =
      o.fence_only ? Status::Ok() : RunThreads(o.clients, [&](int t) -> Status {
        for (int r = t; r < world; r += o.clients) {
          DSTRAIN_RETURN_IF_ERROR(Arrive(*stores[t], r, world));
        }
        for (int r = t; r < world; r += o.clients) {
          DSTRAIN_RETURN_IF_ERROR(Exchange(*stores[t], r, world));
        }
        return Status::Ok();
      });
  const double rdzv_s = Seconds(Clock::now() - rdzv_start);
  const ProcessUsage after_rdzv = ReadUsage(child.pid);
  const double client_cpu_s = ClientCpuSeconds() - client_cpu_before;

  double parked_s = 0;
  ProcessUsage after_parked = after_rdzv;
  if (rdzv.ok() && o.parked_waits && !o.fence_only) {
    StatusOr<double> parked = ParkedRendezvous(o, child.address, job_id);
    if (parked.ok()) {
      parked_s = *parked;
    } else {
      rdzv = parked.status();
    }
    after_parked = ReadUsage(child.pid);
  }

  RelayRunResult relayed;
  if (rdzv.ok() && !o.fence_only) {
    StatusOr<RelayRunResult> r =
        RelayedRendezvous(o, child.address, job_id, child.pid);
    if (r.ok()) {
      relayed = *r;
    } else {
      rdzv = r.status();
    }
  }

  RelayRunResult fenced;
  if (rdzv.ok()) {
    StatusOr<RelayRunResult> r =
        FenceRendezvous(o, child.address, job_id, child.pid);
    if (r.ok()) {
      fenced = *r;
    } else {
      rdzv = r.status();
    }
  }

  std::this_thread::sleep_until(
      hb_start + std::chrono::milliseconds(static_cast<int>(o.hold_s * 1000)));
  stop = true;
  for (auto& th : beaters) th.join();
  const ProcessUsage end = ReadUsage(child.pid);
  const double hb_s = Seconds(Clock::now() - hb_start);

  close(child.stop_write);
  int wstatus = 0;
  waitpid(child.pid, &wstatus, 0);
  DSTRAIN_RETURN_IF_ERROR(rdzv);

  std::printf("## dstrain coordinator: %d agents, %d ranks, %d clients\n",
              o.agents, world, o.clients);
  std::printf("register_s %.3f\n", register_s);
  std::printf("register_cpu_s %.3f\n", after_register.cpu_s - idle.cpu_s);
  if (!o.fence_only) {
    std::printf("rendezvous_s %.3f\n", rdzv_s);
    std::printf("rendezvous_cpu_s %.3f\n",
                after_rdzv.cpu_s - before_rdzv.cpu_s);
    std::printf("rendezvous_client_cpu_s %.3f (heartbeats included)\n",
                client_cpu_s);
    if (o.parked_waits) {
      std::printf(
          "parked_rendezvous_s %.3f (all %d waits parked, phase 1 only)\n",
          parked_s, world);
      std::printf("parked_rendezvous_cpu_s %.3f\n",
                  after_parked.cpu_s - after_rdzv.cpu_s);
    }
    std::printf(
        "relayed_rendezvous_s %.3f (through %d agents' relays: %llu ops in "
        "%llu batches, %llu upstream waits)\n",
        relayed.seconds, o.agents,
        static_cast<unsigned long long>(relayed.totals.ops),
        static_cast<unsigned long long>(relayed.totals.batches),
        static_cast<unsigned long long>(relayed.totals.upstream_waits));
    std::printf("relayed_rendezvous_cpu_s %.3f\n", relayed.coordinator_cpu_s);
  }
  std::printf(
      "fence_rendezvous_s %.3f (one fence through %d agents' relays: %llu "
      "joins in %llu KvFence calls)\n",
      fenced.seconds, o.agents,
      static_cast<unsigned long long>(fenced.totals.fence_joins),
      static_cast<unsigned long long>(fenced.totals.upstream_fences));
  std::printf("fence_rendezvous_cpu_s %.3f\n", fenced.coordinator_cpu_s);
  std::printf("coordinator_cpu_s %.3f\n", end.cpu_s);
  std::printf("coordinator_peak_rss_mib %.1f\n", end.peak_rss_kib / 1024.0);
  std::printf("heartbeats %zu over %.1f s (%d failed)\n", latencies_ms.size(),
              hb_s, heartbeat_errors.load());
  std::printf("heartbeat_p50_ms %.3f\n", Percentile(latencies_ms, 50));
  std::printf("heartbeat_p99_ms %.3f\n", Percentile(latencies_ms, 99));
  std::printf("heartbeat_max_ms %.3f\n", Percentile(latencies_ms, 100));
  if (heartbeat_errors.load() > 0) {
    return dstrain::Internal("heartbeats failed");
  }

  if (o.python.empty()) return Status::Ok();
  DSTRAIN_ASSIGN_OR_RETURN(std::string peer, RunPeer(o));
  std::printf("## torch TCPStore, same pattern and client threads\n%s",
              peer.c_str());
  const double peer_s = ValueOf(peer, "tcpstore_rendezvous_s");
  if (peer_s > 0 && !o.fence_only) {
    std::printf("dstrain_direct_speedup_vs_tcpstore %.2f\n", peer_s / rdzv_s);
    std::printf("dstrain_relayed_speedup_vs_tcpstore %.2f\n",
                peer_s / relayed.seconds);
  }
  if (peer_s > 0) {
    std::printf("dstrain_fence_speedup_vs_tcpstore %.2f\n",
                peer_s / fenced.seconds);
  }
  return Status::Ok();
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], v = argv[i + 1];
    if (flag == "--agents") {
      o.agents = std::stoi(v);
    } else if (flag == "--ranks-per-node") {
      o.ranks_per_node = std::stoi(v);
    } else if (flag == "--clients") {
      o.clients = std::stoi(v);
    } else if (flag == "--heartbeat-threads") {
      o.heartbeat_threads = std::stoi(v);
    } else if (flag == "--hold-s") {
      o.hold_s = std::stod(v);
    } else if (flag == "--fence-only") {
      o.fence_only = v != "0";
    } else if (flag == "--parked-waits") {
      o.parked_waits = v != "0";
    } else if (flag == "--python") {
      o.python = v;
    } else if (flag == "--peer-script") {
      o.peer_script = v;
    } else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  if (o.heartbeat_threads > o.clients) o.heartbeat_threads = o.clients;
  Status s = Run(o);
  if (!s.ok()) {
    std::fprintf(stderr, "coordinator_scale_bench: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
