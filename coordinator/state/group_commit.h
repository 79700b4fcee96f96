#pragma once
// Group commit over a StateStore, so that callers decide under their own
// lock and wait for the disk without it (the queue of writers of
// LevelDB's DB::Write): Enqueue, under the caller's lock, appends a write
// and returns its ticket; Await, after the caller released its lock,
// returns once that write is committed, with its Status.
//
// The first thread to Await while writes are queued becomes the leader: it
// takes every queued write (its own and those of threads that came after),
// runs them in queue order inside one StateStore::Batch, so one transaction
// and one sync carry them all, hands each its result and wakes the others;
// a thread whose write went out with another's batch just waits for it.
// So the store sees writes in the order they were enqueued, and nothing is
// acknowledged before it is on disk.
//
// Every ticket must be awaited (a write nobody awaits is written by the
// next leader, or by the destructor). Thread-safe; mu_ is a leaf, not held
// while writing.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>

#include "common/status.h"
#include "coordinator/state/state_store.h"

namespace dstrain::coordinator {

class GroupCommit {
 public:
  using Write = std::function<Status(StateStore&)>;
  using Ticket = std::uint64_t;

  // `store` must outlive this.
  explicit GroupCommit(StateStore* store) : store_(store) {}
  ~GroupCommit();  // writes what is still queued
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;

  StateStore& store() const { return *store_; }

  Ticket Enqueue(Write write);
  Status Await(Ticket ticket);

  // Batches written so far (for tests and the benchmark).
  std::uint64_t batches() const;

 private:
  struct Queued {
    Ticket ticket;
    Write write;
  };
  // Leads one batch: mu_ is held on entry and on return, not while writing.
  void LeadLocked(std::unique_lock<std::mutex>& lock);

  StateStore* const store_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Queued> queue_;          // guarded by mu_
  std::map<Ticket, Status> results_;  // guarded by mu_; written, not awaited
  Ticket next_ = 1;                   // guarded by mu_
  bool leading_ = false;              // guarded by mu_
  std::uint64_t batches_ = 0;         // guarded by mu_
};

}  // namespace dstrain::coordinator
