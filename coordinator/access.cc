#include "coordinator/access.h"

#include "common/rpc/auth.h"

namespace dstrain::coordinator {
namespace {

const char* RoleName(Role r) {
  switch (r) {
    case Role::kOperator:
      return "an operator";
    case Role::kNode:
      return "a node";
    case Role::kJob:
      return "a job";
    case Role::kViewer:
      return "a viewer";
  }
  return "a";
}

Status Denied(Role shown, std::string_view method, const std::string& why) {
  return Status(StatusCode::kPermissionDenied, std::string(RoleName(shown)) +
                                                   " credential may not call " +
                                                   std::string(method) + why);
}

}  // namespace

Status Authorize(const Credentials& credentials, const JobManager& jobs,
                 std::string_view token, std::string_view method, Role role,
                 const std::string& job_id) {
  const bool is_operator =
      rpc::ConstantTimeEquals(token, credentials.operator_token);
  const bool is_node = rpc::ConstantTimeEquals(token, credentials.node_token);
  const bool is_viewer =
      !credentials.viewer_token.empty() &&
      rpc::ConstantTimeEquals(token, credentials.viewer_token);
  // Operators administer the cluster: they may also look into a job's
  // rendezvous (to debug one that hangs), and read what viewers read.
  if (is_operator && role != Role::kNode) return Status::Ok();
  if (role == Role::kNode && is_node) return Status::Ok();
  if (role == Role::kViewer && is_viewer) return Status::Ok();
  if (is_operator || is_node || is_viewer) {
    return Denied(
        is_operator ? Role::kOperator : (is_node ? Role::kNode : Role::kViewer),
        method, "");
  }
  // Not a cluster credential: a job's, or nothing.
  const JobManager::CredentialCheck job = jobs.CheckJobCredential(token);
  if (!job.known) {
    return Status(StatusCode::kUnauthenticated,
                  "unknown credential for " + std::string(method) +
                      ": not the cluster token, the node token, the viewer "
                      "token or a job's (check --token-file)");
  }
  if (role != Role::kJob) return Denied(Role::kJob, method, "");
  if (job.job_id != job_id) {
    return Denied(Role::kJob, method, " on another job's rendezvous");
  }
  if (!job.active) {
    return Status(StatusCode::kPermissionDenied,
                  "the job credential expired: its attempt of job " +
                      job.job_id + " has ended");
  }
  return Status::Ok();
}

}  // namespace dstrain::coordinator
