#include "coordinator/command/coordinator_main.h"

#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "coordinator/state/sqlite_state_store.h"

namespace dstrain::coordinator {
namespace {

namespace fs = std::filesystem;

class CoordinatorMainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dstrain_coordinator_main_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ::unsetenv("DSTRAIN_TOKEN");
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string TokenFile(const std::string& text, mode_t mode) {
    const std::string path = (dir_ / "token").string();
    std::ofstream(path) << text;
    ::chmod(path.c_str(), mode);
    return path;
  }
  fs::path dir_;
};

TEST_F(CoordinatorMainTest, BadTokenIsAUsageError) {
  CoordinatorCommandOptions o;
  o.token_file = (dir_ / "no-such-token").string();  // never the literal
  EXPECT_EQ(RunCoordinatorCommand(o), 2);
  o.token_file = TokenFile("tok\n", 0644);  // other users could read it
  EXPECT_EQ(RunCoordinatorCommand(o), 2);
  o.token_file = "";  // and no DSTRAIN_TOKEN
  EXPECT_EQ(RunCoordinatorCommand(o), 2);
  o.token_file = TokenFile("tok\n", 0600);
  o.generate_token = (dir_ / "new").string();  // both: which one?
  EXPECT_EQ(RunCoordinatorCommand(o), 2);
  EXPECT_FALSE(fs::exists(dir_ / "new"));
  o.generate_token = "";
  o.listen = "no-port";
  EXPECT_EQ(RunCoordinatorCommand(o), 2);
}

TEST_F(CoordinatorMainTest, GenerateTokenNeverReplacesAFile) {
  CoordinatorCommandOptions o;
  o.generate_token = TokenFile("keep-me\n", 0600);
  EXPECT_EQ(RunCoordinatorCommand(o), 2);
  std::ifstream in(o.generate_token);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "keep-me");
}

TEST_F(CoordinatorMainTest, AGeneratedTokenGoesWhenTheServerCannotStart) {
  CoordinatorCommandOptions o;
  o.listen = "no-port";
  o.generate_token = (dir_ / "new").string();
  EXPECT_EQ(RunCoordinatorCommand(o), 2);
  EXPECT_FALSE(fs::exists(dir_ / "new"));
}

TEST_F(CoordinatorMainTest, ServesUntilSigtermWithAGeneratedToken) {
  CoordinatorCommandOptions o;
  o.generate_token = (dir_ / "new").string();
  std::promise<void> blocked;
  std::promise<int> rc;
  std::thread serving([&] {
    // With SIGTERM blocked in this thread, a signal sent to it stays pending
    // for the command's sigwait instead of killing the test process.
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &term, nullptr);
    blocked.set_value();
    rc.set_value(RunCoordinatorCommand(o));
  });
  blocked.get_future().wait();
  pthread_kill(serving.native_handle(), SIGTERM);
  std::future<int> done = rc.get_future();
  ASSERT_EQ(done.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(done.get(), 0);
  serving.join();
  struct stat st;
  ASSERT_EQ(::stat(o.generate_token.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

// A state directory another coordinator holds, or one that cannot be a
// directory, is exit code 2 with one line naming it, and nothing is left
// behind: not even a token generated for this start.
TEST_F(CoordinatorMainTest, AStateDirectoryThatCannotBeUsedStartsNothing) {
  const std::string state = (dir_ / "state").string();
  StatusOr<std::unique_ptr<SqliteStateStore>> holder =
      SqliteStateStore::Open(state);
  ASSERT_TRUE(holder.ok()) << holder.status().ToString();

  CoordinatorCommandOptions o;
  o.generate_token = (dir_ / "new").string();
  o.state_dir = state;
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(RunCoordinatorCommand(o), 2);
  const std::string err = ::testing::internal::GetCapturedStderr();
  ::testing::internal::GetCapturedStdout();
  EXPECT_EQ(err, "dstrain coordinator: state directory " + state +
                     " is in use by another coordinator (pid " +
                     std::to_string(::getpid()) + " holds " + state +
                     "/lock)\n");
  EXPECT_FALSE(fs::exists(dir_ / "new"));

  o.generate_token.clear();
  o.token_file = TokenFile("tok\n", 0600);
  o.state_dir = o.token_file;  // a file
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(RunCoordinatorCommand(o), 2);
  EXPECT_EQ(::testing::internal::GetCapturedStderr(),
            "dstrain coordinator: state directory " + o.token_file +
                " is not a directory\n");
}

}  // namespace
}  // namespace dstrain::coordinator
