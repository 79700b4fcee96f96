#include "coordinator/client/coordinator_kv_store.h"

#include <grpcpp/client_context.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <thread>

#include "common/rpc/auth.h"
#include "common/rpc/channel.h"
#include "common/rpc/status_convert.h"
#include "dstrain.grpc.pb.h"

namespace dstrain::coordinator {

using Clock = std::chrono::system_clock;
using std::chrono::milliseconds;

struct CoordinatorKvStore::Impl {
  std::string address;
  std::string token;
  std::string job_id;
  int attempt = 0;
  std::string prefix;
  CoordinatorKvStoreOptions options;
  std::unique_ptr<proto::Coordinator::Stub> stub;

  // What this client wrote, to write again into a coordinator that
  // restarted (see the header). Each write is tagged with the coordinator
  // instance that took it; a write tagged with another instance than the
  // current one is lost there and is replayed.
  struct OwnSet {
    std::string value;
    std::string instance;
  };
  mutable std::mutex mu;
  mutable std::string instance;                // guarded by mu
  mutable std::map<std::string, OwnSet> sets;  // guarded by mu; wire key
  mutable std::map<std::string, std::map<std::string, std::int64_t>>
      adds;                      // guarded by mu; key ->
                                 // instance -> delta
  mutable bool suspect = false;  // guarded by mu: UNAVAILABLE seen since
  mutable std::mutex replay_mu;  // one replay at a time

  std::string Key(const std::string& key) const { return prefix + key; }

  static std::string InstanceOf(const grpc::ClientContext& context) {
    const auto& md = context.GetServerInitialMetadata();
    auto it = md.find(rpc::kCoordinatorInstanceKey);
    return it == md.end() ? std::string()
                          : std::string(it->second.data(), it->second.size());
  }

  // After an answer from `seen`: the current instance, and whether writes
  // of an earlier one are to be replayed.
  bool Observe(const std::string& seen) const {
    if (seen.empty()) return false;
    std::lock_guard<std::mutex> lock(mu);
    if (instance.empty()) {
      instance = seen;
      return false;
    }
    instance = seen;
    for (const auto& [k, own] : sets) {
      if (own.instance != instance) return true;
    }
    for (const auto& [k, by_instance] : adds) {
      for (const auto& [inst, delta] : by_instance) {
        if (inst != instance && delta != 0) return true;
      }
    }
    return false;
  }

  void RecordSet(const std::string& key, const std::string& value,
                 const std::string& seen) const {
    std::lock_guard<std::mutex> lock(mu);
    sets[key] = OwnSet{value, seen};
    suspect = suspect || (!instance.empty() && seen != instance);
  }
  void RecordAdd(const std::string& key, std::int64_t delta,
                 const std::string& seen) const {
    std::lock_guard<std::mutex> lock(mu);
    adds[key][seen] += delta;
    suspect = suspect || (!instance.empty() && seen != instance);
  }
  void RecordDelete(const std::string& key) const {
    std::lock_guard<std::mutex> lock(mu);
    sets.erase(key);
    adds.erase(key);
  }

  // Writes again what the current instance lacks: each own key that is
  // absent there (a compare-and-set from absent, so a newer value is never
  // overwritten), each counter contribution it never saw. UNAVAILABLE
  // leaves the rest for the next try.
  Status Replay(Clock::time_point deadline) const {
    std::lock_guard<std::mutex> serial(replay_mu);
    std::string current;
    std::vector<std::pair<std::string, std::string>> to_set;
    std::vector<std::pair<std::string, std::int64_t>> to_add;
    {
      std::lock_guard<std::mutex> lock(mu);
      current = instance;
      for (const auto& [k, own] : sets) {
        if (own.instance != current) to_set.emplace_back(k, own.value);
      }
      for (const auto& [k, by_instance] : adds) {
        std::int64_t lost = 0;
        for (const auto& [inst, delta] : by_instance) {
          if (inst != current) lost += delta;
        }
        if (lost != 0) to_add.emplace_back(k, lost);
      }
    }
    const auto retag = [&](const std::string& seen) {
      return !seen.empty() && seen == current;
    };
    for (const auto& [key, value] : to_set) {
      grpc::ClientContext context;
      rpc::AddToken(&context, token);
      context.set_deadline(deadline);
      context.set_wait_for_ready(true);
      proto::KvCompareSetRequest request;
      request.set_job_id(job_id);
      request.set_key(key);
      request.set_desired(value);
      proto::KvCompareSetResponse response;
      grpc::Status s = stub->KvCompareSet(&context, request, &response);
      if (!s.ok()) return rpc::FromGrpcStatus(s, "replaying rendezvous keys");
      if (!retag(InstanceOf(context))) return Status::Ok();  // moved again
      std::lock_guard<std::mutex> lock(mu);
      auto it = sets.find(key);
      if (it != sets.end() && it->second.value == value) {
        it->second.instance = current;
      }
    }
    for (const auto& [key, delta] : to_add) {
      grpc::ClientContext context;
      rpc::AddToken(&context, token);
      context.set_deadline(deadline);
      context.set_wait_for_ready(true);
      proto::KvAddRequest request;
      request.set_job_id(job_id);
      request.set_key(key);
      request.set_delta(delta);
      proto::KvAddResponse response;
      grpc::Status s = stub->KvAdd(&context, request, &response);
      if (!s.ok()) return rpc::FromGrpcStatus(s, "replaying rendezvous keys");
      if (!retag(InstanceOf(context))) return Status::Ok();
      std::lock_guard<std::mutex> lock(mu);
      std::map<std::string, std::int64_t>& by_instance = adds[key];
      std::int64_t moved = 0;
      for (auto it = by_instance.begin(); it != by_instance.end();) {
        if (it->first != current) {
          moved += it->second;
          it = by_instance.erase(it);
        } else {
          ++it;
        }
      }
      by_instance[current] += moved;
    }
    return Status::Ok();
  }

