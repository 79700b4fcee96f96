#pragma once
// The loss scaler's whole state as plain values (no torch), so checkpoints
// can store it and a resumed run continues the same scale sequence.
//
// The fields are torch.amp.GradScaler.state_dict()'s ("scale",
// "growth_factor", "backoff_factor", "growth_interval", "_growth_tracker")
// plus `enabled` (GradScaler's state_dict is empty when disabled; here a
// disabled state says so explicitly: scale 1, never skips, as for bf16).
//
// Serialize/Parse write and read one line of text, e.g.
//   loss_scaler v1 enabled=1 scale=0x1p+16 growth_tracker=17
//     growth_factor=0x1p+1 backoff_factor=0x1p-1 growth_interval=2000
// (one line; wrapped here). Floating values are hexadecimal (%a), so the
// round trip is exact; keys may come in any order, all are required, and
// an unknown key, a bad number or a missing key is an INVALID_ARGUMENT naming
// it. Validate() holds a state to what the scaler accepts.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace dstrain::amp {

struct LossScalerState {
  bool enabled = true;
  // The current scale: a float32 value, held as double (exactly).
  double scale = 65536.0;
  // Consecutive clean (unskipped) steps since the scale last changed or an
  // inf/NaN was found; the scale grows when it reaches growth_interval.
  std::int64_t growth_tracker = 0;
  double growth_factor = 2.0;
  double backoff_factor = 0.5;
  std::int64_t growth_interval = 2000;

  friend bool operator==(const LossScalerState&,
                         const LossScalerState&) = default;
};

// The state of a scaler that does nothing (bf16, or AMP off): scale 1.
LossScalerState DisabledLossScalerState();

// OK when an enabled state has a finite scale > 0, growth_factor > 1,
// 0 < backoff_factor < 1 (GradScaler asserts the two factor bounds),
// growth_interval >= 1 and 0 <= growth_tracker < growth_interval. A disabled
// state must have scale 1. Errors name the field and its value.
Status ValidateLossScalerState(const LossScalerState& state);

std::string SerializeLossScalerState(const LossScalerState& state);

// Parses what SerializeLossScalerState wrote and validates it.
StatusOr<LossScalerState> ParseLossScalerState(std::string_view text);

}  // namespace dstrain::amp
