#include "coordinator/client/coordinator_kv_store.h"

#include <grpcpp/client_context.h>

#include <algorithm>
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

  std::string Key(const std::string& key) const { return prefix + key; }

  // Runs `rpc(context)` until it returns anything but UNAVAILABLE or the
  // deadline passes, backing off between tries. With `patient`, a call also
  // waits for the channel to connect instead of failing at once.
  template <typename Rpc>
  Status Call(const char* name, Clock::time_point deadline, Rpc&& rpc,
              bool patient = true) const {
    milliseconds backoff(20);
    for (;;) {
      grpc::ClientContext context;
      rpc::AddToken(&context, token);
      context.set_deadline(deadline);
      context.set_wait_for_ready(patient);
      grpc::Status s = rpc(&context);
      if (!patient || s.error_code() != grpc::StatusCode::UNAVAILABLE) {
        return rpc::FromGrpcStatus(
            s, std::string(name) + " to " + address + " (job " + job_id + ")");
      }
      auto left =
          std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
      if (left <= milliseconds(0)) {
        return rpc::FromGrpcStatus(
            s, std::string(name) + " to " + address + " (job " + job_id + ")");
      }
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
  return impl_->Call("KvSet", impl_->OpDeadline(), [&](grpc::ClientContext* c) {
    return impl_->stub->KvSet(c, request, &response);
  });
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
  DSTRAIN_RETURN_IF_ERROR(
      impl_->Call("KvAdd", impl_->OpDeadline(), [&](grpc::ClientContext* c) {
        return impl_->stub->KvAdd(c, request, &response);
      }));
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
  DSTRAIN_RETURN_IF_ERROR(impl_->Call(
      "KvCompareSet", impl_->OpDeadline(), [&](grpc::ClientContext* c) {
        return impl_->stub->KvCompareSet(c, request, &response);
      }));
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

}  // namespace dstrain::coordinator
