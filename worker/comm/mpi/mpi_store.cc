#include "worker/comm/mpi/mpi_store.h"

#include <cstring>
#include <mutex>
#include <optional>
#include <string_view>

#include "common/strings.h"
#include "worker/comm/mpi/mpi_include.h"
#include "worker/comm/mpi/mpi_runtime.h"
#include "worker/rendezvous/tcp_kv_store.h"

namespace dstrain::comm::mpi {
namespace {

// "host:port", or "!" followed by rank 0's error.
constexpr int kMessageBytes = 1024;

}  // namespace

StatusOr<std::shared_ptr<rendezvous::KeyValueStore>> ConnectMpiStore(
    const MpiStoreOptions& options) {
  DSTRAIN_ASSIGN_OR_RETURN(MpiProcessInfo info, InitMpi());
  DSTRAIN_RETURN_IF_ERROR(CheckMpiCallingThread());

  rendezvous::TcpStoreOptions o;
  o.world_size = info.size;
  o.timeout = options.timeout;
  std::shared_ptr<rendezvous::KeyValueStore> mine;
  char message[kMessageBytes] = {};
  if (info.rank == 0) {
    o.host = options.host;
    o.port = 0;  // any free port: nobody has to pick one
    o.is_server = true;
    int port = 0;
    StatusOr<std::shared_ptr<rendezvous::KeyValueStore>> served =
        rendezvous::ConnectTcpStore(o, &port);
    const std::string text = served.ok()
                                 ? options.host + ":" + std::to_string(port)
                                 : "!" + served.status().message();
    std::strncpy(message, text.c_str(), kMessageBytes - 1);
    if (served.ok()) mine = *served;
  }
  int rc;
  {
    std::lock_guard<std::mutex> lock(MpiCallMutex());
    rc = MPI_Bcast(message, kMessageBytes, MPI_CHAR, 0, MPI_COMM_WORLD);
  }
  if (rc != MPI_SUCCESS) {
    return Unavailable("broadcasting the rendezvous store's address failed: " +
                       MpiErrorString(rc));
  }
  const std::string where(message);
  if (where.empty() || where[0] == '!') {
    return Unavailable(
        "rank 0 could not serve the rendezvous store: " +
        (where.empty() ? std::string("no address") : where.substr(1)));
  }
  if (info.rank == 0) return mine;
  const std::size_t colon = where.rfind(':');
  const std::optional<int> port =
      colon == std::string::npos
          ? std::nullopt
          : ParseInteger<int>(std::string_view(where).substr(colon + 1));
  if (!port) {
    return Unavailable("rank 0 sent a rendezvous address without a port: " +
                       where);
  }
  o.host = where.substr(0, colon);
  o.port = *port;
  o.is_server = false;
  return rendezvous::ConnectTcpStore(o);
}

}  // namespace dstrain::comm::mpi
