#include "worker/comm/mpi/mpi_runtime.h"

#include <cstdlib>
#include <optional>
#include <thread>

#include "worker/comm/mpi/mpi_include.h"
#include "common/contract/mpi_launch_env.h"

namespace dstrain::comm::mpi {
namespace {

struct Runtime {
  std::mutex mu;  // guards everything below
  std::optional<MpiProcessInfo> info;
  bool finalized = false;
  std::thread::id init_thread;
};

Runtime& TheRuntime() {
  static Runtime* runtime = new Runtime();  // never destroyed: atexit uses it
  return *runtime;
}

const char* ThreadLevelName(int level) {
  switch (level) {
    case MPI_THREAD_SINGLE:
      return "MPI_THREAD_SINGLE";
    case MPI_THREAD_FUNNELED:
      return "MPI_THREAD_FUNNELED";
    case MPI_THREAD_SERIALIZED:
      return "MPI_THREAD_SERIALIZED";
    case MPI_THREAD_MULTIPLE:
      return "MPI_THREAD_MULTIPLE";
  }
  return "MPI_THREAD_?";
}

void FinalizeAtExit() { FinalizeMpi(); }

}  // namespace

std::string MpiErrorString(int code) {
  char buf[MPI_MAX_ERROR_STRING] = {};
  int len = 0;
  if (MPI_Error_string(code, buf, &len) != MPI_SUCCESS || len <= 0) {
    return "MPI error " + std::to_string(code);
  }
  return std::string(buf, len);
}

StatusOr<MpiProcessInfo> InitMpi() {
  Runtime& rt = TheRuntime();
  std::lock_guard<std::mutex> lock(rt.mu);
  if (rt.info.has_value()) return *rt.info;
  if (rt.finalized) {
    return FailedPrecondition("MPI was finalized; it cannot start again");
  }
  int already = 0;
  MPI_Initialized(&already);
  int provided = MPI_THREAD_SINGLE;
  if (already) {
    MPI_Query_thread(&provided);
  } else {
    const int rc =
        MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided);
    if (rc != MPI_SUCCESS) {
      return Unavailable("MPI_Init_thread failed: " + MpiErrorString(rc));
    }
    std::atexit(FinalizeAtExit);
  }
  // Errors come back as codes (and then Status), never abort the job.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  if (provided < MPI_THREAD_FUNNELED) {
    return FailedPrecondition(std::string("the MPI library gives only ") +
                              ThreadLevelName(provided) +
                              "; dstrain needs at least MPI_THREAD_FUNNELED");
  }
  MpiProcessInfo info;
  MPI_Comm_rank(MPI_COMM_WORLD, &info.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &info.size);
  info.thread_level = provided;
  info.thread_level_name = ThreadLevelName(provided);
  const contract::MpiLaunchEnv env = contract::DetectMpiLaunch();
  if (env.local_rank.has_value() && env.local_size.has_value() &&
      *env.local_rank < *env.local_size) {
    info.local_rank = *env.local_rank;
    info.local_size = *env.local_size;
  } else {
    MPI_Comm node = MPI_COMM_NULL;
    const int rc = MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED,
                                       info.rank, MPI_INFO_NULL, &node);
    if (rc != MPI_SUCCESS) {
      return Unavailable("MPI_Comm_split_type(MPI_COMM_TYPE_SHARED) failed: " +
                         MpiErrorString(rc));
    }
    MPI_Comm_rank(node, &info.local_rank);
    MPI_Comm_size(node, &info.local_size);
    MPI_Comm_free(&node);
  }
  rt.init_thread = std::this_thread::get_id();
  rt.info = info;
  return info;
}

bool MpiReady() {
  Runtime& rt = TheRuntime();
  std::lock_guard<std::mutex> lock(rt.mu);
  return rt.info.has_value();
}

void FinalizeMpi() {
  Runtime& rt = TheRuntime();
  std::lock_guard<std::mutex> lock(rt.mu);
  if (!rt.info.has_value()) return;
  rt.info.reset();
  rt.finalized = true;
  int done = 0;
  MPI_Finalized(&done);
  if (!done) {
    std::lock_guard<std::mutex> call_lock(MpiCallMutex());
    // Nobody leaves (and takes down a store or socket a peer still reads)
    // before everyone is done.
    MPI_Barrier(MPI_COMM_WORLD);
    MPI_Finalize();
  }
}

void AbortMpi(int code) {
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);  // MPI_Abort does not return; this is for the compiler
}

std::mutex& MpiCallMutex() {
  static std::mutex* mu = new std::mutex();
  return *mu;
}

Status CheckMpiCallingThread() {
  Runtime& rt = TheRuntime();
  std::lock_guard<std::mutex> lock(rt.mu);
  if (!rt.info.has_value()) {
    return FailedPrecondition(
        rt.finalized ? "MPI was finalized"
                     : "MPI is not initialised (start the ranks with mpirun)");
  }
  if (rt.info->thread_level < MPI_THREAD_SERIALIZED &&
      std::this_thread::get_id() != rt.init_thread) {
    return FailedPrecondition(
        "the MPI library gives only MPI_THREAD_FUNNELED: call the mpi "
        "communicator from the thread that initialised MPI");
  }
  return Status::Ok();
}

}  // namespace dstrain::comm::mpi
