#pragma once
// How tensors and reduce ops map onto MPI (internal to the mpi backend).
//
// dtypes: float32 MPI_FLOAT, float64 MPI_DOUBLE, int32 MPI_INT32_T, int64
// MPI_INT64_T, uint8 MPI_UINT8_T; float16 and bfloat16 travel as
// MPI_UINT16_T (MPI has no half types) and are reduced by user-defined
// MPI_Ops that convert each element to float, combine and round back, the
// way c10's Half/BFloat16 arithmetic does.
//
// ops: sum, max, min map to MPI_SUM, MPI_MAX, MPI_MIN (or the half ops);
// avg is not an MPI op: the backend sums, then divides.
//
// Needs MPI initialised (InitMpi); the user ops are created on first use
// and live until MPI_Finalize. Callers hold MpiCallMutex().

#include <c10/core/ScalarType.h>

#include "common/status.h"
#include "worker/comm/communicator.h"
#include "worker/comm/mpi/mpi_include.h"

namespace dstrain::comm::mpi {

// INVALID_ARGUMENT for dtypes the backend does not carry.
StatusOr<MPI_Datatype> DatatypeFor(at::ScalarType type);

// The op that reduces `type` elements for `op` (kAvg: the sum).
MPI_Op OpFor(ReduceOp op, at::ScalarType type);

// The half-precision combiners, exposed for the unit test: inout[i] =
// op(in[i], inout[i]) over `*len` elements of 16-bit floats.
void HalfSum(void* in, void* inout, int* len, MPI_Datatype* type);
void HalfMax(void* in, void* inout, int* len, MPI_Datatype* type);
void HalfMin(void* in, void* inout, int* len, MPI_Datatype* type);
void BFloat16Sum(void* in, void* inout, int* len, MPI_Datatype* type);
void BFloat16Max(void* in, void* inout, int* len, MPI_Datatype* type);
void BFloat16Min(void* in, void* inout, int* len, MPI_Datatype* type);

}  // namespace dstrain::comm::mpi
