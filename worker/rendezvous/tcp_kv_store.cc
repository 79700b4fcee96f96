#include "worker/rendezvous/tcp_kv_store.h"

#include <exception>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "worker/base/torch_error.h"

namespace dstrain::rendezvous {
namespace {

Status FromException(const std::exception& e, const std::string& what) {
  const std::string msg = what + ": " + base::OneLine(e);
  if (msg.find("imeout") != std::string::npos ||
      msg.find("timed out") != std::string::npos) {
    return DeadlineExceeded(msg);
  }
  return Unavailable(msg);
}

std::vector<uint8_t> Bytes(const std::string& s) {
  return std::vector<uint8_t>(s.begin(), s.end());
}

class TcpKvStore : public KeyValueStore {
 public:
  TcpKvStore(c10::intrusive_ptr<c10d::TCPStore> store, std::string where)
      : store_(std::move(store)), where_(std::move(where)) {}

  Status Set(const std::string& key, const std::string& value) override {
    try {
      store_->set(key, Bytes(value));
      return Status::Ok();
    } catch (const std::exception& e) {
      return FromException(e, Where("set", key));
    }
  }

  StatusOr<std::string> Get(const std::string& key,
                            std::chrono::milliseconds timeout) override {
    try {
      store_->wait({key}, timeout);
      const std::vector<uint8_t> v = store_->get(key);
      return std::string(v.begin(), v.end());
    } catch (const std::exception& e) {
      return FromException(e, Where("get", key));
    }
  }

  StatusOr<std::int64_t> Add(const std::string& key,
                             std::int64_t delta) override {
    try {
      return store_->add(key, delta);
    } catch (const std::exception& e) {
      return FromException(e, Where("add", key));
    }
  }

  StatusOr<std::string> CompareSet(const std::string& key,
                                   const std::string& expected,
                                   const std::string& desired) override {
    try {
      const std::vector<uint8_t> v =
          store_->compareSet(key, Bytes(expected), Bytes(desired));
      return std::string(v.begin(), v.end());
    } catch (const std::exception& e) {
      return FromException(e, Where("compare-set", key));
    }
  }

  StatusOr<bool> Delete(const std::string& key) override {
    try {
      return store_->deleteKey(key);
    } catch (const std::exception& e) {
      return FromException(e, Where("delete", key));
    }
  }

  StatusOr<bool> Check(const std::vector<std::string>& keys) override {
    try {
      return store_->check(keys);
    } catch (const std::exception& e) {
      return FromException(e, "check on TCPStore " + where_);
    }
  }

  StatusOr<std::int64_t> NumKeys() override {
    try {
      return store_->getNumKeys();
    } catch (const std::exception& e) {
      return FromException(e, "key count of TCPStore " + where_);
    }
  }

  Status Wait(const std::vector<std::string>& keys,
              std::chrono::milliseconds timeout) override {
    try {
      store_->wait(keys, timeout);
      return Status::Ok();
    } catch (const std::exception& e) {
      return FromException(e, "wait on TCPStore " + where_);
    }
  }

 private:
  std::string Where(const char* op, const std::string& key) const {
    return std::string(op) + " `" + key + "` on TCPStore " + where_;
  }

  c10::intrusive_ptr<c10d::TCPStore> store_;
  const std::string where_;
};

}  // namespace

StatusOr<std::shared_ptr<KeyValueStore>> ConnectTcpStore(
    const TcpStoreOptions& options, int* bound_port) {
  std::string where = options.host + ":" + std::to_string(options.port);
  const int lowest = options.is_server ? 0 : 1;
  if (options.port < lowest || options.port > 65535) {
    return InvalidArgument("TCPStore port " + std::to_string(options.port) +
                           " is not in " + std::to_string(lowest) + "..65535");
  }
  try {
    c10d::TCPStoreOptions o;
    o.port = static_cast<std::uint16_t>(options.port);
    o.isServer = options.is_server;
    o.numWorkers = static_cast<std::size_t>(options.world_size);
    o.waitWorkers = false;  // the gloo rendezvous waits for everyone anyway
    o.timeout = options.timeout;
    auto store = c10::make_intrusive<c10d::TCPStore>(options.host, o);
    if (bound_port != nullptr) *bound_port = store->getPort();
    where = options.host + ":" + std::to_string(store->getPort());
    return std::shared_ptr<KeyValueStore>(
        std::make_shared<TcpKvStore>(std::move(store), where));
  } catch (const std::exception& e) {
    return FromException(e, std::string("cannot ") +
                                (options.is_server ? "serve" : "reach") +
                                " TCPStore " + where);
  }
}

}  // namespace dstrain::rendezvous
