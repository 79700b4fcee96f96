// `dstrain coordinator --state DIR` end to end, as an operator runs it: a
// coordinator keeping its state in DIR, an agent, and `dstrain launch
// --coordinator` of a tiny job, all real processes. The coordinator is
// stopped (SIGTERM) and started again on the same DIR and address; the
// finished job's record — state, events, rank 0's step history, results —
// is read back through the coordinator's client; the agent registers again
// under its node id (the restarted coordinator gives it back) and a second
// job gets a new job id; and a second
// coordinator on the same DIR exits 2 naming the lock and its holder.
#include <gtest/gtest.h>
#include <signal.h>

#include "common/testing/status_matchers.h"
#include "coordinator/client/coordinator_client.h"
#include "tests/util/dstrain_test.h"
#include "tests/util/subprocess.h"

namespace dstrain {
namespace {

using ::dstrain::testing::IsOk;

using namespace std::chrono_literals;
using testing::Subprocess;

constexpr const char* kToken = "state-test-token";

std::string TinyJob(const std::string& name, int steps) {
  return testing::TinyJobYaml(name, steps);
}

class CoordinatorStateLaunchTest : public testing::DstrainTest {
 protected:
  void SetUp() override {
    DstrainTest::SetUp();
    token_ = WriteTokenFile("token", kToken);
    state_ = (dir_ / "state").string();
  }
  void TearDown() override {
    for (auto* p : {&agent_, &coord_}) {
      if (*p == nullptr) continue;
      (*p)->Signal(SIGTERM);
      (*p)->Wait(15s);
    }
    DstrainTest::TearDown();
  }

  // Starts the coordinator on `listen` with --state; sets address_.
  void StartStatefulCoordinator(const std::string& listen) {
    coord_ = StartCoordinator(token_, &address_, {"--state", state_}, listen);
    ASSERT_TRUE(coord_);
    EXPECT_NE(coord_->Stdout().find("dstrain coordinator: state in " + state_),
              std::string::npos)
        << coord_->Stdout();
  }

  // Runs a job through the coordinator to its end; returns its id.
  std::string RunJob(const std::string& name, int steps) {
    const std::string job = WriteFile(name + ".yaml", TinyJob(name, steps));
    auto launch = StartDstrain(
        {"launch", job, "--coordinator", address_, "--token-file", token_,
         "--run-dir", (dir_ / ("run-" + name)).string(), "--quiet", "--json"});
    EXPECT_TRUE(launch);
    if (!launch) return "";
    auto st = launch->Wait(240s);
    EXPECT_TRUE(st.has_value()) << launch->Stderr();
    EXPECT_EQ(st.has_value() ? testing::ShellExitCode(*st) : -1, 0)
        << launch->Stdout() << launch->Stderr() << agent_->Stderr();
    return testing::Str(testing::ParseJson(launch->Stdout()), "job_id");
  }

  proto::JobStatus StatusOf(const std::string& job_id) {
    coordinator::CoordinatorClient client(address_, kToken);
    StatusOr<proto::JobStatus> st = client.GetJobStatus(job_id, 0);
    EXPECT_THAT(st, IsOk());
    return st.ok() ? *st : proto::JobStatus();
  }

  std::string token_;
  std::string state_;
  std::string address_;
  std::unique_ptr<Subprocess> coord_, agent_;
};

TEST_F(CoordinatorStateLaunchTest, AJobsRecordOutlivesTheCoordinator) {
  ASSERT_NO_FATAL_FAILURE(StartStatefulCoordinator("127.0.0.1:0"));
  agent_ =
      StartDstrain({"agent", "--coordinator", address_, "--token-file", token_,
                    "--listen", "127.0.0.1:0", "--hostname", "node-a"});
  ASSERT_TRUE(agent_);
  const std::string first = RunJob("first", 3);
  ASSERT_FALSE(first.empty());
  const proto::JobStatus before = StatusOf(first);
  ASSERT_EQ(before.state(), proto::JOB_SUCCEEDED);
  ASSERT_EQ(before.ranks_size(), 2);
  EXPECT_EQ(before.ranks(0).node_id(), "n-1");

  // A second coordinator on the same DIR: refused at start, one line naming
  // DIR, its lock and the coordinator holding it.
  {
    auto second = StartDstrain({"coordinator", "--listen", "127.0.0.1:0",
                                "--token-file", token_, "--state", state_});
    ASSERT_TRUE(second);
    auto st = second->Wait(30s);
    ASSERT_TRUE(st.has_value());
    EXPECT_EQ(testing::ShellExitCode(*st), 2) << second->Stderr();
    EXPECT_EQ(second->Stderr(), "dstrain coordinator: state directory " +
                                    state_ +
                                    " is in use by another coordinator (pid " +
                                    std::to_string(coord_->pid()) + " holds " +
                                    state_ + "/lock)\n");
    EXPECT_EQ(second->Stdout().find("listening"), std::string::npos);
  }

  // Stop it and start it again where the agent looks for it.
  coord_->Signal(SIGTERM);
  auto stopped = coord_->Wait(30s);
  ASSERT_TRUE(stopped.has_value());
  ASSERT_EQ(testing::ShellExitCode(*stopped), 0) << coord_->Stderr();
  const std::string address = address_;
  ASSERT_NO_FATAL_FAILURE(StartStatefulCoordinator(address));
  ASSERT_EQ(address_, address);

  const proto::JobStatus after = StatusOf(first);
  EXPECT_EQ(after.state(), proto::JOB_SUCCEEDED) << after.reason();
  EXPECT_EQ(after.name(), "first");
  EXPECT_EQ(after.world_size(), 2);
  ASSERT_EQ(after.history_size(), 3);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(after.history(i).step(), i + 1);
    EXPECT_EQ(after.history(i).loss(), before.history(i).loss());
  }
  EXPECT_EQ(after.results_size(), 2);
  EXPECT_EQ(after.exits_size(), 2);
  EXPECT_EQ(after.ranks_size(), 2);
  ASSERT_EQ(after.events_size(), before.events_size());
  ASSERT_GE(after.events_size(), 4);
  EXPECT_EQ(after.events(0).cause(), "submitted");
  EXPECT_EQ(after.events(after.events_size() - 1).to_state(),
            proto::JOB_SUCCEEDED);
  EXPECT_EQ(after.elapsed_s(), before.elapsed_s());

  // The agent finds itself unknown and registers again under its id n-1,
  // and the next job, with a new id, runs there.
  const std::string second = RunJob("second", 2);
  ASSERT_FALSE(second.empty());
  EXPECT_NE(second, first);
  const proto::JobStatus next = StatusOf(second);
  EXPECT_EQ(next.state(), proto::JOB_SUCCEEDED);
  ASSERT_EQ(next.ranks_size(), 2);
  EXPECT_EQ(next.ranks(0).node_id(), "n-1");
}

}  // namespace
}  // namespace dstrain
