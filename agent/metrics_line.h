#pragma once
// Parses one line a worker writes on its metrics pipe (DSTRAIN_METRICS_FD):
//   {"type":"step", <StepMetrics fields>}     after every optimizer step
//   {"type":"result", <RankResult fields>}    once, at the end
// Field names are the proto's (snake_case or lowerCamel); unknown fields are
// ignored so workers may add fields before the proto does. Pure function.

#include <string_view>

#include "common/status.h"
#include "dstrain.pb.h"

namespace dstrain::agent {

struct MetricsLine {
  enum class Kind { kStep, kResult };
  Kind kind = Kind::kStep;
  proto::StepMetrics step;   // valid when kind == kStep
  proto::RankResult result;  // valid when kind == kResult
};

// INVALID_ARGUMENT for text that is not a JSON object, lacks a string
// "type", names an unknown type, or has a field of the wrong type.
StatusOr<MetricsLine> ParseMetricsLine(std::string_view line);

}  // namespace dstrain::agent
