#pragma once
// The shape checker: a Communicator that wraps another and, before every
// collective, all-gathers a small fingerprint (operation, dtype, element
// count, reduce op or root; collective_fingerprint.h) over the wrapped
// communicator and compares them, so a rank that calls a different
// collective or passes a different size fails with INVALID_ARGUMENT naming
// the collective and every rank's view:
//   "gloo all-reduce #3: ranks disagree on the collective: ranks 0, 1:
//    all-reduce of 7 x float32 (sum); rank 2: all-reduce of 8 x float32 (sum)"
// instead of hanging or corrupting memory inside the backend. Every rank
// sees the same fingerprints, so every rank refuses the same collective and
// the group stays usable. Like PyTorch's ProcessGroupWrapper under
// TORCH_DISTRIBUTED_DEBUG=DETAIL.
//
// Cost: one extra small all-gather per collective, waited on before the
// collective starts (so collectives no longer overlap each other). A
// debugging aid: turned on by DSTRAIN_COMM_CHECK=1 in the environment or by
// the factory option (MaybeWithShapeChecks).
//
// Sequence numbers: the wrapper numbers the caller's collectives; errors
// from inside the wrapped backend carry the backend's own numbers, which
// count the fingerprint exchanges too (two per collective).
//
// Threads: as the wrapped communicator (one issuing thread).

#include <c10/core/Device.h>

#include <memory>

#include "worker/comm/communicator.h"

namespace dstrain::comm {

// Wraps `inner`; fingerprints are exchanged as int64 tensors on `device`
// (the device the wrapped backend takes tensors on). Sub-communicators from
// Split are checked too.
std::unique_ptr<Communicator> WithShapeChecks(
    std::unique_ptr<Communicator> inner,
    c10::Device device = c10::Device(c10::kCPU));

// The same over a communicator owned elsewhere, which must outlive the
// wrapper (the test harness wraps the communicators it owns).
std::unique_ptr<Communicator> WithShapeChecksBorrowed(
    Communicator* inner, c10::Device device = c10::Device(c10::kCPU));

// True when DSTRAIN_COMM_CHECK is set to 1, true, yes or on.
bool ShapeChecksRequestedByEnv();

// Wraps when `requested` or ShapeChecksRequestedByEnv(); otherwise returns
// `inner` unchanged. What communicator factories call.
std::unique_ptr<Communicator> MaybeWithShapeChecks(
    std::unique_ptr<Communicator> inner, bool requested,
    c10::Device device = c10::Device(c10::kCPU));

}  // namespace dstrain::comm
