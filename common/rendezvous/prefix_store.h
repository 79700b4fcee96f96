#pragma once
// A KeyValueStore that scopes every key of another one under a prefix:
// `PrefixStore(store, "job7/split2")` reads and writes "job7/split2/<key>"
// in `store`, so groups sharing one store (a communicator and its splits,
// two jobs) never see each other's keys. As Gloo's and c10d's PrefixStore.
// Thread-safe as the store it wraps; it holds a shared reference to it.

#include <memory>
#include <string>

#include "common/rendezvous/kv_store.h"

namespace dstrain::rendezvous {

class PrefixStore : public KeyValueStore {
 public:
  // `prefix` must not be empty; keys become `prefix + "/" + key`.
  PrefixStore(std::shared_ptr<KeyValueStore> store, std::string prefix);

  const std::string& prefix() const { return prefix_; }

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
  // Counts every key of the wrapped store (the interface has no listing),
  // as c10d's PrefixStore does.
  StatusOr<std::int64_t> NumKeys() override;
  Status Wait(const std::vector<std::string>& keys,
              std::chrono::milliseconds timeout) override;
  // The wrapped store's fence, under the scoped name.
  StatusOr<FenceRecords> Fence(const FenceRequest& request) override;

 private:
  std::string Scoped(const std::string& key) const;
  std::vector<std::string> Scoped(const std::vector<std::string>& keys) const;

  std::shared_ptr<KeyValueStore> store_;
  std::string prefix_;
};

}  // namespace dstrain::rendezvous
