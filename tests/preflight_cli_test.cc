// `dstrain plan`, `dstrain doctor` and `dstrain launch`'s memory check end
// to end: the real binary, its exit codes, text and --json.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/util/dstrain_test.h"
#include "tests/util/subprocess.h"

namespace dstrain {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// The tiny job widened to 6.4B parameters (32 blocks of 12C² + 12C at
// C = 4096, vocabulary 256): 103 GB of fp32 model state per rank at stage 0.
const std::vector<std::string> kHuge = {"--set", "model.layers=32",
                                        "--set", "model.d_model=4096",
                                        "--set", "model.heads=32"};

class PreflightCliTest : public testing::DstrainTest {
 protected:
  Ran Run(const std::vector<std::string>& args) {
    return RunDstrain(args, 120s);
  }
  std::string Job() {
    return WriteFile("job.yaml", testing::TinyJobYaml("preflight", 5));
  }
  static std::vector<std::string> With(std::vector<std::string> a,
                                       const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  }
};

TEST_F(PreflightCliTest, PlanSaysWhetherAJobFitsWithItsExitCode) {
  const std::string job = Job();
  Ran fits = Run({"plan", job});
  EXPECT_EQ(fits.code, 0) << fits.err;
  EXPECT_NE(fits.out.find("\nfits: zero.stage 0 without checkpointing"),
            std::string::npos)
      << fits.out;
  EXPECT_NE(fits.out.find("rule of thumb (params / 1e8 x 0.4 + 6)"),
            std::string::npos);

  Ran huge = Run(With({"plan", job}, kHuge));
  EXPECT_EQ(huge.code, 3) << huge.out << huge.err;
  EXPECT_NE(huge.out.find("DOES NOT FIT"), std::string::npos) << huge.out;

  // The same on a named GPU, as JSON, with a fabric for the collectives.
  Ran json = Run(With({"plan", job, "--json", "--gpu", "A100-80GB", "--nodes",
                       "4", "--procs-per-node", "8", "--cluster",
                       "fat-tree:k=8,levels=2,hosts=16,devices=8", "--set",
                       "zero.stage=3", "--set", "amp.dtype=bf16"},
                      kHuge));
  ASSERT_EQ(json.code, 0) << json.out << json.err;
  const google::protobuf::Struct p = testing::ParseJson(json.out);
  EXPECT_TRUE(p.fields().at("fits").bool_value());
  EXPECT_EQ(testing::Num(p, "params"), 6445211648.0);
  EXPECT_EQ(testing::Num(p, "world"), 32);
  const auto& stages = p.fields().at("stages").list_value();
  ASSERT_EQ(stages.values_size(), 4);
  const google::protobuf::Struct comm =
      p.fields().at("communication").struct_value();
  EXPECT_GT(testing::Num(comm, "predicted_s"), 0);
  EXPECT_GT(testing::Num(p.fields().at("compute").struct_value(),
                         "step_s_at_30pct_mfu"),
            0);

  Ran list = Run({"plan", "--gpu", "list"});
  EXPECT_EQ(list.code, 0);
  EXPECT_NE(list.out.find("H200"), std::string::npos) << list.out;
  Ran bad = Run({"plan", job, "--gpu", "MI300X"});
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("--gpu MI300X: not a device dstrain knows"),
            std::string::npos)
      << bad.err;
  Ran bad_key = Run({"plan", job, "--set", "zero.stag=3"});
  EXPECT_EQ(bad_key.code, 2);
}

TEST_F(PreflightCliTest, LaunchRefusesAJobThatCannotFitBeforeStartingAnything) {
  const std::string job = Job();
  const fs::path run = dir_ / "run";
  Ran r = Run(With({"launch", job, "--run-dir", run.string()}, kHuge));
  EXPECT_EQ(r.code, 3) << r.out << r.err;
  EXPECT_NE(r.err.find("dstrain launch: the job does not fit: zero.stage 0 "
                       "without checkpointing needs"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("--force launches it anyway"), std::string::npos);
  EXPECT_FALSE(fs::exists(run));
}

TEST_F(PreflightCliTest, DoctorOnThisMachineReportsWithoutFailing) {
  Ran r = Run({"doctor", "--data-path", dir_.string()});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("summary: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("MB/s sequential"), std::string::npos) << r.out;
  Ran j = Run({"doctor", "--json", "--no-read-test"});
  ASSERT_EQ(j.code, 0) << j.err;
  const google::protobuf::Struct d = testing::ParseJson(j.out);
  EXPECT_NE(testing::Str(d, "verdict"), "fail");
  EXPECT_GT(d.fields().at("checks").list_value().values_size(), 4);
}

TEST_F(PreflightCliTest, DoctorOverAFakeTreeExitsOneOnADownPort) {
  const fs::path root = dir_ / "root";
  auto put = [&](const std::string& rel, const std::string& text) {
    fs::create_directories((root / rel).parent_path());
    std::ofstream(root / rel) << text << "\n";
  };
  put("proc/cpuinfo", "processor\t: 0\nflags\t: avx2");
  put("sys/class/infiniband/mlx5_0/ports/1/state", "1: DOWN");
  put("sys/class/infiniband/mlx5_0/ports/1/phys_state", "3: Disabled");
  put("sys/class/infiniband/mlx5_0/ports/1/rate", "200 Gb/sec (4X HDR)");
  Ran r = Run({"doctor", "--sys-root", root.string(), "--no-read-test"});
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("port is DOWN (physical state Disabled)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("summary: fail"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace dstrain
