#pragma once
// The worker's machine-readable output: one JSON object per line on the
// metrics fd (DSTRAIN_METRICS_FD, common/contract/worker_env.h), with the
// field names of proto StepMetrics and RankResult (proto/dstrain.proto), so
// the agent parses a line straight into the message:
//
//   {"type":"step","job_id":"j","rank":0,"attempt":0,"step":1,
//    "total_steps":300,"loss":5.54,"lr":0.0003,"grad_norm":1.2,
//    "tokens_per_s":9000,"step_time_s":0.2,"comm_time_s":0.01,
//    "data_wait_s":0.001,"loss_scale":1,"skipped":false,"skipped_steps":0,"elapsed_s":0.2,
//    "peak_rss_bytes":123456,"param_bytes":1750016,"grad_bytes":1750016,
//    "optimizer_bytes":3500032,"model_state_peak_bytes":7000064,
//    "activation_peak_bytes":9437184,"checkpoint_s":0,
//    "device_peak_bytes":0}
//   {"type":"result","rank":0,"steps":300,"final_loss":2.1,
//    "param_digest":"0123456789abcdef","param_count":437504}
//
// StepMetrics is also what the training engine reports after each step
// (worker/engine/trainer.h), so a field added here reaches the wire, the
// agent and the coordinator without another list to keep in step; the
// agent's round-trip test fails when the proto lacks one.
//
// Written with common/json_writer.h: doubles in the shortest form that
// round-trips, non-finite values as null. Each line ends with '\n'. Pure
// functions; thread-safe.

#include <cstdint>
#include <string>

namespace dstrain::contract {

// Who wrote a line.
struct LineLabels {
  std::string job_id;
  int rank = 0;
  int attempt = 0;
};

// One optimizer step as one rank saw it.
struct StepMetrics {
  int step = 0;  // 1-based
  int total_steps = 0;
  double loss = 0;  // mean over this step's global batch (all ranks)
  double lr = 0;
  double grad_norm = 0;     // before clipping
  double tokens_per_s = 0;  // whole job: global batch tokens / step time
  double step_time_s = 0;
  double comm_time_s = 0;
  // Time the step waited for its batches (the prefetching reader was
  // behind): the data loader's share of the step.
  double data_wait_s = 0;
  // The fp16 loss scale this step's loss was multiplied by (1 without a
  // loss scaler: amp.dtype off or bf16).
  double loss_scale = 1;
  // Some rank's gradient held inf/NaN, so every rank skipped this step's
  // optimizer update (fp16 loss scaling); skipped_steps counts them so far.
  bool skipped = false;
  int skipped_steps = 0;
  double elapsed_s = 0;
  std::int64_t peak_rss_bytes = 0;  // the process's, since it started
  // Model state this rank holds at the end of the step (bytes): parameters
  // (fp32 master and compute copies, gathered units still held),
  // gradients, optimizer state (AdamW moments).
  std::int64_t param_bytes = 0;
  std::int64_t grad_bytes = 0;
  std::int64_t optimizer_bytes = 0;
  // The most model state held at once during the step: the above plus
  // gathered units and full gradients in flight (ZeRO-3).
  std::int64_t model_state_peak_bytes = 0;
  // The most activation memory live at once during the step: CPU tensors
  // allocated on the rank's thread that are neither model state nor
  // collective scratch (saved activations, temporaries, gradients before
  // they reach their buffers), counted by the engine's allocator
  // (worker/base/memory_tracker.h); 0 where it cannot count (CUDA).
  std::int64_t activation_peak_bytes = 0;
  // Seconds the training loop spent writing the checkpoint due after the
  // previous step (the part it waited for; with checkpoint.async the
  // host copy), 0 when none was due: what a preemption's checkpoint is
  // expected to take.
  double checkpoint_s = 0;
  // GPU jobs: the most device memory allocated at once during the step,
  // from the CUDA caching allocator's statistics (what
  // torch.cuda.max_memory_allocated() reports); 0 on CPU jobs.
  std::int64_t device_peak_bytes = 0;
};

// What a rank ended with.
struct RankResult {
  int steps = 0;
  double final_loss = 0;
  // FNV-1a 64 of every parameter's bytes in registration order, as 16 hex
  // digits: ranks with equal digests hold bitwise-equal parameters.
  std::string param_digest;
  std::int64_t param_count = 0;
};

std::string StepLine(const LineLabels& labels, const StepMetrics& step);
std::string ResultLine(const LineLabels& labels, const RankResult& result);

}  // namespace dstrain::contract
