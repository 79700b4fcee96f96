#pragma once
// Where a job's checkpoints live and which of them count (docs/engine.md,
// "Checkpoints"): what the workers write and the launcher reads (to say
// where a resumed run starts). Pure file-system logic; no torch.
//
// A checkpoint directory `<dir>` holds:
//   step-<N>/               complete: every shard and then the manifest were
//                           written, and rank 0 renamed the directory
//   step-<N>.tmp-<attempt>/ being written (or left by a crash: ignored, and
//                           removed by rank 0 of the next run)
//   step-<N>.old-<attempt>/ a replaced checkpoint on its way out (ditto)
// Only `step-<N>` with a manifest.txt is a candidate for resuming; whether
// its files really verify is checked when it is loaded.

#include <cstdint>
#include <string>
#include <vector>

#include "common/config/job_config.h"

namespace dstrain::contract {

// The file whose presence makes a step directory complete.
inline constexpr char kManifestFile[] = "manifest.txt";

std::string StepDirName(std::int64_t step);                  // "step-30"
std::string TempDirName(std::int64_t step, int attempt);     // ".tmp-<a>"
std::string RetiredDirName(std::int64_t step, int attempt);  // ".old-<a>"

// The steps of the complete-looking checkpoints in `dir` (a `step-<N>`
// directory with a manifest.txt inside), newest first. A missing `dir` has
// none.
std::vector<std::int64_t> ListCheckpoints(const std::string& dir);

// Names (not paths) of the leftover `step-<N>.tmp-*` and `.old-*`
// directories in `dir`.
std::vector<std::string> ListLeftovers(const std::string& dir);

// Of `newest_first`, the steps beyond the newest `keep` (keep < 1 keeps all).
std::vector<std::int64_t> StepsToPrune(
    const std::vector<std::int64_t>& newest_first, int keep);

// The job's checkpoint directory: `checkpoint.dir` when absolute; relative
// to the job file's folder when relative (as `data.path`); empty: `ckpt`
// inside `run_dir` (the worker's DSTRAIN_RUN_DIR), or `runs/<name>/ckpt`
// under the current directory when no run directory is known (the run
// directory `dstrain launch` would use).
std::string ResolveCheckpointDir(const config::JobConfig& job,
                                 const std::string& run_dir);

}  // namespace dstrain::contract
