#include "common/contract/mpi_launch_env.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace dstrain::contract {
namespace {

EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(DetectMpiLaunchTest, PlainProcessIsNotAnMpiLaunch) {
  MpiLaunchEnv e = DetectMpiLaunch(Env({{"RANK", "1"}, {"WORLD_SIZE", "2"}}));
  EXPECT_FALSE(e.launched);
  EXPECT_FALSE(e.local_rank.has_value());
}

TEST(DetectMpiLaunchTest, OpenMpiGivesLocalRankAndSize) {
  MpiLaunchEnv e = DetectMpiLaunch(Env({{"OMPI_COMM_WORLD_SIZE", "4"},
                                        {"OMPI_COMM_WORLD_RANK", "3"},
                                        {"OMPI_COMM_WORLD_LOCAL_RANK", "1"},
                                        {"OMPI_COMM_WORLD_LOCAL_SIZE", "2"},
                                        {"PMIX_RANK", "3"}}));
  EXPECT_TRUE(e.launched);
  EXPECT_NE(e.launcher.find("mpirun"), std::string::npos);
  EXPECT_EQ(e.rank, 3);
  EXPECT_EQ(e.local_rank, 1);
  EXPECT_EQ(e.local_size, 2);
}

TEST(DetectMpiLaunchTest, PmixAndPmiLaunchersLeaveLocalRankToMpi) {
  MpiLaunchEnv pmix = DetectMpiLaunch(Env({{"PMIX_RANK", "0"}}));
  EXPECT_TRUE(pmix.launched);
  EXPECT_NE(pmix.launcher.find("PMIx"), std::string::npos);
  EXPECT_FALSE(pmix.local_rank.has_value());
  EXPECT_EQ(pmix.rank, 0);

  MpiLaunchEnv pmi = DetectMpiLaunch(Env({{"PMI_RANK", "5"}}));
  EXPECT_TRUE(pmi.launched);
  EXPECT_NE(pmi.launcher.find("PMI_RANK"), std::string::npos);
  EXPECT_EQ(pmi.rank, 5);
}

TEST(DetectMpiLaunchTest, EmptyOrMalformedValuesAreIgnored) {
  EXPECT_FALSE(DetectMpiLaunch(Env({{"OMPI_COMM_WORLD_SIZE", ""}})).launched);
  MpiLaunchEnv e = DetectMpiLaunch(Env({{"OMPI_COMM_WORLD_SIZE", "2"},
                                        {"OMPI_COMM_WORLD_LOCAL_RANK", "x1"},
                                        {"OMPI_COMM_WORLD_LOCAL_SIZE", "0"}}));
  EXPECT_TRUE(e.launched);
  EXPECT_FALSE(e.local_rank.has_value());
  EXPECT_FALSE(e.local_size.has_value());
}

}  // namespace
}  // namespace dstrain::contract
