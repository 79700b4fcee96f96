#include "worker/rendezvous/c10d_store_adapter.h"

#include <c10/util/Exception.h>

namespace dstrain::rendezvous {
namespace {

std::string ToString(const std::vector<uint8_t>& v) {
  return std::string(v.begin(), v.end());
}
std::vector<uint8_t> ToBytes(const std::string& s) {
  return std::vector<uint8_t>(s.begin(), s.end());
}

[[noreturn]] void Throw(const Status& s) {
  C10_THROW_ERROR(DistStoreError, s.ToString());
}

template <typename T>
T ValueOrThrow(StatusOr<T> r) {
  if (!r.ok()) Throw(r.status());
  return std::move(r).value();
}

// c10d's kNoTimeout (0) waits forever; our stores take a finite deadline.
std::chrono::milliseconds Effective(std::chrono::milliseconds t) {
  return t == c10d::Store::kNoTimeout ? std::chrono::hours(24 * 365) : t;
}

}  // namespace

C10dStoreAdapter::C10dStoreAdapter(std::shared_ptr<KeyValueStore> store,
                                   std::chrono::milliseconds timeout)
    : c10d::Store(timeout), store_(std::move(store)) {}

c10::intrusive_ptr<c10d::Store> C10dStoreAdapter::clone() {
  return c10::make_intrusive<C10dStoreAdapter>(store_, timeout_);
}

void C10dStoreAdapter::set(const std::string& key,
                           const std::vector<uint8_t>& value) {
  const Status s = store_->Set(key, ToString(value));
  if (!s.ok()) Throw(s);
}

std::vector<uint8_t> C10dStoreAdapter::compareSet(
    const std::string& key, const std::vector<uint8_t>& expected,
    const std::vector<uint8_t>& desired) {
  return ToBytes(ValueOrThrow(
      store_->CompareSet(key, ToString(expected), ToString(desired))));
}

std::vector<uint8_t> C10dStoreAdapter::get(const std::string& key) {
  return ToBytes(ValueOrThrow(store_->Get(key, Effective(timeout_))));
}

int64_t C10dStoreAdapter::add(const std::string& key, int64_t value) {
  return ValueOrThrow(store_->Add(key, value));
}

bool C10dStoreAdapter::deleteKey(const std::string& key) {
  return ValueOrThrow(store_->Delete(key));
}

bool C10dStoreAdapter::check(const std::vector<std::string>& keys) {
  return ValueOrThrow(store_->Check(keys));
}

int64_t C10dStoreAdapter::getNumKeys() {
  return ValueOrThrow(store_->NumKeys());
}

void C10dStoreAdapter::wait(const std::vector<std::string>& keys) {
  wait(keys, timeout_);
}

void C10dStoreAdapter::wait(const std::vector<std::string>& keys,
                            const std::chrono::milliseconds& timeout) {
  const Status s = store_->Wait(keys, Effective(timeout));
  if (!s.ok()) Throw(s);
}

}  // namespace dstrain::rendezvous
