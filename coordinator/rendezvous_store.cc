#include "coordinator/rendezvous_store.h"

#include "common/rendezvous/fence.h"
#include "common/strings.h"

namespace dstrain::coordinator {
namespace {

Status UnknownJob(const std::string& job_id) {
  return NotFound("no rendezvous namespace for job `" + job_id +
                  "` (the job ended or never existed)");
}

// The first of `keys` absent from `ns`; null when all are there.
const std::string* FirstMissing(
    const std::unordered_map<std::string, std::string>& ns,
    const std::vector<std::string>& keys) {
  for (const std::string& k : keys) {
    if (ns.find(k) == ns.end()) return &k;
  }
  return nullptr;
}

}  // namespace

void RendezvousStore::OpenJob(const std::string& job_id) {
  std::lock_guard<std::mutex> lock(mu_);
  jobs_.try_emplace(job_id);
}

void RendezvousStore::DropJob(const std::string& job_id, const Status& reason) {
  Fired fired;
  {
    std::lock_guard<std::mutex> lock(mu_);
    jobs_.erase(job_id);
    watch_.erase(job_id);
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      if (it->second.job_id == job_id) {
        fired.emplace_back(std::move(it->second.callback), reason);
        it = waiters_.erase(it);
      } else {
        ++it;
      }
    }
  }
  Run(&fired);
}

bool RendezvousStore::HasJob(const std::string& job_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  return FindJob(job_id) != nullptr;
}

const RendezvousStore::Namespace* RendezvousStore::FindJob(
    const std::string& job_id) const {
  auto it = jobs_.find(job_id);
  return it == jobs_.end() ? nullptr : &it->second;
}

Status RendezvousStore::Set(const std::string& job_id, const std::string& key,
                            const std::string& value) {
  Fired fired;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = jobs_.find(job_id);
    if (it == jobs_.end()) return UnknownJob(job_id);
    it->second[key] = value;
    CollectSatisfied(job_id, key, it->second, &fired);
  }
  Run(&fired);
  return Status::Ok();
}

StatusOr<std::optional<std::string>> RendezvousStore::Get(
    const std::string& job_id, const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Namespace* ns = FindJob(job_id);
  if (ns == nullptr) return UnknownJob(job_id);
  auto it = ns->find(key);
  if (it == ns->end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

StatusOr<std::int64_t> RendezvousStore::Add(const std::string& job_id,
                                            const std::string& key,
                                            std::int64_t delta) {
  Fired fired;
  std::int64_t sum = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto job = jobs_.find(job_id);
    if (job == jobs_.end()) return UnknownJob(job_id);
    Namespace& ns = job->second;
    std::int64_t current = 0;
    auto it = ns.find(key);
    if (it != ns.end()) {
      const std::optional<std::int64_t> v =
          ParseInteger<std::int64_t>(it->second);
      if (!v) {
        return InvalidArgument("rendezvous key `" + key +
                               "` holds a value that is not an integer, so "
                               "it cannot be added to");
      }
      current = *v;
    }
    if (__builtin_add_overflow(current, delta, &sum)) {
      return Status(StatusCode::kOutOfRange,
                    "rendezvous key `" + key + "`: adding overflows int64");
    }
    ns[key] = std::to_string(sum);
    CollectSatisfied(job_id, key, ns, &fired);
  }
  Run(&fired);
  return sum;
}

StatusOr<std::string> RendezvousStore::CompareSet(const std::string& job_id,
                                                  const std::string& key,
                                                  const std::string& expected,
                                                  const std::string& desired) {
  Fired fired;
  std::string after;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto job = jobs_.find(job_id);
    if (job == jobs_.end()) return UnknownJob(job_id);
    Namespace& ns = job->second;
    auto it = ns.find(key);
    if (it == ns.end()) {
      if (!expected.empty()) return expected;
      ns[key] = desired;
      after = desired;
      CollectSatisfied(job_id, key, ns, &fired);
    } else if (it->second == expected) {
      it->second = desired;
      after = desired;
    } else {
      after = it->second;
    }
  }
  Run(&fired);
  return after;
}

StatusOr<bool> RendezvousStore::Delete(const std::string& job_id,
                                       const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto job = jobs_.find(job_id);
  if (job == jobs_.end()) return UnknownJob(job_id);
  return job->second.erase(key) > 0;
}

StatusOr<RendezvousStore::CheckResult> RendezvousStore::Check(
    const std::string& job_id, const std::vector<std::string>& keys) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Namespace* ns = FindJob(job_id);
  if (ns == nullptr) return UnknownJob(job_id);
  CheckResult result;
  result.num_keys = static_cast<std::int64_t>(ns->size());
  for (const std::string& k : keys) {
    if (ns->find(k) == ns->end()) result.missing.push_back(k);
  }
  return result;
}

