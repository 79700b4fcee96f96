// The operators' commands (cli/commands/operate.h) against a running
// coordinator with one agent and two jobs, one running and one queued
// behind it: `jobs` and `nodes`, as tables and as JSON; `cancel` refused
// for a node credential (exit 4) and done for the operator's, with no
// worker left; `drain` keeps the queued job off the node (its reason says
// so) and `undrain` lets it start; unknown jobs are exit 3, a missing
// coordinator exit 2; `top --once` shows every rank of the running job;
// `logs` reads a rank's output from its agent and `--follow` streams it.
// `preempt` stops a checkpointing job with a checkpoint of its step (exit
// 75), says whether that fits the warning, and the job ends CANCELLED
// "preempted", not restarted; SIGTERM to the agent does the same.
#include <gtest/gtest.h>
#include <signal.h>

#include "tests/util/dstrain_test.h"
#include "tests/util/process_table.h"
#include "tests/util/subprocess.h"
#include "tests/util/wait_for.h"

namespace dstrain {
namespace {

using namespace std::chrono_literals;
using testing::Subprocess;
using testing::WaitFor;

constexpr const char* kOperator = "operator-cli-test-token";
constexpr const char* kNode = "operator-cli-test-node-token";

class OperatorCliTest : public testing::DstrainTest {
 protected:
  void SetUp() override {
    DstrainTest::SetUp();
    op_token_ = WriteTokenFile("operator", kOperator);
    node_token_ = WriteTokenFile("node", kNode);
    coord_ = StartCoordinator(op_token_, &address_,
                              {"--node-token-file", node_token_});
    ASSERT_TRUE(coord_);
    agent_ = StartDstrain({"agent", "--coordinator", address_, "--token-file",
                           node_token_, "--listen", "127.0.0.1:0", "--hostname",
                           "node-a"});
    ASSERT_TRUE(agent_);
    ASSERT_TRUE(WaitFor(
        [&] {
          return agent_->Stdout().find("serving on") != std::string::npos;
        },
        30s));
  }
  void TearDown() override {
    for (auto* p : {&agent_, &coord_}) {
      if (*p == nullptr || (*p)->exited()) continue;
      (*p)->Signal(SIGTERM);
      (*p)->Wait(20s);
    }
    DstrainTest::TearDown();
  }

  // `dstrain <args> --coordinator ADDR --token-file TOKEN`, to its end.
  Ran Run(std::vector<std::string> args, const std::string& token = "") {
    args.insert(args.end(), {"--coordinator", address_, "--token-file",
                             token.empty() ? op_token_ : token});
    return RunBare(args);
  }
  Ran RunBare(const std::vector<std::string>& args) {
    return RunDstrain(args, 60s);
  }
  std::string Submit(const std::string& name, const std::string& extra = "") {
    // Every rank prints a step line every 20 steps, for `logs`.
    const std::string job = WriteFile(
        name + ".yaml", testing::TinyJobYaml(name, 100000, /*procs=*/2) +
                            "  log_every: 20\n" + extra);
    Ran r =
        RunBare({"launch", job, "--coordinator", address_, "--token-file",
                 op_token_, "--run-dir", (dir_ / name).string(), "--detach"});
    EXPECT_EQ(r.code, 0) << r.err;
    while (!r.out.empty() && r.out.back() == '\n') r.out.pop_back();
    return r.out;
  }
  // The job's line of `dstrain jobs --json`.
  google::protobuf::Struct JobLine(const std::string& id) {
    Ran r = Run({"jobs", "--json"});
    EXPECT_EQ(r.code, 0) << r.err;
    const google::protobuf::Struct all = testing::ParseJson(r.out);
    for (const auto& v : all.fields().at("jobs").list_value().values()) {
      if (testing::Str(v.struct_value(), "job_id") == id) {
        return v.struct_value();
      }
    }
    ADD_FAILURE() << id << " not in " << r.out;
    return {};
  }
  google::protobuf::Struct OnlyNode() {
    Ran r = Run({"nodes", "--json"});
    EXPECT_EQ(r.code, 0) << r.err;
    const google::protobuf::Struct all = testing::ParseJson(r.out);
    const auto& nodes = all.fields().at("nodes").list_value();
    EXPECT_EQ(nodes.values_size(), 1) << r.out;
    return nodes.values_size() > 0 ? nodes.values(0).struct_value()
                                   : google::protobuf::Struct();
  }
  std::size_t Workers() {
    std::size_t n = 0;
    for (const testing::ProcInfo& p : testing::ListProcesses()) {
      n += p.ppid == agent_->pid() &&
           p.cmdline.find(" worker ") != std::string::npos;
    }
    return n;
  }

