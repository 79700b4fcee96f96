#pragma once
// `dstrain doctor`: this node checked against what training needs
// (agent/doctor/doctor.h lists the checks), one line per finding with a
// verdict and its reason, and a summary verdict.
//
//   --json           one JSON object on stdout
//   --data-path DIR  where the training data lives: free space and a short
//                    sequential read past the page cache (default .)
//   --no-read-test   skip the read
//   --sys-root DIR   read DIR/proc and DIR/sys instead of the machine's
//                    (fake trees in tests)
//
// Exit codes: 0 nothing failed (warnings included); 1 a check failed
// (a GPU without its driver, an InfiniBand port not ACTIVE); 2 bad
// arguments.

#include <string>

namespace dstrain::cli {

struct DoctorCommandOptions {
  bool json = false;
  std::string data_path = ".";
  bool no_read_test = false;
  std::string sys_root = "/";
};

int RunDoctorCommand(const DoctorCommandOptions& options);

}  // namespace dstrain::cli
