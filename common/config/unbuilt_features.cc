// ======================================================================
// Features the job file can name but this build does not have yet.
//
// Refusing them here, at load time, means nothing starts and then fails
// halfway. When an issue builds one of these features, it deletes that
// feature's line below (and the matching row of the "not built yet" table
// in configs/README.md and its file in common/config/testdata/bad/).
// ======================================================================
#include <string>

#include "common/config/job_checks.h"

namespace dstrain::config::internal {
namespace {

// `path` = VALUE at job.yaml:L:C is not supported by this build yet
// (supported: SUPPORTED)
[[maybe_unused]] Status Unbuilt(const Origins& o, const char* path,
                                const std::string& value,
                                const char* supported) {
  const Origin* origin = o.Find(path);
  const std::string text = origin != nullptr ? origin->text : value;
  return InvalidArgument(Located(o.PlaceOf(path),
                                 "`" + std::string(path) + "` = " + text,
                                 std::string(" is not supported by this "
                                             "build yet (supported: ") +
                                     supported + ")"));
}

}  // namespace

Status RefuseUnbuiltFeatures(const JobConfig& job, const Origins& o) {
  // --- not built yet: one line per feature -----------------------------
  // ----------------------------------------------------------------------
  // A forced algorithm is planned over a cluster description (the
  // coordinator's plan); without one there are no hosts to plan over.
  if (job.topology.algorithm != "auto" && job.topology.cluster.empty()) {
    const Origin* origin = o.Find("topology.algorithm");
    return InvalidArgument(
        Located(o.PlaceOf("topology.algorithm"),
                "`topology.algorithm` = " +
                    (origin != nullptr ? origin->text : job.topology.algorithm),
                " needs `topology.cluster` (plans are made over a cluster "
                "description; without one leave it auto)"));
  }
  return Status::Ok();
}

}  // namespace dstrain::config::internal
