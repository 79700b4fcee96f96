#pragma once
// The checks `RunDoctor` runs, one per file, each appending its lines.
// Internal to agent/doctor; pure apart from reading under sys_root (and
// the disk check's read test).

#include <vector>

#include "agent/doctor/doctor.h"
#include "dstrain.pb.h"

namespace dstrain::agent::doctor {

using Checks = std::vector<proto::DoctorCheck>;

void CheckCpu(const DoctorOptions& o, Checks& out);
void CheckMemory(const DoctorOptions& o, Checks& out);
void CheckGpus(const DoctorOptions& o, Checks& out);
void CheckNics(const DoctorOptions& o, Checks& out);
void CheckInfiniband(const DoctorOptions& o, Checks& out);
void CheckDisk(const DoctorOptions& o, Checks& out);
void CheckSoftware(const DoctorOptions& o, Checks& out);

// A line; verdict "ok" unless given.
proto::DoctorCheck& Add(Checks& out, const char* area, std::string subject,
                        std::string found, const char* verdict = "ok",
                        std::string reason = "");

}  // namespace dstrain::agent::doctor
