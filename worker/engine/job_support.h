#pragma once
// What this build of the engine can run, checked before anything starts:
// a job asking for a feature a later issue adds (ZeRO stages > 0, AMP,
// recompute, CUDA, the nccl/mpi backends) gets an UNIMPLEMENTED error
// naming the field, instead of silently training something else. Pure.

#include <string>

#include "common/config/job_config.h"
#include "common/status.h"
#include "worker/engine/train.h"

namespace dstrain::engine {

Status CheckEngineSupports(const config::JobConfig& job,
                           const RankContext& ctx);

// data.path, resolved against the job file's folder when relative.
std::string ResolveDataPath(const config::JobConfig& job);

}  // namespace dstrain::engine
