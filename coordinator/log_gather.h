#pragma once
// `dstrain logs JOB` on the coordinator: which agents to read which ranks
// from (PlanLogReads), and the one answer made of theirs (MergeLogReads).
// Pure; the service makes the calls (coordinator_service.h, GetLogs).

#include <string>
#include <vector>

#include "common/status.h"
#include "coordinator/node_manager.h"
#include "dstrain.pb.h"

namespace dstrain::coordinator {

struct LogRead {
  std::string node_id;
  std::string host;
  std::string agent_address;
  bool lost = false;  // the node is lost: its agent is not asked
  proto::ReadLogsRequest request;
};

// One read per node holding a wanted rank of `job`'s placement, for the
// request's attempt (default: the job's current one). NOT_FOUND naming
// what is missing for a rank outside the job or a node it does not run
// on; FAILED_PRECONDITION for a job not placed (yet).
StatusOr<std::vector<LogRead>> PlanLogReads(
    const proto::GetLogsRequest& request, const proto::JobStatus& job,
    const std::vector<NodeInfo>& nodes);

// Every line in time order (then rank, then number) with its node's name,
// every cursor, the dropped count, and "host: why" for each read that
// failed (`results[i]` answers `reads[i]`; a NOT_FOUND answer means the
// node kept nothing of the job, not a failure).
proto::GetLogsResponse MergeLogReads(
    const std::vector<LogRead>& reads,
    const std::vector<StatusOr<proto::ReadLogsResponse>>& results, int attempt);

}  // namespace dstrain::coordinator
