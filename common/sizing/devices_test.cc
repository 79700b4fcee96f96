#include "common/sizing/devices.h"

#include <gtest/gtest.h>

#include <string>

namespace dstrain::sizing {
namespace {

// The rule of thumb, memory (GB) >= params / 1e8 × 0.4 + 6, on the seven
// devices deployment guides name: the largest model it allows on each.
TEST(RuleOfThumbTest, LargestModelOnTheSevenNamedDevices) {
  struct Want {
    const char* gpu;
    double memory;
    std::int64_t max_params;
  };
  const Want wants[] = {
      {"RTX 3060", 12, 1'500'000'000},   {"RTX 4090", 24, 4'500'000'000},
      {"A40", 48, 10'500'000'000},       {"A100-40GB", 40, 8'500'000'000},
      {"A100-80GB", 80, 18'500'000'000}, {"H100", 80, 18'500'000'000},
      {"H200", 141, 33'750'000'000},
  };
  for (const Want& w : wants) {
    const DeviceSpec* d = FindDevice(w.gpu);
    ASSERT_NE(d, nullptr) << w.gpu;
    EXPECT_EQ(d->memory_gib, w.memory) << w.gpu;
    EXPECT_EQ(RuleOfThumbMaxParams(d->memory_gib), w.max_params) << w.gpu;
    EXPECT_NEAR(RuleOfThumbGb(w.max_params), w.memory, 1e-9) << w.gpu;
  }
  EXPECT_DOUBLE_EQ(RuleOfThumbGb(7'000'000'000), 34.0);
  EXPECT_EQ(RuleOfThumbMaxParams(6), 0);
}

TEST(DevicesTest, FindsNvidiaSmiNamesAndRefusesAmbiguousOnes) {
  EXPECT_STREQ(FindDevice("NVIDIA H100 80GB HBM3")->name, "H100");
  EXPECT_STREQ(FindDevice("NVIDIA A100-SXM4-40GB")->name, "A100-40GB");
  EXPECT_STREQ(FindDevice("a100 80gb")->name, "A100-80GB");
  EXPECT_STREQ(FindDevice("NVIDIA GeForce RTX 4090")->name, "RTX 4090");
  EXPECT_STREQ(FindDevice("rtx3060")->name, "RTX 3060");
  EXPECT_STREQ(FindDevice("NVIDIA A10")->name, "A10");
  EXPECT_STREQ(FindDevice("NVIDIA L40S")->name, "L40S");
  EXPECT_STREQ(FindDevice("NVIDIA H200")->name, "H200");
  EXPECT_EQ(FindDevice("A100"), nullptr);  // 40 or 80 GB
  EXPECT_EQ(FindDevice("MI300X"), nullptr);
  EXPECT_EQ(FindDevice(""), nullptr);
  EXPECT_NE(KnownDeviceNames().find("H200"), std::string::npos);
}

}  // namespace
}  // namespace dstrain::sizing
