#pragma once
// Stand-ins for a JobManager's agents and executor in tests: agents that
// record every call (and refuse StartWorkers where told to), and an
// executor that holds tasks until the test runs them.

#include <algorithm>
#include <deque>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "coordinator/agent_client.h"
#include "coordinator/executor.h"

namespace dstrain::coordinator {

// A rank's exit as an agent reports it.
inline proto::WorkerExit Exit(int rank, int code, int signal = 0) {
  proto::WorkerExit e;
  e.set_rank(rank);
  e.set_exit_code(code);
  e.set_signal(signal);
  return e;
}

// Records every agent call; StartWorkers fails for addresses in fail_start.
class FakeAgentClient : public AgentClient {
 public:
  struct Call {
    std::string address;
    proto::StartWorkersRequest start;
    proto::StopWorkersRequest stop;
  };

  StatusOr<proto::StartWorkersResponse> StartWorkers(
      const std::string& address,
      const proto::StartWorkersRequest& request) override {
    std::lock_guard<std::mutex> lock(mu);
    starts.push_back(Call{address, request, {}});
    if (fail_start.count(address) > 0) {
      return Unavailable("connection refused");
    }
    proto::StartWorkersResponse response;
    for (int i = 0; i < request.ranks_size(); ++i) response.add_pids(100 + i);
    return response;
  }
  StatusOr<proto::StopWorkersResponse> StopWorkers(
      const std::string& address,
      const proto::StopWorkersRequest& request) override {
    std::lock_guard<std::mutex> lock(mu);
    stops.push_back(Call{address, {}, request});
    return proto::StopWorkersResponse();
  }

  std::vector<std::string> StopAddresses() {
    std::lock_guard<std::mutex> lock(mu);
    std::vector<std::string> out;
    for (const Call& c : stops) out.push_back(c.address);
    std::sort(out.begin(), out.end());
    return out;
  }

  std::mutex mu;
  std::vector<Call> starts;
  std::vector<Call> stops;
  std::set<std::string> fail_start;
};

// Holds posted tasks until the test runs them, to observe STARTING.
// Not thread-safe: for tests that post and run on one thread.
class ManualExecutor : public Executor {
 public:
  void Post(std::function<void()> task) override {
    tasks_.push_back(std::move(task));
  }
  void RunAll() {
    while (!tasks_.empty()) {
      auto t = std::move(tasks_.front());
      tasks_.pop_front();
      t();
    }
  }

 private:
  std::deque<std::function<void()>> tasks_;
};

}  // namespace dstrain::coordinator
