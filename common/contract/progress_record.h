#pragma once
// What a worker tells its agent about its collectives, through a small
// shared file rather than a message per collective: the agent reads it at
// each heartbeat and the coordinator finds hangs from it (which ranks wait
// in which collective, which never arrived).
//
// The file (DSTRAIN_PROGRESS_FILE, worker_env.h) is made by the agent
// (CreateProgressFile, 512 bytes, zeroed) and mapped by both sides. It
// holds the rank's training step, its phase ("train", "checkpoint", ...),
// and per communicator (up to kProgressSlots: the world and the topology
// plan's sub-communicators) the sequence number, operation, element count
// and dtype of the last collective started and the number of the last one
// completed. A rank waits in a collective when started > completed.
//
// One writer (the worker; its own calls serialised by a lock), any number
// of readers: a sequence lock (odd while a write is under way) lets a
// reader take a consistent copy without ever blocking the writer; every
// field is an atomic word, so concurrent access is defined behaviour.
// Writing costs a few relaxed stores and two fences: what a collective
// call can afford. Strings longer than 15 bytes are cut.

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace dstrain::contract {

inline constexpr int kProgressSlots = 4;

struct CollectiveProgress {
  std::string comm;  // "world", "intra_node", ...
  std::string op;    // "all-reduce", "all-gather", "barrier", ...
  std::string dtype;
  std::int64_t started_seq = 0;  // 1-based; 0: none started yet
  std::int64_t completed_seq = 0;
  std::int64_t numel = 0;
  bool waiting() const { return started_seq > completed_seq; }
};

struct ProgressSnapshot {
  std::int64_t step = 0;  // the optimizer step the rank is working on
  std::string phase;      // "" before the worker set one
  std::int64_t updated_unix_us = 0;       // the last write
  std::vector<CollectiveProgress> comms;  // the slots in use, by slot
};

struct ProgressLayout;  // the file's bytes (progress_record.cc)

// Creates (or truncates) `path` as an empty record, mode 0600.
Status CreateProgressFile(const std::string& path);

class ProgressWriter {
 public:
  // Maps a file made by CreateProgressFile. FAILED_PRECONDITION when it is
  // not one (wrong size or magic).
  static StatusOr<std::unique_ptr<ProgressWriter>> Open(
      const std::string& path);
  ~ProgressWriter();
  ProgressWriter(const ProgressWriter&) = delete;
  ProgressWriter& operator=(const ProgressWriter&) = delete;

  // A slot for the communicator named `comm`; -1 when all are taken (its
  // collectives then go unreported).
  int AddComm(std::string_view comm);
  void Started(int slot, std::string_view op, std::int64_t seq,
               std::int64_t numel, std::string_view dtype);
  void Completed(int slot, std::int64_t seq);
  void SetStep(std::int64_t step);
  void SetPhase(std::string_view phase);

 private:
  explicit ProgressWriter(ProgressLayout* layout) : layout_(layout) {}
  void BeginWrite();
  void EndWrite();

  ProgressLayout* const layout_;
  std::mutex mu_;       // serialises this process's writers
  int slots_used_ = 0;  // guarded by mu_
};

class ProgressReader {
 public:
  static StatusOr<std::unique_ptr<ProgressReader>> Open(
      const std::string& path);
  ~ProgressReader();
  ProgressReader(const ProgressReader&) = delete;
  ProgressReader& operator=(const ProgressReader&) = delete;

  // A consistent copy; UNAVAILABLE when writes kept overlapping the read
  // (retried a bounded number of times; the next heartbeat reads again).
  StatusOr<ProgressSnapshot> Read() const;

 private:
  explicit ProgressReader(const ProgressLayout* layout) : layout_(layout) {}
  const ProgressLayout* const layout_;
};

}  // namespace dstrain::contract
