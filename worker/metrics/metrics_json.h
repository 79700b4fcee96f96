#pragma once
// The worker's machine-readable output: one JSON object per line, with the
// field names of proto StepMetrics and RankResult (proto/dstrain.proto), so
// the agent can parse a line straight into the message:
//
//   {"type":"step","job_id":"j","rank":0,"attempt":0,"step":1,
//    "total_steps":300,"loss":5.54,"lr":0.0003,"grad_norm":1.2,
//    "tokens_per_s":9000,"step_time_s":0.2,"comm_time_s":0.01,
//    "loss_scale":1,"skipped":false,"skipped_steps":0,"elapsed_s":0.2,"peak_rss_bytes":123456,
//    "param_bytes":1750016,"grad_bytes":1750016,"optimizer_bytes":3500032,
//    "model_state_peak_bytes":7000064,"activation_peak_bytes":9437184}
//   {"type":"result","rank":0,"steps":300,"final_loss":2.1,
//    "param_digest":"0123456789abcdef","param_count":437504}
//
// Written with common/json_writer.h: doubles in the shortest form that
// round-trips, non-finite values as null. Each string ends with '\n'.

#include <string>

#include "worker/engine/train.h"

namespace dstrain::metrics {

std::string StepJsonLine(const engine::RankContext& ctx,
                         const engine::StepReport& step);
std::string ResultJsonLine(const engine::RankContext& ctx,
                           const engine::TrainResult& result);

}  // namespace dstrain::metrics
