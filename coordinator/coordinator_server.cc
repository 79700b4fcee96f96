#include "coordinator/coordinator_server.h"

#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include <algorithm>
#include <chrono>

#include "common/rpc/auth.h"
#include "common/rpc/channel.h"
#include "common/rpc/listen.h"
#include "coordinator/clock.h"
#include "coordinator/coordinator_service.h"
#include "coordinator/executor.h"
#include "coordinator/grpc_agent_client.h"
#include "coordinator/job_manager.h"
#include "coordinator/node_manager.h"
#include "coordinator/rendezvous_store.h"
#include "coordinator/state/in_memory_state_store.h"

namespace dstrain::coordinator {

// Members in construction order; destroyed after Shutdown, in reverse.
struct CoordinatorServer::Impl {
  explicit Impl(const CoordinatorOptions& o)
      : options(o),
        store(o.store != nullptr ? o.store
                                 : std::make_shared<InMemoryStateStore>()),
        nodes(&clock,
              std::chrono::duration_cast<Clock::Duration>(
                  std::chrono::duration<double>(o.heartbeat_s)),
              o.missed_heartbeats_before_lost, store.get(),
              std::chrono::duration_cast<Clock::Duration>(
                  std::chrono::duration<double>(o.restore_grace_s))),
        agents(o.node_token.empty() ? o.token : o.node_token),
        jobs(&nodes, &kv, &agents, &executor, &clock,
             JobOptions(o, store.get())),
        credentials{o.token, o.node_token.empty() ? o.token : o.node_token,
                    o.viewer_token},
        service(credentials, &nodes, &jobs, &kv, &agents, NewInstanceId()),
        start_time_unix_s(
            std::chrono::duration<double>(
                std::chrono::system_clock::now().time_since_epoch())
                .count()) {}

  static JobManagerOptions JobOptions(const CoordinatorOptions& o,
                                      StateStore* store) {
    JobManagerOptions j;
    j.node_network = o.node_network;
    j.store = store;
    j.cordon_after_failures = o.cordon_after_failures;
    j.cordon_for = std::chrono::duration_cast<Clock::Duration>(
        std::chrono::duration<double>(o.cordon_s));
    return j;
  }

  // A random name for this process of the coordinator (rpc::
  // kCoordinatorInstanceKey); the time is the fallback, unique enough
  // across restarts of one coordinator.
  static std::string NewInstanceId() {
    StatusOr<std::string> random = rpc::GenerateToken();
    if (random.ok()) return random->substr(0, 16);
    return std::to_string(
        std::chrono::system_clock::now().time_since_epoch().count());
  }

