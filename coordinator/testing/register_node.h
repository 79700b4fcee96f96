#pragma once
// For JobManager tests: a node registers (inventory with `host`, agent at
// `host`:9000) and the scheduler runs, as after a real registration.
// Returns its id ("" with a test failure when it is refused).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "common/testing/status_matchers.h"
#include "coordinator/job_manager.h"
#include "coordinator/node_manager.h"

namespace dstrain::coordinator {

inline std::string RegisterNode(NodeManager& nodes, JobManager& jobs,
                                const std::string& host) {
  proto::NodeInventory inv;
  inv.set_hostname(host);
  StatusOr<std::string> id = nodes.Register(inv, host + ":9000");
  EXPECT_THAT(id, ::dstrain::testing::IsOk());
  jobs.Schedule();
  return id.ok() ? *id : "";
}

}  // namespace dstrain::coordinator
