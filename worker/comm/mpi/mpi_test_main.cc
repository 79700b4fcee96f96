// main() of the tests that run under mpirun: MPI starts before the tests
// (when a launcher started this process) and ends after them. Rank 0 prints
// GoogleTest's usual output; the other ranks print only their failures,
// each line prefixed with "[rank N]", so N copies of the same report do not
// interleave. The process's exit code is its own tests' result; mpirun
// fails when any rank fails.

#include <gtest/gtest.h>

#include <cstdio>

#include "common/contract/mpi_launch_env.h"
#include "worker/comm/mpi/mpi_runtime.h"

namespace {

class RankFailurePrinter : public ::testing::EmptyTestEventListener {
 public:
  explicit RankFailurePrinter(int rank) : rank_(rank) {}

  void OnTestPartResult(const ::testing::TestPartResult& r) override {
    if (!r.failed()) return;
    std::fprintf(stderr, "[rank %d] %s:%d: Failure\n[rank %d] %s\n", rank_,
                 r.file_name() != nullptr ? r.file_name() : "?",
                 r.line_number(), rank_, r.message());
  }

  void OnTestEnd(const ::testing::TestInfo& info) override {
    if (info.result()->Failed()) {
      std::fprintf(stderr, "[rank %d] FAILED %s.%s\n", rank_,
                   info.test_suite_name(), info.name());
    }
  }

 private:
  int rank_;
};

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  namespace mpi = dstrain::comm::mpi;
  if (dstrain::contract::DetectMpiLaunch().launched) {
    auto info = mpi::InitMpi();
    if (!info.ok()) {
      std::fprintf(stderr, "%s\n", info.status().ToString().c_str());
      return 1;
    }
    if (info->rank != 0) {
      ::testing::TestEventListeners& listeners =
          ::testing::UnitTest::GetInstance()->listeners();
      delete listeners.Release(listeners.default_result_printer());
      listeners.Append(new RankFailurePrinter(info->rank));
    }
  }
  const int rc = RUN_ALL_TESTS();
  mpi::FinalizeMpi();
  return rc;
}