  CoordinatorOptions options;
  std::shared_ptr<StateStore> store;
  RealClock clock;
  NodeManager nodes;
  RendezvousStore kv;
  GrpcAgentClient agents;
  SerialExecutor executor;
  JobManager jobs;
  Credentials credentials;
  CoordinatorService service;
  double start_time_unix_s;
  std::unique_ptr<grpc::Server> server;
};

namespace {

std::string AdvertisedAddress(const std::string& listen, int port) {
  std::string host = listen.substr(0, listen.rfind(':'));
  if (host.empty() || host == "0.0.0.0" || host == "[::]" || host == "::") {
    host = "127.0.0.1";
  }
  return host + ":" + std::to_string(port);
}

}  // namespace

CoordinatorServer::CoordinatorServer(const CoordinatorOptions& options)
    : impl_(std::make_unique<Impl>(options)) {}

StatusOr<std::unique_ptr<CoordinatorServer>> CoordinatorServer::Start(
    const CoordinatorOptions& options) {
  DSTRAIN_RETURN_IF_ERROR(rpc::ValidateToken(options.token, "coordinator"));
  if (!options.node_token.empty()) {
    DSTRAIN_RETURN_IF_ERROR(
        rpc::ValidateToken(options.node_token, "coordinator node token"));
    if (rpc::ConstantTimeEquals(options.node_token, options.token)) {
      return InvalidArgument(
          "coordinator: the node token is the operator token; give nodes "
          "their own (or leave --node-token-file out for one token)");
    }
  }
  if (!options.viewer_token.empty()) {
    DSTRAIN_RETURN_IF_ERROR(
        rpc::ValidateToken(options.viewer_token, "coordinator viewer token"));
    if (rpc::ConstantTimeEquals(options.viewer_token, options.token) ||
        rpc::ConstantTimeEquals(options.viewer_token, options.node_token)) {
      return InvalidArgument(
          "coordinator: the viewer token is the operator's or the nodes'; "
          "a read-only credential needs a token of its own");
    }
  }
  if (!(options.heartbeat_s > 0)) {
    return InvalidArgument(
        "coordinator: heartbeat_s = " + std::to_string(options.heartbeat_s) +
        " must be positive");
  }
  if (options.missed_heartbeats_before_lost < 1) {
    return InvalidArgument(
        "coordinator: missed_heartbeats_before_lost = " +
        std::to_string(options.missed_heartbeats_before_lost) +
        " must be at least 1");
  }
  if (!(options.restore_grace_s > 0)) {
    return InvalidArgument("coordinator: restore_grace_s = " +
                           std::to_string(options.restore_grace_s) +
                           " must be positive");
  }
  if (options.listen_address.rfind(':') == std::string::npos) {
    return InvalidArgument("coordinator: listen address `" +
                           options.listen_address + "` is not host:port");
  }
  std::unique_ptr<CoordinatorServer> server(new CoordinatorServer(options));
  Impl& impl = *server->impl_;
  // The server never started when this returns an error, so there is
  // nothing to shut down but the executor, which the destructor stops.
  const auto never_started = [&](Status error) {
    std::lock_guard<std::mutex> lock(server->state_mu_);
    server->stopping_ = server->stopped_ = true;
    return error;
  };

  // An earlier run's record, before anyone can call: no RPC sees a
  // half-restored coordinator.
  StatusOr<StoredState> stored = impl.store->Load();
  if (!stored.ok()) return never_started(stored.status());
  Status restored = impl.nodes.Restore(stored->nodes);
  if (restored.ok()) restored = impl.jobs.Restore(std::move(stored->jobs));
  if (!restored.ok()) return never_started(restored);

  grpc::ServerBuilder builder;
  builder.RegisterService(&impl.service);
  StatusOr<rpc::StartedServer> started =
      rpc::StartServer(&builder, options.listen_address, "coordinator");
  if (!started.ok()) return never_started(started.status());
  impl.server = std::move(started->server);
  const int port = started->port;
  server->address_ = AdvertisedAddress(options.listen_address, port);
  impl.jobs.SetCoordinatorAddress(server->address_);
  server->liveness_thread_ =
      std::thread([s = server.get()] { s->LivenessLoop(); });
  return server;
}

CoordinatorServer::~CoordinatorServer() {
  Shutdown();
  impl_->executor.Shutdown();
}

void CoordinatorServer::LivenessLoop() {
  const auto period = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::duration<double>(impl_->options.heartbeat_s / 4));
  const auto tick = std::clamp(period, std::chrono::milliseconds(10),
                               std::chrono::milliseconds(1000));
  std::unique_lock<std::mutex> lock(state_mu_);
  while (!state_cv_.wait_for(lock, tick, [this] { return stopping_; })) {
    lock.unlock();
    std::vector<std::string> lost = impl_->nodes.CheckLiveness();
    if (!lost.empty()) impl_->jobs.OnNodesLost(lost);
    impl_->jobs.CheckHangs();
    impl_->jobs.CheckStragglers();
    lock.lock();
  }
}

void CoordinatorServer::Shutdown() {
  std::lock_guard<std::mutex> serial(shutdown_mu_);
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    if (stopped_) return;
    stopping_ = true;
  }
  state_cv_.notify_all();
  if (liveness_thread_.joinable()) liveness_thread_.join();
  impl_->kv.CancelAllWaits(Unavailable("the coordinator is shutting down"));
  if (impl_->server) {
    impl_->server->Shutdown(rpc::DeadlineAfter(std::chrono::seconds(1)));
    impl_->server->Wait();
  }
  impl_->executor.Shutdown();
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    stopped_ = true;
  }
  state_cv_.notify_all();
}

std::size_t CoordinatorServer::pending_rendezvous_waits() const {
  return impl_->kv.PendingWaits();
}

const JobManager& CoordinatorServer::jobs() const { return impl_->jobs; }
const NodeManager& CoordinatorServer::nodes() const { return impl_->nodes; }
const Credentials& CoordinatorServer::credentials() const {
  return impl_->credentials;
}
double CoordinatorServer::start_time_unix_s() const {
  return impl_->start_time_unix_s;
}

void CoordinatorServer::Wait() {
  std::unique_lock<std::mutex> lock(state_mu_);
  state_cv_.wait(lock, [this] { return stopped_; });
}

}  // namespace dstrain::coordinator
