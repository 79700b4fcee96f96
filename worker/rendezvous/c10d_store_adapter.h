#pragma once
// Presents a rendezvous::KeyValueStore as a c10d::Store, so libtorch's
// process groups (ProcessGroupGloo) bootstrap through our stores: the
// coordinator's rendezvous RPCs, a TCPStore, or the in-memory store.
//
// c10d reports store failures by throwing; this adapter throws
// c10::DistStoreError with the store's message (timeouts name the keys).
// Blocking calls (get, wait) use the store timeout (getTimeout()) unless
// given one; c10d's kNoTimeout (0) means wait without limit. Thread-safe
// because the underlying store is; clone() shares it.

#include <chrono>
#include <memory>
#include <torch/csrc/distributed/c10d/Store.hpp>

#include "common/rendezvous/kv_store.h"

namespace dstrain::rendezvous {

class C10dStoreAdapter : public c10d::Store {
 public:
  C10dStoreAdapter(std::shared_ptr<KeyValueStore> store,
                   std::chrono::milliseconds timeout);

  c10::intrusive_ptr<c10d::Store> clone() override;

  using c10d::Store::set;
  void set(const std::string& key, const std::vector<uint8_t>& value) override;
  using c10d::Store::compareSet;
  std::vector<uint8_t> compareSet(const std::string& key,
                                  const std::vector<uint8_t>& expected,
                                  const std::vector<uint8_t>& desired) override;
  std::vector<uint8_t> get(const std::string& key) override;
  int64_t add(const std::string& key, int64_t value) override;
  bool deleteKey(const std::string& key) override;
  bool check(const std::vector<std::string>& keys) override;
  int64_t getNumKeys() override;
  void wait(const std::vector<std::string>& keys) override;
  void wait(const std::vector<std::string>& keys,
            const std::chrono::milliseconds& timeout) override;

 private:
  std::shared_ptr<KeyValueStore> store_;
};

}  // namespace dstrain::rendezvous
