#pragma once
// Forwards what the workers report (step metrics, rank results, exits) to
// the coordinator, batched: metrics and results go out every
// `flush_interval` or once `batch_lines` are queued, whichever is first, as
// one ReportMetrics per job attempt. An exit first flushes everything queued
// before it, so the coordinator sees a rank's last metrics and its result
// before its exit (it ends the job on the exits).
//
// Delivery: metrics are best effort (a failed batch is dropped with a
// warning; the next one carries newer numbers). Exits decide a job's fate,
// so a failed ReportWorkerExit is retried with backoff until it succeeds,
// the coordinator refuses it (an error other than UNAVAILABLE or
// DEADLINE_EXCEEDED), or `exit_retry_for` has passed. Each call waits at
// most `call_timeout`.
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
  std::chrono::milliseconds exit_retry_for{15000};
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