StatusOr<std::int64_t> RendezvousStore::NumKeys(
    const std::string& job_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Namespace* ns = FindJob(job_id);
  if (ns == nullptr) return UnknownJob(job_id);
  return static_cast<std::int64_t>(ns->size());
}

StatusOr<std::int64_t> RendezvousStore::JoinFence(
    const std::string& job_id, const std::string& name, std::int64_t world,
    const std::vector<std::pair<int, std::string>>& contributions) {
  Fired fired;
  std::int64_t count = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto job = jobs_.find(job_id);
    if (job == jobs_.end()) return UnknownJob(job_id);
    Namespace& ns = job->second;
    const std::string count_key = rendezvous::FenceCountKey(name);
    auto counted = ns.find(count_key);
    if (counted != ns.end()) {
      const std::optional<std::int64_t> v =
          ParseInteger<std::int64_t>(counted->second);
      if (!v) {
        return InvalidArgument("fence `" + name + "`: its count key holds `" +
                               counted->second + "`, not an integer");
      }
      count = *v;
    }
    std::vector<std::string> written;
    for (const auto& [rank, record] : contributions) {
      std::string key = rendezvous::FenceRecordKey(name, rank);
      if (ns.emplace(key, record).second) {
        ++count;
        written.push_back(std::move(key));
      }
    }
    if (!written.empty()) {
      ns[count_key] = std::to_string(count);
      written.push_back(count_key);
    }
    const std::string done_key = rendezvous::FenceDoneKey(name);
    if (count >= world && ns.emplace(done_key, "1").second) {
      written.push_back(done_key);
    }
    for (const std::string& key : written) {
      CollectSatisfied(job_id, key, ns, &fired);
    }
  }
  Run(&fired);
  return count;
}

RendezvousStore::WaiterId RendezvousStore::WaitAsync(
    const std::string& job_id, const std::vector<std::string>& keys,
    WaitCallback callback) {
  Status now;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const Namespace* ns = FindJob(job_id);
    if (ns == nullptr) {
      now = UnknownJob(job_id);
    } else if (const std::string* missing = FirstMissing(*ns, keys)) {
      WaiterId id = next_waiter_++;
      watch_[job_id][*missing].insert(id);
      waiters_.emplace(id, Waiter{job_id, keys, std::move(callback), *missing});
      return id;
    }
  }
  callback(now);
  return 0;
}

bool RendezvousStore::CancelWait(WaiterId id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = waiters_.find(id);
  if (it == waiters_.end()) return false;
  Unwatch(id, it->second);
  waiters_.erase(it);
  return true;
}

void RendezvousStore::Unwatch(WaiterId id, const Waiter& waiter) {
  auto job = watch_.find(waiter.job_id);
  if (job == watch_.end()) return;
  auto key = job->second.find(waiter.watching);
  if (key == job->second.end()) return;
  key->second.erase(id);
  if (key->second.empty()) job->second.erase(key);
  if (job->second.empty()) watch_.erase(job);
}

void RendezvousStore::CancelAllWaits(const Status& reason) {
  Fired fired;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [id, waiter] : waiters_) {
      fired.emplace_back(std::move(waiter.callback), reason);
    }
    waiters_.clear();
    watch_.clear();
  }
  Run(&fired);
}

std::size_t RendezvousStore::PendingWaits() const {
  std::lock_guard<std::mutex> lock(mu_);
  return waiters_.size();
}

void RendezvousStore::CollectSatisfied(const std::string& job_id,
                                       const std::string& key,
                                       const Namespace& ns, Fired* fired) {
  auto job = watch_.find(job_id);
  if (job == watch_.end()) return;
  auto watched = job->second.find(key);
  if (watched == job->second.end()) return;
  const std::set<WaiterId> ids = std::move(watched->second);
  job->second.erase(watched);
  for (WaiterId id : ids) {
    auto it = waiters_.find(id);
    if (it == waiters_.end()) continue;
    // From the first key again: one seen earlier may have been deleted.
    if (const std::string* missing = FirstMissing(ns, it->second.keys)) {
      it->second.watching = *missing;
      job->second[*missing].insert(id);
    } else {
      fired->emplace_back(std::move(it->second.callback), Status::Ok());
      waiters_.erase(it);
    }
  }
  if (job->second.empty()) watch_.erase(job);
}

void RendezvousStore::Run(Fired* fired) {
  for (auto& [callback, status] : *fired) callback(status);
}

}  // namespace dstrain::coordinator
