#include "common/rendezvous/in_memory_kv_store.h"

#include "common/strings.h"

namespace dstrain::rendezvous {
namespace {

std::string JoinKeys(const std::vector<std::string>& keys) {
  std::string out;
  for (const std::string& k : keys) {
    if (!out.empty()) out += ", ";
    out += "`" + k + "`";
  }
  return out;
}

// wait_for adds the timeout to now(): keep huge timeouts from overflowing.
std::chrono::milliseconds Clamp(std::chrono::milliseconds t) {
  constexpr std::chrono::milliseconds kMax = std::chrono::hours(24 * 365);
  return t > kMax ? kMax : t;
}

}  // namespace

Status InMemoryKvStore::Set(const std::string& key, const std::string& value) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    kv_[key] = value;
  }
  changed_.notify_all();
  return Status::Ok();
}

StatusOr<std::string> InMemoryKvStore::Get(const std::string& key,
                                           std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  const bool found = changed_.wait_for(
      lock, Clamp(timeout), [&] { return kv_.find(key) != kv_.end(); });
  if (!found) {
    return DeadlineExceeded("key `" + key + "` did not appear within " +
                            std::to_string(timeout.count()) + " ms");
  }
  return kv_.at(key);
}

StatusOr<std::int64_t> InMemoryKvStore::Add(const std::string& key,
                                            std::int64_t delta) {
  std::int64_t sum = delta;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = kv_.find(key);
    if (it != kv_.end()) {
      const std::string& v = it->second;
      const std::optional<std::int64_t> old = ParseInteger<std::int64_t>(v);
      if (!old) {
        return InvalidArgument("key `" + key + "` holds `" + v +
                               "`, not an integer");
      }
      sum = *old + delta;
    }
    kv_[key] = std::to_string(sum);
  }
  changed_.notify_all();
  return sum;
}

StatusOr<std::string> InMemoryKvStore::CompareSet(const std::string& key,
                                                  const std::string& expected,
                                                  const std::string& desired) {
  std::string result;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = kv_.find(key);
    if (it == kv_.end()) {
      if (!expected.empty()) return expected;
      kv_[key] = desired;
      result = desired;
    } else if (it->second == expected) {
      it->second = desired;
      result = desired;
    } else {
      return it->second;
    }
  }
  changed_.notify_all();
  return result;
}

StatusOr<bool> InMemoryKvStore::Delete(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  return kv_.erase(key) > 0;
}

StatusOr<bool> InMemoryKvStore::Check(const std::vector<std::string>& keys) {
  std::lock_guard<std::mutex> lock(mu_);
  return MissingLocked(keys).empty();
}

StatusOr<std::int64_t> InMemoryKvStore::NumKeys() {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<std::int64_t>(kv_.size());
}

Status InMemoryKvStore::Wait(const std::vector<std::string>& keys,
                             std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  const bool all = changed_.wait_for(
      lock, Clamp(timeout), [&] { return MissingLocked(keys).empty(); });
  if (!all) {
    return DeadlineExceeded("keys " + JoinKeys(MissingLocked(keys)) +
                            " did not appear within " +
                            std::to_string(timeout.count()) + " ms");
  }
  return Status::Ok();
}

std::vector<std::string> InMemoryKvStore::MissingLocked(
    const std::vector<std::string>& keys) const {
  std::vector<std::string> missing;
  for (const std::string& k : keys) {
    if (kv_.find(k) == kv_.end()) missing.push_back(k);
  }
  return missing;
}

}  // namespace dstrain::rendezvous
