#pragma once
// A KeyValueStore held in this process's memory: for a one-process job, and
// for tests that run several ranks as threads of one process. Thread-safe;
// waits block on a condition variable until a writer makes the keys appear
// or the deadline passes.

#include <condition_variable>
#include <map>
#include <mutex>

#include "common/rendezvous/kv_store.h"

namespace dstrain::rendezvous {

class InMemoryKvStore : public KeyValueStore {
 public:
  Status Set(const std::string& key, const std::string& value) override;
  StatusOr<std::string> Get(const std::string& key,
                            std::chrono::milliseconds timeout) override;
  StatusOr<std::int64_t> Add(const std::string& key,
                             std::int64_t delta) override;
  StatusOr<std::string> CompareSet(const std::string& key,
                                   const std::string& expected,
                                   const std::string& desired) override;
  StatusOr<bool> Delete(const std::string& key) override;
  StatusOr<bool> Check(const std::vector<std::string>& keys) override;
  StatusOr<std::int64_t> NumKeys() override;
  Status Wait(const std::vector<std::string>& keys,
              std::chrono::milliseconds timeout) override;

 private:
  // Missing keys among `keys`; needs mu_ held.
  std::vector<std::string> MissingLocked(
      const std::vector<std::string>& keys) const;

  std::mutex mu_;
  std::condition_variable changed_;        // notified on every write
  std::map<std::string, std::string> kv_;  // guarded by mu_
};

}  // namespace dstrain::rendezvous
