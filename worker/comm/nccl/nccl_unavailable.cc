// CreateNcclCommunicator in a build without CUDA or NCCL (DSTRAIN_HAVE_NCCL
// off): callers need no #ifdef, and the error says what to do.
#include "worker/comm/nccl/nccl_communicator.h"

namespace dstrain::comm {

StatusOr<std::unique_ptr<Communicator>> CreateNcclCommunicator(
    std::shared_ptr<rendezvous::KeyValueStore>, int, int, const NcclOptions&) {
  return FailedPrecondition(
      "this dstrain was built without NCCL (CMake found no CUDA toolkit with "
      "nccl.h); rebuild where both are installed, or use backend gloo or mpi");
}

std::string NcclRuntimeVersion() { return "not built in"; }

}  // namespace dstrain::comm
