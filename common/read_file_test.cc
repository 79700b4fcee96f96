#include "common/read_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/testing/status_matchers.h"

namespace dstrain {
namespace {

namespace fs = std::filesystem;
using ::dstrain::testing::IsOk;
using ::dstrain::testing::StatusIs;
using ::testing::HasSubstr;

class ReadConfigFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dstrain_read_file_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(ReadConfigFileTest, ReadsTheWholeFile) {
  const fs::path p = dir_ / "a.yaml";
  std::ofstream(p) << "name: x\n";
  StatusOr<std::string> t = ReadConfigFile(p.string(), 1024, "job file");
  ASSERT_THAT(t, IsOk());
  EXPECT_EQ(*t, "name: x\n");
}

TEST_F(ReadConfigFileTest, SaysWhyItCannotRead) {
  const std::string missing = (dir_ / "nosuch.yaml").string();
  EXPECT_THAT(
      ReadConfigFile(missing, 1024, "cluster description"),
      StatusIs(StatusCode::kNotFound, "cannot read cluster description `" +
                                          missing + "`: no such file"));
  EXPECT_THAT(
      ReadConfigFile(dir_.string(), 1024, "job file"),
      StatusIs(StatusCode::kInvalidArgument, HasSubstr("it is a folder")));
  const std::string fifo = (dir_ / "fifo").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_THAT(
      ReadConfigFile(fifo, 1024, "job file"),
      StatusIs(StatusCode::kInvalidArgument, HasSubstr("not a regular file")));
  if (::geteuid() != 0) {
    const fs::path locked = dir_ / "locked.yaml";
    std::ofstream(locked) << "x";
    ::chmod(locked.c_str(), 0);
    EXPECT_THAT(
        ReadConfigFile(locked.string(), 1024, "job file"),
        StatusIs(StatusCode::kInvalidArgument, HasSubstr("permission denied")));
  }
}

TEST_F(ReadConfigFileTest, RefusesWhatIsTooLargeOrEndless) {
  const fs::path big = dir_ / "big.yaml";
  std::ofstream(big) << std::string(2048, 'x');
  EXPECT_THAT(
      ReadConfigFile(big.string(), 1024, "job file"),
      StatusIs(StatusCode::kInvalidArgument, HasSubstr("larger than 1.0 KiB")));
  // /dev/zero never ends: refused as not a regular file, without reading.
  EXPECT_THAT(
      ReadConfigFile("/dev/zero", 1024, "job file"),
      StatusIs(StatusCode::kInvalidArgument, HasSubstr("not a regular file")));
}

}  // namespace
}  // namespace dstrain
