// The progress record between a worker and its agent: what the writer
// puts is what the reader gets, slot by slot; a file of another kind is
// refused; a reader never sees half a write while a writer hammers it.
#include "common/contract/progress_record.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "common/testing/status_matchers.h"

namespace dstrain::contract {
namespace {

using ::dstrain::testing::IsOk;
using ::dstrain::testing::StatusIs;

class ProgressRecordTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dstrain_progress_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/rank-0.progress";
    ASSERT_THAT(CreateProgressFile(path_), IsOk());
  }
  void TearDown() override {
    ::unlink(path_.c_str());
    ::unlink((dir_ + "/other").c_str());
    ::rmdir(dir_.c_str());
  }
  std::string dir_, path_;
};

TEST_F(ProgressRecordTest, WhatTheWorkerWritesTheAgentReads) {
  StatusOr<std::unique_ptr<ProgressWriter>> w = ProgressWriter::Open(path_);
  ASSERT_THAT(w, IsOk());
  StatusOr<std::unique_ptr<ProgressReader>> r = ProgressReader::Open(path_);
  ASSERT_THAT(r, IsOk());
  StatusOr<ProgressSnapshot> empty = (*r)->Read();
  ASSERT_THAT(empty, IsOk());
  EXPECT_EQ(empty->step, 0);
  EXPECT_TRUE(empty->comms.empty());

  const int world = (*w)->AddComm("world");
  const int sub = (*w)->AddComm("a-name-longer-than-fifteen-bytes");
  (*w)->SetStep(7);
  (*w)->SetPhase("train");
  (*w)->Started(world, "all-reduce", 41, 10976, "float32");
  (*w)->Completed(world, 41);
  (*w)->Started(world, "all-gather", 42, 512, "bfloat16");
  (*w)->Started(sub, "barrier", 3, 0, "");
  StatusOr<ProgressSnapshot> s = (*r)->Read();
  ASSERT_THAT(s, IsOk());
  EXPECT_EQ(s->step, 7);
  EXPECT_EQ(s->phase, "train");
  EXPECT_GT(s->updated_unix_us, 0);
  ASSERT_EQ(s->comms.size(), 2u);
  EXPECT_EQ(s->comms[0].comm, "world");
  EXPECT_EQ(s->comms[0].op, "all-gather");
  EXPECT_EQ(s->comms[0].dtype, "bfloat16");
  EXPECT_EQ(s->comms[0].started_seq, 42);
  EXPECT_EQ(s->comms[0].completed_seq, 41);
  EXPECT_EQ(s->comms[0].numel, 512);
  EXPECT_TRUE(s->comms[0].waiting());
  EXPECT_EQ(s->comms[1].comm, "a-name-longer-t");  // cut at 15 bytes
  EXPECT_EQ(s->comms[1].op, "barrier");
  // Waited out of order: the highest completed stays.
  (*w)->Completed(world, 42);
  (*w)->Completed(world, 40);
  EXPECT_EQ((*r)->Read()->comms[0].completed_seq, 42);
  EXPECT_FALSE((*r)->Read()->comms[0].waiting());
}

TEST_F(ProgressRecordTest, SlotsRunOutQuietly) {
  StatusOr<std::unique_ptr<ProgressWriter>> w = ProgressWriter::Open(path_);
  ASSERT_THAT(w, IsOk());
  for (int i = 0; i < kProgressSlots; ++i) {
    EXPECT_EQ((*w)->AddComm("c" + std::to_string(i)), i);
  }
  EXPECT_EQ((*w)->AddComm("one too many"), -1);
  (*w)->Started(-1, "all-reduce", 1, 1, "float32");  // ignored
  EXPECT_EQ((*ProgressReader::Open(path_))->Read()->comms.size(),
            static_cast<std::size_t>(kProgressSlots));
}

TEST_F(ProgressRecordTest, AFileOfAnotherKindIsRefused) {
  std::ofstream(dir_ + "/other") << std::string(512, 'x');
  EXPECT_THAT(ProgressWriter::Open(dir_ + "/other"),
              StatusIs(StatusCode::kFailedPrecondition));
  std::ofstream(dir_ + "/other") << "short";
  EXPECT_THAT(ProgressReader::Open(dir_ + "/other"),
              StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(ProgressReader::Open(dir_ + "/none"),
              StatusIs(StatusCode::kNotFound));
}

TEST_F(ProgressRecordTest, AReaderNeverSeesHalfAWrite) {
  StatusOr<std::unique_ptr<ProgressWriter>> w = ProgressWriter::Open(path_);
  ASSERT_THAT(w, IsOk());
  StatusOr<std::unique_ptr<ProgressReader>> r = ProgressReader::Open(path_);
  ASSERT_THAT(r, IsOk());
  const int slot = (*w)->AddComm("world");
  std::atomic<bool> done{false};
  // Every write keeps numel == 2 * seq and the op's name tied to seq's
  // parity; a torn read would break one of them.
  std::thread writer([&] {
    for (std::int64_t seq = 1; seq <= 200000; ++seq) {
      (*w)->Started(slot, seq % 2 ? "all-reduce" : "all-gather", seq, 2 * seq,
                    seq % 2 ? "float32" : "int64");
    }
    done = true;
  });
  int reads = 0;
  while (!done) {
    StatusOr<ProgressSnapshot> s = (*r)->Read();
    if (!s.ok() || s->comms.empty() || s->comms[0].started_seq == 0) continue;
    const CollectiveProgress& c = s->comms[0];
    ASSERT_EQ(c.numel, 2 * c.started_seq);
    ASSERT_EQ(c.op, c.started_seq % 2 ? "all-reduce" : "all-gather");
    ASSERT_EQ(c.dtype, c.started_seq % 2 ? "float32" : "int64");
    ++reads;
  }
  writer.join();
  EXPECT_GT(reads, 0);
}

}  // namespace
}  // namespace dstrain::contract