  std::string op_token_, node_token_, address_;
  std::unique_ptr<Subprocess> coord_, agent_;
};

TEST_F(OperatorCliTest, JobsNodesCancelDrainAndUndrain) {
  const std::string first = Submit("first");
  const std::string second = Submit("second");
  ASSERT_TRUE(
      WaitFor([&] { return testing::Num(JobLine(first), "step") > 0; }, 120s));

  // jobs: the running one with its progress, the queued one with why.
  google::protobuf::Struct running = JobLine(first);
  EXPECT_EQ(testing::Str(running, "state"), "RUNNING");
  EXPECT_EQ(testing::Str(running, "name"), "first");
  EXPECT_EQ(testing::Num(running, "nodes"), 1);
  EXPECT_EQ(testing::Num(running, "world_size"), 2);
  EXPECT_EQ(testing::Num(running, "total_steps"), 100000);
  EXPECT_GT(testing::Num(running, "loss"), 0);
  EXPECT_GT(testing::Num(running, "tokens_per_s"), 0);
  EXPECT_GE(testing::Num(running, "age_s"), 0);
  google::protobuf::Struct queued = JobLine(second);
  EXPECT_EQ(testing::Str(queued, "state"), "PENDING");
  EXPECT_NE(testing::Str(queued, "pending_reason")
                .find("1 busy running job " + first),
            std::string::npos)
      << testing::Str(queued, "pending_reason");
  Ran table = Run({"jobs"});
  ASSERT_EQ(table.code, 0) << table.err;
  EXPECT_EQ(table.out.rfind("JOB ", 0), 0u) << table.out;
  EXPECT_NE(table.out.find(first), std::string::npos);
  EXPECT_NE(table.out.find("RUNNING"), std::string::npos);
  EXPECT_NE(table.out.find("/100000"), std::string::npos);
  EXPECT_NE(table.out.find("PENDING"), std::string::npos);
  EXPECT_NE(table.out.find("busy running job"), std::string::npos);

  // nodes: alive, beating, running the first job.
  google::protobuf::Struct node = OnlyNode();
  EXPECT_EQ(testing::Str(node, "hostname"), "node-a");
  EXPECT_EQ(testing::Str(node, "state"), "alive");
  EXPECT_EQ(testing::Str(node, "job_id"), first);
  EXPECT_GT(testing::Num(node, "cpus"), 0);
  EXPECT_GT(testing::Num(node, "memory_bytes"), 0);
  EXPECT_LT(testing::Num(node, "heartbeat_age_s"), 10);
  Ran nodes_table = Run({"nodes"});
  EXPECT_NE(nodes_table.out.find("node-a"), std::string::npos)
      << nodes_table.out;

  // status: the coordinator's record of one job; events: its changes.
  Ran status = Run({"status", first, "--json"});
  ASSERT_EQ(status.code, 0) << status.err;
  const google::protobuf::Struct st = testing::ParseJson(status.out);
  EXPECT_EQ(testing::Str(st, "state"), "JOB_RUNNING");
  EXPECT_EQ(st.fields().at("ranks").list_value().values_size(), 2);
  Ran status_text = Run({"status", first});
  EXPECT_NE(status_text.out.find("node-a (n-1)  ranks 0-1"), std::string::npos)
      << status_text.out;
  Ran events = Run({"events", first, "--since", "1h"});
  ASSERT_EQ(events.code, 0) << events.err;
  EXPECT_NE(events.out.find("submitted"), std::string::npos) << events.out;
  EXPECT_NE(events.out.find("placed on 1 node (node-a)"), std::string::npos);
  Ran all_events = Run({"events", "--json"});
  ASSERT_EQ(all_events.code, 0) << all_events.err;
  EXPECT_NE(all_events.out.find("\"job_id\":\"" + second + "\""),
            std::string::npos)
      << all_events.out;
  EXPECT_EQ(Run({"events", "--since", "yesterday"}).code, 2);

  // top --once: a row per rank with the host and a step, the slowest
  // marked; --json the same as one document; a bad sort key is usage.
  ASSERT_TRUE(WaitFor(
      [&] {
        Ran top = Run({"top", first, "--once", "--json"});
        if (top.code != 0) return false;
        const google::protobuf::Struct t = testing::ParseJson(top.out);
        const auto& ranks = t.fields().at("ranks").list_value();
        if (ranks.values_size() != 2) return false;
        for (const auto& r : ranks.values()) {
          if (testing::Str(r.struct_value(), "host") != "node-a" ||
              testing::Num(r.struct_value(), "step") < 1) {
            return false;
          }
        }
        return testing::Num(t, "slowest_rank") >= 0;
      },
      60s));
  Ran top = Run({"top", first, "--once", "--sort", "time"});
  ASSERT_EQ(top.code, 0) << top.err;
  EXPECT_NE(top.out.find("RANK  HOST"), std::string::npos) << top.out;
  EXPECT_NE(top.out.find("sort time"), std::string::npos) << top.out;
  EXPECT_NE(top.out.find("<- slowest"), std::string::npos) << top.out;
  EXPECT_EQ(top.out.find("\x1b["), std::string::npos) << "no ANSI in a pipe";
  EXPECT_EQ(Run({"top", first, "--once", "--sort", "speed"}).code, 2);

  // logs: rank 1's last lines from its agent; --follow streams new ones.
  ASSERT_TRUE(WaitFor(
      [&] {
        Ran logs = Run({"logs", first, "--rank", "1", "--tail", "3"});
        return logs.code == 0 &&
               logs.out.find("[rank 1 node-a] step ") != std::string::npos;
      },
      60s));
  Ran tail = Run({"logs", first, "--rank", "1", "--tail", "3"});
  ASSERT_EQ(tail.code, 0) << tail.err;
  int lines = 0;
  for (char c : tail.out) lines += c == '\n';
  EXPECT_LE(lines, 3) << tail.out;
  EXPECT_EQ(tail.out.find("[rank 0"), std::string::npos) << tail.out;
  std::unique_ptr<Subprocess> follow =
      StartDstrain({"logs", first, "--rank", "1", "--follow", "--json",
                    "--coordinator", address_, "--token-file", op_token_});
  ASSERT_TRUE(follow);
  // New lines keep coming: steps later than any the first read showed.
  const auto last_step = [](const std::string& out) {
    int best = -1;
    for (std::size_t at = out.find("step "); at != std::string::npos;
         at = out.find("step ", at + 5)) {
      best = std::max(best, std::atoi(out.c_str() + at + 5));
    }
    return best;
  };
  ASSERT_TRUE(WaitFor([&] { return last_step(follow->Stdout()) > 0; }, 60s));
  const int seen = last_step(follow->Stdout());
  ASSERT_TRUE(
      WaitFor([&] { return last_step(follow->Stdout()) >= seen + 40; }, 60s))
      << follow->Stdout();
  EXPECT_NE(follow->Stdout().find("\"rank\":1,\"host\":\"node-a\""),
            std::string::npos);
  follow->Signal(SIGTERM);
  follow->Wait(10s);
  EXPECT_EQ(Run({"logs", first, "--rank", "7"}).code, 3);
  EXPECT_EQ(Run({"logs", first}, node_token_).code, 4);

  // A node's credential may not cancel.
  Ran refused = Run({"cancel", first}, node_token_);
  EXPECT_EQ(refused.code, 4) << refused.err;
  EXPECT_NE(refused.err.find("CancelJob"), std::string::npos) << refused.err;
  EXPECT_EQ(testing::Str(JobLine(first), "state"), "RUNNING");

  // Drained, the node keeps running its job; cancelled, its workers go and
  // the queued job still may not start there.
  Ran drained = Run({"drain", "node-a", "--reason", "new DIMM"});
  ASSERT_EQ(drained.code, 0) << drained.err;
  node = OnlyNode();
  EXPECT_EQ(testing::Str(node, "state"), "drained");
  EXPECT_EQ(testing::Str(node, "drain_reason"), "new DIMM");
  EXPECT_EQ(testing::Str(JobLine(first), "state"), "RUNNING");
  Ran cancelled = Run({"cancel", first, "--json"});
  ASSERT_EQ(cancelled.code, 0) << cancelled.err;
  EXPECT_EQ(testing::Str(testing::ParseJson(cancelled.out), "state"),
            "CANCELLED");
  ASSERT_TRUE(WaitFor([&] { return Workers() == 0; }, 30s))
      << testing::Describe(testing::ListProcesses());
  queued = JobLine(second);
  EXPECT_EQ(testing::Str(queued, "state"), "PENDING");
  EXPECT_NE(testing::Str(queued, "pending_reason").find("1 drained"),
            std::string::npos)
      << testing::Str(queued, "pending_reason");

  // Undrained, it takes the queued job.
  Ran undrained = Run({"undrain", "node-a"});
  ASSERT_EQ(undrained.code, 0) << undrained.err;
  ASSERT_TRUE(WaitFor(
      [&] { return testing::Str(JobLine(second), "state") == "RUNNING"; },
      60s));
  EXPECT_EQ(Run({"cancel", second}).code, 0);

  // Exit codes for what cannot be done.
  Ran unknown = Run({"cancel", "j-nothere"});
  EXPECT_EQ(unknown.code, 3) << unknown.err;
  EXPECT_EQ(Run({"drain", "no-such-node"}).code, 3);
  Ran nowhere = RunBare({"jobs", "--token-file", op_token_});
  EXPECT_EQ(nowhere.code, 2);
  EXPECT_NE(nowhere.err.find("DSTRAIN_COORDINATOR"), std::string::npos)
      << nowhere.err;
}

// A job that checkpoints every 20 steps and may restart: preempted, every
// rank checkpoints its step and exits 75, and the job ends CANCELLED
// without a restart; the answer estimated the checkpoint from the job's.
TEST_F(OperatorCliTest, PreemptStopsAJobWithACheckpointAndSaysWhetherItFits) {
  const std::string id = Submit("preempted",
                                "checkpoint: {every_steps: 20}\n"
                                "fault_tolerance: {max_restarts: 3}\n");
  // Past two checkpoints, so there is a write to estimate from.
  ASSERT_TRUE(
      WaitFor([&] { return testing::Num(JobLine(id), "step") > 45; }, 120s));
  Ran r = Run({"preempt", id, "--warning", "60", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const google::protobuf::Struct answer = testing::ParseJson(r.out);
  EXPECT_GT(testing::Num(answer, "checkpoint_estimate_s"), 0) << r.out;
  EXPECT_TRUE(answer.fields().at("fits").bool_value()) << r.out;
  ASSERT_TRUE(WaitFor(
      [&] { return testing::Str(JobLine(id), "state") == "CANCELLED"; }, 60s));
  const google::protobuf::Struct line = JobLine(id);
  EXPECT_NE(testing::Str(line, "reason")
                .find("preempted: every rank stopped "
                      "on request"),
            std::string::npos)
      << testing::Str(line, "reason");
  Ran st = Run({"status", id, "--json"});
  const google::protobuf::Struct status = testing::ParseJson(st.out);
  EXPECT_EQ(testing::Num(status, "attempt"), 0);
  for (const auto& e : status.fields().at("exits").list_value().values()) {
    EXPECT_EQ(testing::Num(e.struct_value(), "exit_code"), 75) << st.out;
  }
  EXPECT_EQ(Run({"preempt", id}).code, 1);  // ended: nothing to preempt
  EXPECT_EQ(Run({"preempt", "j-nothere"}).code, 3);
  EXPECT_EQ(Run({"preempt", id, "--warning", "0"}).code, 2);
}

// `nodes --doctor`: the checks the agent ran when it registered. A job
// too large for the registered nodes is refused at submission, naming the
// verdict; --force submits it (it then waits for the two nodes it asks).
TEST_F(OperatorCliTest, NodesDoctorAndTheMemoryCheckOfASubmission) {
  Ran doc = Run({"nodes", "--doctor", "--json"});
  ASSERT_EQ(doc.code, 0) << doc.err;
  const google::protobuf::Struct all = testing::ParseJson(doc.out);
  const auto& nodes = all.fields().at("nodes").list_value();
  ASSERT_EQ(nodes.values_size(), 1) << doc.out;
  const google::protobuf::Struct& node = nodes.values(0).struct_value();
  EXPECT_EQ(testing::Str(node, "hostname"), "node-a");
  EXPECT_NE(testing::Str(node, "verdict"), "");
  bool cpu = false, versions = false;
  for (const auto& c : node.fields().at("checks").list_value().values()) {
    cpu |= testing::Str(c.struct_value(), "area") == "cpu";
    versions |= testing::Str(c.struct_value(), "subject") == "libtorch";
  }
  EXPECT_TRUE(cpu && versions) << doc.out;
  Ran text = Run({"nodes", "--doctor"});
  EXPECT_NE(text.out.find("dstrain doctor: node-a (n-1)"), std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("1 node:"), std::string::npos) << text.out;

  const std::string job =
      WriteFile("huge.yaml",
                testing::TinyJobYaml("huge", 10) + "nodes: {min: 2, max: 2}\n");
  const std::vector<std::string> huge = {"launch",        job,
                                         "--coordinator", address_,
                                         "--token-file",  op_token_,
                                         "--set",         "model.layers=32",
                                         "--set",         "model.d_model=4096",
                                         "--set",         "model.heads=32",
                                         "--detach"};
  Ran refused = RunBare(huge);
  EXPECT_EQ(refused.code, 3) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("the job does not fit"), std::string::npos)
      << refused.err;
  std::vector<std::string> forced = huge;
  forced.push_back("--force");
  Ran submitted = RunBare(forced);
  ASSERT_EQ(submitted.code, 0) << submitted.err;
  EXPECT_NE(submitted.err.find("--force: launching although"),
            std::string::npos)
      << submitted.err;
  std::string id = submitted.out;
  while (!id.empty() && id.back() == '\n') id.pop_back();
  EXPECT_EQ(testing::Str(JobLine(id), "state"), "PENDING");
  EXPECT_EQ(Run({"cancel", id}).code, 0);
}

TEST_F(OperatorCliTest, SigtermToAnAgentPreemptsItsWorkers) {
  const std::string id =
      Submit("agent-stop", "checkpoint: {every_steps: 50}\n");
  ASSERT_TRUE(
      WaitFor([&] { return testing::Num(JobLine(id), "step") > 5; }, 120s));
  agent_->Signal(SIGTERM);
  auto st = agent_->Wait(60s);
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(testing::ShellExitCode(*st), 0);
  EXPECT_NE(agent_->Stdout().find("received SIGTERM, stopping workers with a "
                                  "checkpoint"),
            std::string::npos)
      << agent_->Stdout();
  ASSERT_TRUE(WaitFor(
      [&] { return testing::Str(JobLine(id), "state") == "CANCELLED"; }, 60s));
  EXPECT_NE(testing::Str(JobLine(id), "reason").find("preempted"),
            std::string::npos);
}

}  // namespace
}  // namespace dstrain
