#pragma once
// Where the coordinator runs work that may block (calls to agents), so that
// gRPC handler threads never wait on another server.
//
// SerialExecutor: one owned thread runs tasks one at a time in the order
// posted; Shutdown() (and the destructor) runs what is queued, then joins.
// Posting after Shutdown drops the task. Post is thread-safe.
// InlineExecutor: runs each task on the posting thread before Post returns;
// for tests, so a manager's side effects are visible right after the call.

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace dstrain::coordinator {

class Executor {
 public:
  virtual ~Executor() = default;
  virtual void Post(std::function<void()> task) = 0;
};

class InlineExecutor : public Executor {
 public:
  void Post(std::function<void()> task) override { task(); }
};

class SerialExecutor : public Executor {
 public:
  SerialExecutor();
  ~SerialExecutor() override;
  SerialExecutor(const SerialExecutor&) = delete;
  SerialExecutor& operator=(const SerialExecutor&) = delete;

  void Post(std::function<void()> task) override;
  // Runs the queued tasks, then stops the thread. Idempotent; must not be
  // called from a task.
  void Shutdown();

 private:
  void Loop();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;  // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::thread thread_;
};

}  // namespace dstrain::coordinator
