// The library versions the caller found (libtorch, NCCL).
#include "agent/doctor/checks.h"

namespace dstrain::agent::doctor {

void CheckSoftware(const DoctorOptions& o, Checks& out) {
  for (const auto& [name, version] : o.versions) {
    Add(out, "software", name, version.empty() ? "not found" : version);
  }
}

}  // namespace dstrain::agent::doctor
