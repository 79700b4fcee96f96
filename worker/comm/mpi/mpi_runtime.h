#pragma once
// The MPI runtime of this process: started once (MPI_Init_thread), ended
// once (MPI_Finalize), and the rule for which threads may call MPI.
//
// InitMpi asks for MPI_THREAD_SERIALIZED: collectives are issued from one
// thread at a time (communicator.h), Work::Wait may run on another, and no
// helper thread (the progress board's publisher, Gloo's threads) ever calls
// MPI. Every MPI call of the communicators holds MpiCallMutex(), so
// SERIALIZED is all they need. If the library gives only
// MPI_THREAD_FUNNELED, MPI calls are allowed from the thread that called
// InitMpi only (CheckMpiCallingThread says so); below FUNNELED, InitMpi
// fails.
//
// Only processes started by an MPI launcher should call InitMpi
// (mpi_launch_env.h): a plain process would become an MPI singleton.
// This header does not include <mpi.h>.

#include <mutex>
#include <string>

#include "common/status.h"

namespace dstrain::comm::mpi {

struct MpiProcessInfo {
  int rank = 0;  // in MPI_COMM_WORLD
  int size = 1;
  // This process's rank and the process count on its node: Open MPI's
  // OMPI_COMM_WORLD_LOCAL_RANK / _LOCAL_SIZE when set, otherwise from
  // MPI_Comm_split_type(MPI_COMM_TYPE_SHARED).
  int local_rank = 0;
  int local_size = 1;
  int thread_level = 0;           // the MPI_THREAD_* the library gave
  std::string thread_level_name;  // "MPI_THREAD_SERIALIZED"
};

// Initialises MPI on first call (and registers FinalizeMpi with atexit as
// a safety net); later calls return the same info. Call it from the thread
// that will issue collectives. FAILED_PRECONDITION after FinalizeMpi, or
// when the thread level is below FUNNELED.
StatusOr<MpiProcessInfo> InitMpi();

// True between a successful InitMpi and FinalizeMpi.
bool MpiReady();

// A barrier over MPI_COMM_WORLD, then MPI_Finalize, if InitMpi started MPI
// and nobody finalized it yet. Every communicator of this process must be
// destroyed first. Collective: every process calls it (a failing process
// calls AbortMpi instead).
void FinalizeMpi();

// MPI_Abort(MPI_COMM_WORLD, code): the launcher kills every rank and exits
// with `code`. For a rank that fails while its peers may be blocked in a
// collective with it.
[[noreturn]] void AbortMpi(int code);

// Held around every MPI call the communicators make.
std::mutex& MpiCallMutex();

// OK when this thread may call MPI under the level the library gave.
Status CheckMpiCallingThread();

// MPI_Error_string of `code`, or "MPI error <code>".
std::string MpiErrorString(int code);

}  // namespace dstrain::comm::mpi
