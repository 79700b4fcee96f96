// The agent's progress records: one per rank in a folder per attempt,
// read back with the process's state (a stopped process shows "stopped"),
// removed with the attempt and with the watch.
#include "agent/progress_watch.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "common/testing/status_matchers.h"

namespace dstrain::agent {
namespace {

using ::dstrain::testing::IsOk;

bool Exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

TEST(ProgressWatchTest, RecordsAreMadeReadAndRemoved) {
  StatusOr<std::unique_ptr<ProgressWatch>> watch = ProgressWatch::Create();
  ASSERT_THAT(watch, IsOk());
  const std::string root = (*watch)->root();
  StatusOr<std::string> dir = (*watch)->Prepare("j-1", 2, {4, 5});
  ASSERT_THAT(dir, IsOk());
  EXPECT_TRUE(Exists(ProgressFileOf(*dir, 4)));
  EXPECT_TRUE(Exists(ProgressFileOf(*dir, 5)));

  // Rank 4 is this process (running); rank 5 a child stopped by SIGSTOP.
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::raise(SIGSTOP);
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, WUNTRACED), child);
  ASSERT_TRUE(WIFSTOPPED(status));
  (*watch)->Attach("j-1", 2, {{4, ::getpid()}, {5, child}});
  {
    StatusOr<std::unique_ptr<contract::ProgressWriter>> w =
        contract::ProgressWriter::Open(ProgressFileOf(*dir, 4));
    ASSERT_THAT(w, IsOk());
    const int slot = (*w)->AddComm("world");
    (*w)->SetStep(3);
    (*w)->Started(slot, "all-reduce", 9, 100, "float32");
  }
  std::vector<proto::RankProgress> seen = (*watch)->Snapshot();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].job_id(), "j-1");
  EXPECT_EQ(seen[0].attempt(), 2);
  EXPECT_EQ(seen[0].rank(), 4);
  EXPECT_EQ(seen[0].step(), 3);
  ASSERT_EQ(seen[0].comms_size(), 1);
  EXPECT_EQ(seen[0].comms(0).started_seq(), 9);
  EXPECT_EQ(seen[0].comms(0).completed_seq(), 0);
  EXPECT_EQ(seen[0].process(), "running");
  EXPECT_EQ(seen[1].rank(), 5);
  EXPECT_EQ(seen[1].process(), "stopped");
  ::kill(child, SIGKILL);
  ::waitpid(child, &status, 0);

  (*watch)->Remove("j-1", 2);
  EXPECT_TRUE((*watch)->Snapshot().empty());
  EXPECT_FALSE(Exists(*dir));
  ASSERT_THAT((*watch)->Prepare("j/2", 0, {0}), IsOk());  // a safe name
  watch->reset();
  EXPECT_FALSE(Exists(root));
}

TEST(ProgressWatchTest, StateLettersHaveNames) {
  EXPECT_EQ(ProcessStateName('R'), "running");
  EXPECT_EQ(ProcessStateName('S'), "sleeping");
  EXPECT_EQ(ProcessStateName('D'), "disk");
  EXPECT_EQ(ProcessStateName('T'), "stopped");
  EXPECT_EQ(ProcessStateName('t'), "stopped");
  EXPECT_EQ(ProcessStateName('Z'), "zombie");
  EXPECT_EQ(ProcessStateName('?'), "");
  EXPECT_EQ(ReadProcessState(::getpid()), 'R');
}

}  // namespace
}  // namespace dstrain::agent
