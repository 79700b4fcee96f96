// GroupCommit (group_commit.h): writers that queue while a batch is being
// written go out together in the next one, in queue order, each with its
// own result; a write that fails inside a batch fails alone, and a commit
// that fails fails them all. Over a store that holds its first batch until
// the test lets it go, and over the SQLite store.
#include "coordinator/state/group_commit.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <cstdlib>
#include <future>
#include <string>
#include <vector>

#include "common/testing/status_matchers.h"
#include "coordinator/state/in_memory_state_store.h"
#include "coordinator/state/sqlite_state_store.h"
#include "tests/util/wait_for.h"

namespace dstrain::coordinator {
namespace {

using ::dstrain::testing::IsOk;
using ::dstrain::testing::StatusIs;
using namespace std::chrono_literals;

JobSubmission Submission(const std::string& id, std::int64_t order) {
  JobSubmission s;
  s.id = id;
  s.order = order;
  s.spec.set_name(id);
  s.event.set_to_state(proto::JOB_PENDING);
  s.event.set_cause("submitted");
  return s;
}

// Records the order of writes and of batches; its first batch waits until
// `release` is set.
class GatedStore : public InMemoryStateStore {
 public:
  Status Batch(const std::function<void()>& body) override {
    bool first = false;
    {
      std::lock_guard<std::mutex> lock(mu);
      batch_sizes.push_back(0);
      first = batch_sizes.size() == 1;
      in_batch = true;
    }
    body();
    if (first) {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return release; });
    }
    std::lock_guard<std::mutex> lock(mu);
    in_batch = false;
    return commit_error;
  }
  void Record(const std::string& what) {
    std::lock_guard<std::mutex> lock(mu);
    writes.push_back(what);
    ++batch_sizes.back();
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
    cv.notify_all();
  }

  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  bool in_batch = false;
  Status commit_error;
  std::vector<std::string> writes;
  std::vector<int> batch_sizes;
};

GroupCommit::Write Named(GatedStore* store, const std::string& name,
                         Status result = Status::Ok()) {
  return [store, name, result](StateStore&) {
    store->Record(name);
    return result;
  };
}

TEST(GroupCommitTest, WritersQueuedDuringABatchShareTheNextOne) {
  GatedStore store;
  GroupCommit commit(&store);
  const GroupCommit::Ticket first = commit.Enqueue(Named(&store, "w1"));
  std::future<Status> leader =
      std::async(std::launch::async, [&] { return commit.Await(first); });
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        std::lock_guard<std::mutex> lock(store.mu);
        return store.writes.size() == 1;
      },
      10s));
  // While w1's batch is on its way to disk, four more writers queue.
  std::vector<GroupCommit::Ticket> tickets;
  for (int i = 2; i <= 5; ++i) {
    tickets.push_back(
        commit.Enqueue(Named(&store, "w" + std::to_string(i),
                             i == 4 ? NotFound("no job j-4") : Status::Ok())));
  }
  std::vector<std::future<Status>> waiters;
  for (GroupCommit::Ticket t : tickets) {
    waiters.push_back(
        std::async(std::launch::async, [&, t] { return commit.Await(t); }));
  }
  store.Release();
  EXPECT_THAT(leader.get(), IsOk());
  std::vector<Status> results;
  for (auto& w : waiters) results.push_back(w.get());
  EXPECT_THAT(results[0], IsOk());
  EXPECT_THAT(results[1], IsOk());
  EXPECT_THAT(results[2], StatusIs(StatusCode::kNotFound, "no job j-4"));
  EXPECT_THAT(results[3], IsOk());
  EXPECT_EQ(store.writes,
            (std::vector<std::string>{"w1", "w2", "w3", "w4", "w5"}));
  EXPECT_EQ(store.batch_sizes, (std::vector<int>{1, 4}));
  EXPECT_EQ(commit.batches(), 2u);
}

TEST(GroupCommitTest, AFailedCommitFailsEveryWriteOfItsBatch) {
  GatedStore store;
  store.Release();
  store.commit_error = Unavailable("state store: disk full");
  GroupCommit commit(&store);
  const GroupCommit::Ticket a = commit.Enqueue(Named(&store, "a"));
  const GroupCommit::Ticket b = commit.Enqueue(Named(&store, "b"));
  EXPECT_THAT(commit.Await(b), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(commit.Await(a), StatusIs(StatusCode::kUnavailable));
  EXPECT_EQ(store.batch_sizes, std::vector<int>{2});
}

// SQLite: one transaction for the batch, a savepoint per write.
TEST(GroupCommitTest, InSqliteAFailingWriteLeavesTheOthersOfItsBatch) {
  char tmpl[] = "/tmp/dstrain_group_commit_XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  {
    StatusOr<std::unique_ptr<SqliteStateStore>> store =
        SqliteStateStore::Open(std::string(tmpl) + "/state");
    ASSERT_THAT(store, IsOk());
    GroupCommit commit(store->get());
    const auto create = [](JobSubmission s) {
      return [s](StateStore& st) { return st.CreateJob(s); };
    };
    JobChange unknown;
    unknown.job_id = "j-9";
    const GroupCommit::Ticket t1 = commit.Enqueue(create(Submission("j-1", 1)));
    const GroupCommit::Ticket t2 = commit.Enqueue(
        [unknown](StateStore& st) { return st.UpdateJob(unknown); });
    const GroupCommit::Ticket t3 =
        commit.Enqueue(create(Submission("j-1", 2)));  // a duplicate id
    const GroupCommit::Ticket t4 = commit.Enqueue(create(Submission("j-3", 3)));
    EXPECT_THAT(commit.Await(t4), IsOk());
    EXPECT_THAT(commit.Await(t1), IsOk());
    EXPECT_THAT(commit.Await(t2), StatusIs(StatusCode::kNotFound));
    EXPECT_THAT(commit.Await(t3), StatusIs(StatusCode::kAlreadyExists));
    EXPECT_EQ(commit.batches(), 1u);
    StatusOr<StoredState> state = (*store)->Load();
    ASSERT_THAT(state, IsOk());
    ASSERT_EQ(state->jobs.size(), 2u);
    EXPECT_EQ(state->jobs[0].id, "j-1");
    EXPECT_EQ(state->jobs[1].id, "j-3");
  }
  std::system(("rm -rf " + std::string(tmpl)).c_str());
}

}  // namespace
}  // namespace dstrain::coordinator
