#include "agent/worker_logs.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cstdlib>

#include "common/testing/status_matchers.h"

namespace dstrain::agent {
namespace {

using ::dstrain::testing::IsOk;
using ::dstrain::testing::StatusIs;

class WorkerLogsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dstrain_worker_logs_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override {
    logs_.reset();
    std::system(("rm -rf " + root_).c_str());
  }
  void Open(std::int64_t file_cap = 8 << 20,
            std::int64_t total_cap = std::int64_t{1} << 30) {
    WorkerLogsOptions o;
    o.dir = root_ + "/logs";
    o.max_file_bytes = file_cap;
    o.max_total_bytes = total_cap;
    StatusOr<std::unique_ptr<WorkerLogs>> l = WorkerLogs::Open(o);
    ASSERT_THAT(l, IsOk());
    logs_ = std::move(l).value();
  }
  proto::ReadLogsResponse Read(const std::string& job, std::vector<int> ranks,
                               int tail = 0,
                               std::vector<std::pair<int, int>> after = {}) {
    proto::ReadLogsRequest r;
    r.set_job_id(job);
    for (int k : ranks) r.add_ranks(k);
    r.set_tail(tail);
    for (auto [rank, next] : after) {
      proto::LogCursor* c = r.add_after();
      c->set_rank(rank);
      c->set_next_line(next);
    }
    StatusOr<proto::ReadLogsResponse> got = logs_->Read(r);
    EXPECT_THAT(got, IsOk());
    return got.ok() ? *got : proto::ReadLogsResponse();
  }
  std::int64_t NextOf(const proto::ReadLogsResponse& r, int rank) {
    for (const proto::LogCursor& c : r.next()) {
      if (c.rank() == rank) return c.next_line();
    }
    return -1;
  }

  std::string root_;
  std::unique_ptr<WorkerLogs> logs_;
};

TEST_F(WorkerLogsTest, LinesComeBackNumberedByRankWithTailAndCursor) {
  Open();
  for (int i = 0; i < 5; ++i) {
    logs_->Append("j-1", 0, 0, false, "zero " + std::to_string(i), 100 + i);
    logs_->Append("j-1", 0, 1, i == 4, "one " + std::to_string(i), 200 + i);
  }
  logs_->Append("j-1", 0, 1, false, "", 300);  // an empty line is a line
  proto::ReadLogsResponse all = Read("j-1", {});
  ASSERT_EQ(all.lines_size(), 11);
  EXPECT_EQ(all.lines(0).rank(), 0);
  EXPECT_EQ(all.lines(0).text(), "zero 0");
  EXPECT_EQ(all.lines(0).time_unix_us(), 100);
  EXPECT_EQ(all.lines(9).text(), "one 4");
  EXPECT_TRUE(all.lines(9).from_stderr());
  EXPECT_EQ(all.lines(10).text(), "");
  EXPECT_EQ(NextOf(all, 1), 6);

  proto::ReadLogsResponse tail = Read("j-1", {1}, 2);
  ASSERT_EQ(tail.lines_size(), 2);
  EXPECT_EQ(tail.lines(0).text(), "one 4");
  EXPECT_EQ(tail.lines(0).line_no(), 4);

  // Following: nothing new, then the new line only.
  EXPECT_EQ(Read("j-1", {1}, 0, {{1, 6}}).lines_size(), 0);
  logs_->Append("j-1", 0, 1, false, "later", 400);
  proto::ReadLogsResponse more = Read("j-1", {1}, 0, {{1, 6}});
  ASSERT_EQ(more.lines_size(), 1);
  EXPECT_EQ(more.lines(0).text(), "later");
  EXPECT_EQ(NextOf(more, 1), 7);

  // Another attempt's lines are its own.
  proto::ReadLogsRequest other;
  other.set_job_id("j-1");
  other.set_attempt(1);
  EXPECT_EQ(logs_->Read(other)->lines_size(), 0);
  proto::ReadLogsRequest unknown;
  unknown.set_job_id("j-9");
  EXPECT_THAT(logs_->Read(unknown), StatusIs(StatusCode::kNotFound));
}

TEST_F(WorkerLogsTest, ARanksFilesRotateAtTheCapAndOldLinesAreCounted) {
  Open(/*file_cap=*/1024);
  const std::string text(90, 'x');  // about 100 bytes a line with its header
  for (int i = 0; i < 50; ++i) logs_->Append("j-1", 0, 0, false, text, i);
  // At most two files of about 1 KiB: the newest lines are all there.
  EXPECT_LE(logs_->total_bytes(), 2 * 1024 + 200);
  proto::ReadLogsResponse all = Read("j-1", {0});
  ASSERT_GT(all.lines_size(), 5);
  EXPECT_EQ(all.lines(all.lines_size() - 1).line_no(), 49);
  EXPECT_EQ(all.lines(all.lines_size() - 1).time_unix_us(), 49);
  // Line numbers run on without a gap across the two files.
  for (int i = 1; i < all.lines_size(); ++i) {
    EXPECT_EQ(all.lines(i).line_no(), all.lines(i - 1).line_no() + 1);
  }
  // Asking from line 0: what rotation dropped is counted.
  proto::ReadLogsResponse from0 = Read("j-1", {0}, 0, {{0, 0}});
  EXPECT_EQ(from0.dropped(), all.lines(0).line_no());
}

TEST_F(WorkerLogsTest, TheTotalCapDropsTheOldestOtherJob) {
  Open(/*file_cap=*/1 << 20, /*total_cap=*/4096);
  const std::string text(90, 'y');
  for (int i = 0; i < 30; ++i) logs_->Append("j-old", 0, 0, false, text, i);
  for (int i = 0; i < 30; ++i) logs_->Append("j-new", 0, 0, false, text, i);
  proto::ReadLogsRequest old;
  old.set_job_id("j-old");
  EXPECT_THAT(logs_->Read(old), StatusIs(StatusCode::kNotFound));
  EXPECT_EQ(Read("j-new", {0}).lines_size(), 30);
  struct stat st;
  EXPECT_NE(::stat((root_ + "/logs/j-old").c_str(), &st), 0) << "folder gone";
}

}  // namespace
}  // namespace dstrain::agent
