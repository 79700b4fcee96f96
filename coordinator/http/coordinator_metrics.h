#pragma once
// What the coordinator exports to Prometheus at /metrics: the metric
// families built from one snapshot of its jobs and nodes. Pure; the HTTP
// server takes the snapshot (TakeSnapshot) and writes the families out
// (prometheus_text.h).
//
// Cluster: dstrain_jobs{state}, dstrain_queue_length, dstrain_nodes{state},
// dstrain_nodes_busy, dstrain_coordinator_start_time_seconds,
// dstrain_build_info{version}. Per job (labels job_id, name): dstrain_job_info
// (with state), dstrain_job_step, dstrain_job_total_steps, dstrain_job_loss,
// dstrain_job_tokens_per_second, dstrain_job_world_size,
// dstrain_job_restarts_total, dstrain_job_startup_seconds and the summary
// dstrain_job_step_seconds (quantiles 0.5, 0.9, 0.99 over the retained
// recent steps; _sum and _count over every step this coordinator saw).
// Per rank, only with per_rank (16,384 ranks would flood a scrape):
// dstrain_rank_step, dstrain_rank_step_seconds,
// dstrain_rank_comm_seconds, dstrain_rank_tokens_per_second,
// dstrain_rank_loss_scale, dstrain_rank_peak_rss_bytes (labels job_id, rank,
// host). docs/operators.md lists them with their meanings.

#include <string>
#include <vector>

#include "coordinator/http/prometheus_text.h"
#include "coordinator/job_manager.h"
#include "coordinator/node_manager.h"
#include "dstrain.pb.h"

namespace dstrain::coordinator::http {

struct MetricsOptions {
  bool per_rank = false;
  // The quantile window: the newest steps of the retained history.
  int quantile_steps = 200;
};

struct CoordinatorSnapshot {
  std::vector<proto::JobSummary> jobs;
  std::vector<proto::JobStatus> statuses;  // same order as jobs
  std::vector<proto::NodeStatus> nodes;
  double start_time_unix_s = 0;
  std::string version;
};

CoordinatorSnapshot TakeSnapshot(const JobManager& jobs,
                                 const NodeManager& nodes,
                                 double start_time_unix_s,
                                 const MetricsOptions& options);

std::vector<MetricFamily> CoordinatorMetrics(const CoordinatorSnapshot& s,
                                             const MetricsOptions& options);

// The value at quantile q in [0, 1] of `values` (nearest rank; NaN when
// empty). Sorts a copy.
double Quantile(std::vector<double> values, double q);

}  // namespace dstrain::coordinator::http
