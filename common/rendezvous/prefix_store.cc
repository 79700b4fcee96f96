#include "common/rendezvous/prefix_store.h"

#include <cassert>
#include <utility>

namespace dstrain::rendezvous {

PrefixStore::PrefixStore(std::shared_ptr<KeyValueStore> store,
                         std::string prefix)
    : store_(std::move(store)), prefix_(std::move(prefix)) {
  assert(store_ != nullptr && !prefix_.empty());
}

std::string PrefixStore::Scoped(const std::string& key) const {
  return prefix_ + "/" + key;
}

std::vector<std::string> PrefixStore::Scoped(
    const std::vector<std::string>& keys) const {
  std::vector<std::string> out;
  out.reserve(keys.size());
  for (const std::string& k : keys) out.push_back(Scoped(k));
  return out;
}

Status PrefixStore::Set(const std::string& key, const std::string& value) {
  return store_->Set(Scoped(key), value);
}

StatusOr<std::string> PrefixStore::Get(const std::string& key,
                                       std::chrono::milliseconds timeout) {
  return store_->Get(Scoped(key), timeout);
}

StatusOr<std::int64_t> PrefixStore::Add(const std::string& key,
                                        std::int64_t delta) {
  return store_->Add(Scoped(key), delta);
}

StatusOr<std::string> PrefixStore::CompareSet(const std::string& key,
                                              const std::string& expected,
                                              const std::string& desired) {
  return store_->CompareSet(Scoped(key), expected, desired);
}

StatusOr<bool> PrefixStore::Delete(const std::string& key) {
  return store_->Delete(Scoped(key));
}

StatusOr<bool> PrefixStore::Check(const std::vector<std::string>& keys) {
  return store_->Check(Scoped(keys));
}

StatusOr<std::int64_t> PrefixStore::NumKeys() { return store_->NumKeys(); }

Status PrefixStore::Wait(const std::vector<std::string>& keys,
                         std::chrono::milliseconds timeout) {
  return store_->Wait(Scoped(keys), timeout);
}

StatusOr<FenceRecords> PrefixStore::Fence(const FenceRequest& request) {
  FenceRequest scoped = request;
  scoped.name = Scoped(request.name);
  return store_->Fence(scoped);
}

}  // namespace dstrain::rendezvous
