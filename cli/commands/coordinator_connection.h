#pragma once
// What the operators' commands (operate.h, top.h) share: reaching the
// coordinator with the flags every one of them takes, and turning a failed
// call into one line on stderr and the documented exit code.

#include <memory>
#include <string>

#include "cli/commands/operate.h"
#include "cli/run_summary.h"  // JobStateName
#include "common/status.h"
#include "coordinator/client/coordinator_client.h"
#include "dstrain.pb.h"

namespace dstrain::cli {

// A client for the coordinator of --coordinator (or DSTRAIN_COORDINATOR)
// with the token of --token-file (or DSTRAIN_TOKEN), over TLS when the
// --tls-* flags say so. INVALID_ARGUMENT naming the missing flag.
StatusOr<std::unique_ptr<coordinator::CoordinatorClient>> ConnectOperator(
    const OperateOptions& options);

// Prints "dstrain <command>: <message>" on stderr and returns the exit
// code for `s`: 3 not found, 4 unauthenticated or denied, 2 bad usage,
// else 1.
int OperateFail(const std::string& command, const Status& s);

}  // namespace dstrain::cli