  // Asks which instance answers now (an empty KvCheck) and replays what it
  // lacks; called before retrying after UNAVAILABLE.
  Status Resync(Clock::time_point deadline) const {
    grpc::ClientContext context;
    rpc::AddToken(&context, token);
    context.set_deadline(deadline);
    context.set_wait_for_ready(true);
    proto::KvCheckRequest request;
    request.set_job_id(job_id);
    proto::KvCheckResponse response;
    grpc::Status s = stub->KvCheck(&context, request, &response);
    if (!s.ok()) return rpc::FromGrpcStatus(s, "KvCheck to " + address);
    {
      std::lock_guard<std::mutex> lock(mu);
      suspect = false;
    }
    (void)Observe(InstanceOf(context));
    return Replay(deadline);
  }

  bool Suspect() const {
    std::lock_guard<std::mutex> lock(mu);
    return suspect;
  }

  // Runs `rpc(context)` until it returns anything but UNAVAILABLE or the
  // deadline passes, backing off between tries; before each retry (and
  // after any answer from a new coordinator instance) it replays what a
  // restarted coordinator lost. With `patient`, a call also waits for the
  // channel to connect instead of failing at once. `seen` (optional) gets
  // the instance that answered.
  template <typename Rpc>
  Status Call(const char* name, Clock::time_point deadline, Rpc&& rpc,
              bool patient = true, std::string* seen = nullptr) const {
    milliseconds backoff(20);
    const std::string what =
        std::string(name) + " to " + address + " (job " + job_id + ")";
    for (;;) {
      if (patient && Suspect()) {
        Status synced = Resync(deadline);
        if (!synced.ok() && synced.code() != StatusCode::kUnavailable) {
          return Status(synced.code(), what + ": " + synced.message());
        }
      }
      grpc::ClientContext context;
      rpc::AddToken(&context, token);
      context.set_deadline(deadline);
      context.set_wait_for_ready(patient);
      grpc::Status s = rpc(&context);
      if (s.error_code() != grpc::StatusCode::UNAVAILABLE) {
        const std::string answered = InstanceOf(context);
        if (seen != nullptr) *seen = answered;
        if (patient && Observe(answered)) {
          Status replayed = Replay(deadline);
          if (!replayed.ok()) {
            std::lock_guard<std::mutex> lock(mu);
            suspect = true;
          }
        }
        return rpc::FromGrpcStatus(s, what);
      }
      if (!patient) return rpc::FromGrpcStatus(s, what);
      {
        std::lock_guard<std::mutex> lock(mu);
        suspect = true;
      }
      auto left =
          std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
      if (left <= milliseconds(0)) return rpc::FromGrpcStatus(s, what);
      std::this_thread::sleep_for(std::min(backoff, left));
      backoff = std::min(backoff * 2, milliseconds(1000));
    }
  }

  Clock::time_point OpDeadline() const {
    return Clock::now() + options.op_timeout;
  }

