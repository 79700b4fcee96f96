#pragma once
// Who may call what on the coordinator. Three kinds of credential, as a
// Kubernetes API server separates users, kubelets and service accounts:
//
//   operator  the cluster token (`--token-file`): submit, cancel and read
//             jobs, and look into any job's rendezvous
//   node      the node token (`--node-token-file`; the cluster token when
//             not given): register, heartbeat, report metrics and exits
//   job       minted per job attempt and handed to that attempt's workers
//             by their agent: the rendezvous of that job only, and only
//             while the attempt runs
//   viewer    `--viewer-token-file`, optional: read-only — list jobs and
//             nodes, a job's status and events, /metrics and the web page
//             (what dashboards and Prometheus are given). Operators may
//             read too.
//
// A credential that is none of these is UNAUTHENTICATED; one that is known
// but not allowed the call is PERMISSION_DENIED. Messages say which kind of
// credential was shown and what it may not do, never the credential.
// Comparisons are constant-time. Pure apart from asking JobManager about
// job credentials; thread-safe.

#include <string>
#include <string_view>

#include "common/status.h"
#include "coordinator/job_manager.h"

namespace dstrain::coordinator {

enum class Role { kOperator, kNode, kJob, kViewer };

struct Credentials {
  std::string operator_token;
  std::string node_token;    // == operator_token in single-credential mode
  std::string viewer_token;  // empty: no viewer credential
};

// May `token` call `method`, which needs `role`? For kJob, on `job_id`.
Status Authorize(const Credentials& credentials, const JobManager& jobs,
                 std::string_view token, std::string_view method, Role role,
                 const std::string& job_id);

}  // namespace dstrain::coordinator
