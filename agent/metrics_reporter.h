#pragma once
// Forwards what the workers report (step metrics, rank results, exits) to
// the coordinator, batched: metrics and results go out every
// `flush_interval` or once `batch_lines` are queued, whichever is first, as
// one ReportMetrics per job attempt. An exit first flushes everything queued
// before it, so the coordinator sees a rank's last metrics and its result
// before its exit (it ends the job on the exits).
//
// Delivery: every call that fails for want of a coordinator (UNAVAILABLE
// or DEADLINE_EXCEEDED: it is down or restarting) is retried with backoff,
// in order, until it succeeds, the coordinator refuses it (any other
// error: the batch is dropped with a warning), or `retry_for` has passed.
// A coordinator that restarts thus loses no step, result or exit; what
// the workers report meanwhile waits in the queue (sent at most
// `max_batch_lines` per call once the coordinator is back). Each call waits
// at most `call_timeout`.
//
// One thread sends; Add* may be called from any thread and never block on
// the network. Stop() sends what is queued within `stop_budget` (a call in
// flight finishes within its call_timeout first) and joins the thread; what
// could not be sent by then is given up with a warning, so an agent whose
// coordinator is gone still stops within seconds. The destructor calls it.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "dstrain.pb.h"

namespace dstrain::agent {

// Where reports go: the coordinator client in the agent, a recorder in
// tests.
class ReportSink {
 public:
  virtual ~ReportSink() = default;
  // Each call returns within `timeout` (DEADLINE_EXCEEDED or UNAVAILABLE
  // when the coordinator does not answer in time).
  virtual Status ReportMetrics(const proto::ReportMetricsRequest& request,
                               std::chrono::milliseconds timeout) = 0;
  virtual Status ReportWorkerExit(const std::string& node_id,
                                  const std::string& job_id, int attempt,
                                  const proto::WorkerExit& exit,
                                  std::chrono::milliseconds timeout) = 0;
};

struct MetricsReporterOptions {
  std::chrono::milliseconds flush_interval{100};
  int batch_lines = 64;
  int max_batch_lines = 4096;  // per call, after a backlog built up
  std::chrono::milliseconds retry_for{std::chrono::minutes(10)};
  std::chrono::milliseconds call_timeout{2000};
  std::chrono::milliseconds stop_budget{3000};
  // Called for dropped batches and exits that could not be delivered.
  std::function<void(const std::string&)> on_warning;
};

class MetricsReporter {
 public:
  // `node_id` is read at every send: the agent may re-register. `sink`
  // must outlive the reporter.
  MetricsReporter(ReportSink* sink, std::function<std::string()> node_id,
                  MetricsReporterOptions options = {});
  ~MetricsReporter();
  MetricsReporter(const MetricsReporter&) = delete;
  MetricsReporter& operator=(const MetricsReporter&) = delete;

  void AddStep(const proto::StepMetrics& m);
  void AddResult(const std::string& job_id, int attempt,
                 const proto::RankResult& r);
  void AddExit(const std::string& job_id, int attempt,
               const proto::WorkerExit& e);

  // Returns once everything added before the call has been sent (or
  // given up on). Must not be called from the reporter's own thread.
  void Flush();
  void Stop();

  // Exits added and not yet delivered (nor given up on): job id, attempt
  // and rank of each. An agent registering again counts these ranks as
  // its own still (their exits are on their way).
  struct PendingExit {
    std::string job_id;
    int attempt = 0;
    int rank = 0;
  };
  std::vector<PendingExit> UndeliveredExits();

 private:
  struct Item {
    enum class Kind { kStep, kResult, kExit } kind;
    std::string job_id;
    int attempt = 0;
    proto::StepMetrics step;
    proto::RankResult result;
    proto::WorkerExit exit;
  };

  void Loop();
  void Push(Item item);
  // Sends a run of queue items; called on the thread without mu_ held.
  void Send(std::vector<Item> items);
  void SendExit(const Item& item);
  // Runs `call` (given its timeout) until it succeeds, fails for good, or
  // retry_for or the stop budget runs out; false when it never succeeded
  // (after a warning: "could not <what>: <why>").
  bool Deliver(const std::function<Status(std::chrono::milliseconds)>& call,
               const std::string& what);
  void Warn(const std::string& message);
  // The timeout for the next call: call_timeout, or what is left of the
  // stop budget once stopping (zero: give up without calling).
  std::chrono::milliseconds NextCallTimeout();

  ReportSink* const sink_;
  const std::function<std::string()> node_id_;
  const MetricsReporterOptions options_;

  std::mutex mu_;
  std::condition_variable cv_;
  // Guarded by mu_.
  std::deque<Item> queue_;
  std::vector<PendingExit> undelivered_exits_;
  std::uint64_t pushed_ = 0;  // items ever queued
  std::uint64_t sent_ = 0;    // items ever taken off the queue and handled
  int flush_waiters_ = 0;     // Flush calls waiting: send without delay
  bool stopping_ = false;
  std::chrono::steady_clock::time_point stop_by_;  // set with stopping_
  bool finished_ = false;                          // the thread has returned
  std::chrono::steady_clock::time_point
      oldest_;  // when queue_ became non-empty

  std::thread thread_;
};

}  // namespace dstrain::agent