  // The error for keys that did not appear within `timeout`: asks the
  // coordinator which are still missing, falling back to all of them. The
  // question is asked once, briefly: the caller's time is already up.
  Status Missing(const std::vector<std::string>& keys, milliseconds timeout,
                 const Status& cause) const {
    std::vector<std::string> missing;
    proto::KvCheckRequest request;
    request.set_job_id(job_id);
    for (const std::string& k : keys) request.add_keys(Key(k));
    proto::KvCheckResponse response;
    Status check = Call(
        "KvCheck", Clock::now() + milliseconds(1000),
        [&](grpc::ClientContext* c) {
          return stub->KvCheck(c, request, &response);
        },
        /*patient=*/false);
    if (check.ok()) {
      for (const std::string& k : response.missing()) {
        missing.push_back(k.substr(prefix.size()));
      }
    } else {
      missing = keys;
    }
    std::string names;
    for (const std::string& k : missing) {
      names += (names.empty() ? "`" : ", `") + k + "`";
    }
    std::string text = "timed out after " + std::to_string(timeout.count()) +
                       " ms waiting for rendezvous key" +
                       (missing.size() == 1 ? " " : "s ") + names + " of job " +
                       job_id + " attempt " + std::to_string(attempt);
    if (!check.ok()) text += " (" + cause.message() + ")";
    return DeadlineExceeded(text);
  }
};

CoordinatorKvStore::CoordinatorKvStore(const std::string& coordinator_address,
                                       std::string token, std::string job_id,
                                       int attempt,
                                       CoordinatorKvStoreOptions options)
    : impl_(new Impl{
          coordinator_address, std::move(token), std::move(job_id), attempt,
          KeyPrefix(attempt), options,
          proto::Coordinator::NewStub(rpc::MakeChannel(coordinator_address))}) {
}

CoordinatorKvStore::~CoordinatorKvStore() = default;

std::string CoordinatorKvStore::KeyPrefix(int attempt) {
  return "a" + std::to_string(attempt) + "/";
}

Status CoordinatorKvStore::Set(const std::string& key,
                               const std::string& value) {
  proto::KvSetRequest request;
  request.set_job_id(impl_->job_id);
  request.set_key(impl_->Key(key));
  request.set_value(value);
  proto::KvSetResponse response;
  std::string seen;
  DSTRAIN_RETURN_IF_ERROR(impl_->Call(
      "KvSet", impl_->OpDeadline(),
      [&](grpc::ClientContext* c) {
        return impl_->stub->KvSet(c, request, &response);
      },
      /*patient=*/true, &seen));
  impl_->RecordSet(request.key(), value, seen);
  return Status::Ok();
}

StatusOr<std::string> CoordinatorKvStore::Get(const std::string& key,
                                              milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  proto::KvGetRequest request;
  request.set_job_id(impl_->job_id);
  request.set_key(impl_->Key(key));
  // Get first and wait only for an absent key: in a rendezvous most keys a
  // rank reads are already there, and this saves a round trip for each.
  for (;;) {
    proto::KvGetResponse response;
    DSTRAIN_RETURN_IF_ERROR(
        impl_->Call("KvGet", std::max(deadline, impl_->OpDeadline()),
                    [&](grpc::ClientContext* c) {
                      return impl_->stub->KvGet(c, request, &response);
                    }));
    if (response.found()) return response.value();
    // Absent (or deleted after a wait): wait for it, then get it again.
    auto left =
        std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    DSTRAIN_RETURN_IF_ERROR(Wait({key}, std::max(left, milliseconds(0))));
  }
}

StatusOr<std::int64_t> CoordinatorKvStore::Add(const std::string& key,
                                               std::int64_t delta) {
  proto::KvAddRequest request;
  request.set_job_id(impl_->job_id);
  request.set_key(impl_->Key(key));
  request.set_delta(delta);
  proto::KvAddResponse response;
  std::string seen;
  DSTRAIN_RETURN_IF_ERROR(impl_->Call(
      "KvAdd", impl_->OpDeadline(),
      [&](grpc::ClientContext* c) {
        return impl_->stub->KvAdd(c, request, &response);
      },
      /*patient=*/true, &seen));
  impl_->RecordAdd(request.key(), delta, seen);
  return response.value();
}

StatusOr<std::string> CoordinatorKvStore::CompareSet(
    const std::string& key, const std::string& expected,
    const std::string& desired) {
  proto::KvCompareSetRequest request;
  request.set_job_id(impl_->job_id);
  request.set_key(impl_->Key(key));
  request.set_expected(expected);
  request.set_desired(desired);
  proto::KvCompareSetResponse response;
  std::string seen;
  DSTRAIN_RETURN_IF_ERROR(impl_->Call(
      "KvCompareSet", impl_->OpDeadline(),
      [&](grpc::ClientContext* c) {
        return impl_->stub->KvCompareSet(c, request, &response);
      },
      /*patient=*/true, &seen));
  // Swapped in: the value is this client's to restore.
  if (response.value() == desired) {
    impl_->RecordSet(request.key(), desired, seen);
  }
  return response.value();
}

StatusOr<bool> CoordinatorKvStore::Delete(const std::string& key) {
  proto::KvDeleteRequest request;
  request.set_job_id(impl_->job_id);
  request.set_key(impl_->Key(key));
  proto::KvDeleteResponse response;
  DSTRAIN_RETURN_IF_ERROR(
      impl_->Call("KvDelete", impl_->OpDeadline(), [&](grpc::ClientContext* c) {
        return impl_->stub->KvDelete(c, request, &response);
      }));
  impl_->RecordDelete(request.key());
  return response.deleted();
}

StatusOr<bool> CoordinatorKvStore::Check(const std::vector<std::string>& keys) {
  proto::KvCheckRequest request;
  request.set_job_id(impl_->job_id);
  for (const std::string& k : keys) request.add_keys(impl_->Key(k));
  proto::KvCheckResponse response;
  DSTRAIN_RETURN_IF_ERROR(
      impl_->Call("KvCheck", impl_->OpDeadline(), [&](grpc::ClientContext* c) {
        return impl_->stub->KvCheck(c, request, &response);
      }));
  return response.all_present();
}

StatusOr<std::int64_t> CoordinatorKvStore::NumKeys() {
  proto::KvCheckRequest request;
  request.set_job_id(impl_->job_id);
  proto::KvCheckResponse response;
  DSTRAIN_RETURN_IF_ERROR(
      impl_->Call("KvCheck", impl_->OpDeadline(), [&](grpc::ClientContext* c) {
        return impl_->stub->KvCheck(c, request, &response);
      }));
  return response.num_keys();
}

Status CoordinatorKvStore::Wait(const std::vector<std::string>& keys,
                                milliseconds timeout) {
  if (keys.empty()) return Status::Ok();
  proto::KvWaitRequest request;
  request.set_job_id(impl_->job_id);
  for (const std::string& k : keys) request.add_keys(impl_->Key(k));
  proto::KvWaitResponse response;
  Status s = impl_->Call("KvWait", Clock::now() + timeout,
                         [&](grpc::ClientContext* c) {
                           return impl_->stub->KvWait(c, request, &response);
                         });
  if (s.code() == StatusCode::kDeadlineExceeded) {
    return impl_->Missing(keys, timeout, s);
  }
  return s;
}

StatusOr<rendezvous::FenceRecords> CoordinatorKvStore::Fence(
    const rendezvous::FenceRequest& fence) {
  DSTRAIN_RETURN_IF_ERROR(rendezvous::CheckFenceRequest(fence));
  proto::KvFenceRequest request;
  request.set_job_id(impl_->job_id);
  request.set_name(impl_->Key(fence.name));
  request.set_world(fence.world);
  proto::KvFenceRecord* mine = request.add_contributions();
  mine->set_rank(fence.rank);
  mine->set_record(fence.record);
  for (int r : fence.want) request.add_want(r);
  proto::KvFenceResponse response;
  std::string seen;
  Status s = impl_->Call(
      "KvFence", Clock::now() + fence.timeout,
      [&](grpc::ClientContext* c) {
        response.Clear();
        return impl_->stub->KvFence(c, request, &response);
      },
      /*patient=*/true, &seen);
  if (s.code() == StatusCode::kDeadlineExceeded) {
    return DeadlineExceeded(
        "fence `" + fence.name + "` of " + std::to_string(fence.world) +
        " ranks (job " + impl_->job_id + " attempt " +
        std::to_string(impl_->attempt) + ") did not complete within " +
        std::to_string(fence.timeout.count()) + " ms" +
        rendezvous::FenceLatecomers(*this, fence.name, fence.world));
  }
  DSTRAIN_RETURN_IF_ERROR(s);
  impl_->RecordSet(
      impl_->Key(rendezvous::FenceRecordKey(fence.name, fence.rank)),
      fence.record, seen);
  impl_->RecordAdd(impl_->Key(rendezvous::FenceCountKey(fence.name)), 1, seen);
  impl_->RecordSet(impl_->Key(rendezvous::FenceDoneKey(fence.name)), "1", seen);
  rendezvous::FenceRecords records;
  for (const proto::KvFenceRecord& r : response.records()) {
    records[r.rank()] = r.record();
  }
  for (int r : fence.want) {
    if (records.count(r) == 0) {
      return Internal("fence `" + fence.name + "`: the answer lacks rank " +
                      std::to_string(r) + "'s record");
    }
  }
  return records;
}

}  // namespace dstrain::coordinator
