// Several jobs on one standalone coordinator: submitted with --detach,
// admitted in queue order onto free nodes, the rest waiting with their
// reason; and a followed job that is interrupted without a terminal is
// detached from, not cancelled.

#include <gtest/gtest.h>
#include <signal.h>

#include <map>

#include "common/testing/status_matchers.h"
#include "coordinator/client/coordinator_client.h"
#include "tests/util/dstrain_test.h"
#include "tests/util/subprocess.h"
#include "tests/util/wait_for.h"

namespace dstrain {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::dstrain::testing::IsOk;
using testing::WaitFor;

constexpr char kToken[] = "queue-test-token";

std::string Job(const std::string& name, int steps) {
  return "name: " + name +
         "\nprocs_per_node: 1\ndevice: cpu\nbackend: gloo\n"
         "model: {type: gpt, vocab: 256, layers: 1, d_model: 32, heads: 2, "
         "seq_len: 32}\n"
         "data: {type: text, path: /usr/share/games/fortunes}\n"
         "train: {steps: " +
         std::to_string(steps) + ", micro_batch: 4}\n";
}

class QueueLaunchTest : public testing::DstrainTest {
 protected:
  void SetUp() override {
    DstrainTest::SetUp();
    token_ = WriteTokenFile("token", kToken);
    coord_ = StartCoordinator(token_, &address_);
    ASSERT_TRUE(coord_);
    for (const char* host : {"node-a", "node-b"}) {
      agents_.push_back(StartDstrain({"agent", "--coordinator", address_,
                                      "--token-file", token_, "--listen",
                                      "127.0.0.1:0", "--hostname", host}));
      ASSERT_TRUE(agents_.back());
      ASSERT_TRUE(WaitFor(
          [&] {
            return agents_.back()->Stdout().find("serving on") !=
                   std::string::npos;
          },
          30s));
    }
    client_ =
        std::make_unique<coordinator::CoordinatorClient>(address_, kToken);
  }

  // `launch --detach`: the job id it prints.
  std::string Submit(const std::string& name, int steps) {
    const std::string job = WriteFile(name + ".yaml", Job(name, steps));
    auto sp =
        StartDstrain({"launch", job, "--coordinator", address_, "--token-file",
                      token_, "--run-dir", (dir_ / name).string(), "--detach"});
    EXPECT_TRUE(sp);
    if (!sp) return "";
    auto st = sp->Wait(60s);
    EXPECT_TRUE(st.has_value());
    EXPECT_EQ(testing::ShellExitCode(st.value_or(-1)), 0) << sp->Stderr();
    std::string id = sp->Stdout();
    while (!id.empty() && id.back() == '\n') id.pop_back();
    EXPECT_EQ(id.rfind("j-", 0), 0u) << "not a job id: " << id;
    return id;
  }

  proto::JobStatus StatusOf(const std::string& id) {
    StatusOr<proto::JobStatus> st = client_->GetJobStatus(id);
    EXPECT_THAT(st, IsOk());
    return st.ok() ? *st : proto::JobStatus();
  }

  // The agents (and with them their workers) go before the test's
  // directory, which their workers write into.
  void TearDown() override {
    client_.reset();
    agents_.clear();
    coord_.reset();
    DstrainTest::TearDown();
  }

  std::string token_, address_;
  std::unique_ptr<testing::Subprocess> coord_;
  std::vector<std::unique_ptr<testing::Subprocess>> agents_;
  std::unique_ptr<coordinator::CoordinatorClient> client_;
};

TEST_F(QueueLaunchTest, TwoJobsRunAtOnceAndTheThirdWaitsWithItsReason) {
  const std::string first = Submit("first", 100000);
  const std::string second = Submit("second", 100000);
  const std::string third = Submit("third", 3);
  ASSERT_TRUE(WaitFor(
      [&] {
        return StatusOf(first).state() == proto::JOB_RUNNING &&
               StatusOf(second).state() == proto::JOB_RUNNING;
      },
      60s));
  const proto::JobStatus waiting = StatusOf(third);
  EXPECT_EQ(waiting.state(), proto::JOB_PENDING);
  EXPECT_NE(waiting.pending_reason().find("2 busy running jobs"),
            std::string::npos)
      << waiting.pending_reason();

  // One finishes (cancelled, so the test need not wait for it to train):
  // the third takes its node and runs to the end.
  ASSERT_THAT(client_->CancelJob(first, "make room"), IsOk());
  ASSERT_TRUE(WaitFor(
      [&] { return StatusOf(third).state() == proto::JOB_SUCCEEDED; }, 120s))
      << StatusOf(third).DebugString();
  EXPECT_EQ(StatusOf(second).state(), proto::JOB_RUNNING);
  ASSERT_THAT(client_->CancelJob(second, "done"), IsOk());
}

// Interrupted without a terminal to ask on, `launch` leaves the job to
// the coordinator instead of cancelling it.
TEST_F(QueueLaunchTest, AnInterruptedFollowerDetachesAndTheJobRunsOn) {
  const std::string job = WriteFile("long.yaml", Job("long", 100000));
  auto follower =
      StartDstrain({"launch", job, "--coordinator", address_, "--token-file",
                    token_, "--run-dir", (dir_ / "long").string()});
  ASSERT_TRUE(follower);
  std::string id;
  ASSERT_TRUE(WaitFor(
      [&] {
        const std::string out = follower->Stdout();
        const std::size_t at = out.find("(j-");
        if (at == std::string::npos) return false;
        id = out.substr(at + 1, out.find(')', at) - at - 1);
        return StatusOf(id).state() == proto::JOB_RUNNING;
      },
      60s))
      << follower->Stdout() << follower->Stderr();
  follower->Signal(SIGINT);
  auto st = follower->Wait(30s);
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(testing::ShellExitCode(*st), 130);
  EXPECT_NE(follower->Stdout().find("detached from job long (" + id + ")"),
            std::string::npos)
      << follower->Stdout();
  EXPECT_EQ(StatusOf(id).state(), proto::JOB_RUNNING);
  ASSERT_THAT(client_->CancelJob(id, "done"), IsOk());
}

}  // namespace
}  // namespace dstrain
