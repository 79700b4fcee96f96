#include "common/log.h"

#include <gtest/gtest.h>

#include <regex>

namespace dstrain::log {
namespace {

TEST(LogTest, LinesCarryTimeAndLevelOnStderr) {
  ASSERT_TRUE(SetLevel("info"));
  ::testing::internal::CaptureStderr();
  Info("hello {not a format} 42");
  Warn("careful");
  Debug("hidden at info");
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(std::regex_search(
      err, std::regex(R"(\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] \[info\] )"
                      R"(hello \{not a format\} 42\n)")))
      << err;
  EXPECT_NE(err.find("[warning] careful\n"), std::string::npos) << err;
  EXPECT_EQ(err.find("hidden at info"), std::string::npos) << err;
}

TEST(LogTest, LevelFiltersAndUnknownNamesAreRefused) {
  ASSERT_TRUE(SetLevel("error"));
  EXPECT_EQ(Level(), "error");
  EXPECT_FALSE(DebugEnabled());
  ::testing::internal::CaptureStderr();
  Warn("dropped");
  Error("kept");
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(err.find("dropped"), std::string::npos) << err;
  EXPECT_NE(err.find("[error] kept"), std::string::npos) << err;

  EXPECT_FALSE(SetLevel("loud"));
  EXPECT_EQ(Level(), "error");
  ASSERT_TRUE(SetLevel("debug"));
  EXPECT_TRUE(DebugEnabled());
  ::testing::internal::CaptureStderr();
  Debug("shown");
  err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("[debug] shown"), std::string::npos) << err;
  ASSERT_TRUE(SetLevel("warning"));
  EXPECT_EQ(Level(), "warn");
}

}  // namespace
}  // namespace dstrain::log
