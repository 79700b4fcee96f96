// The scaler state's text form: exact round trips, and every malformed or
// out-of-range field named.

#include "worker/amp/loss_scaler_state.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "common/testing/status_matchers.h"

namespace dstrain::amp {
namespace {

using ::dstrain::testing::IsOk;
using ::testing::Not;

LossScalerState Odd() {
  LossScalerState s;
  s.scale = std::ldexp(1.0, -20) * 3;  // not a power of two
  s.growth_tracker = 1999;
  s.growth_factor = 3.0;
  s.backoff_factor = 0.3;  // not exact in binary: hex keeps every bit
  s.growth_interval = 2000;
  return s;
}

TEST(LossScalerStateTest, DefaultsAreGradScalers) {
  const LossScalerState s;
  EXPECT_TRUE(s.enabled);
  EXPECT_EQ(s.scale, 65536.0);
  EXPECT_EQ(s.growth_tracker, 0);
  EXPECT_EQ(s.growth_factor, 2.0);
  EXPECT_EQ(s.backoff_factor, 0.5);
  EXPECT_EQ(s.growth_interval, 2000);
  EXPECT_THAT(ValidateLossScalerState(s), IsOk());
}

TEST(LossScalerStateTest, RoundTripsExactly) {
  const LossScalerState largest = [] {
    LossScalerState s;
    s.scale = std::numeric_limits<float>::max();
    return s;
  }();
  for (const LossScalerState& s :
       {LossScalerState{}, Odd(), largest, DisabledLossScalerState()}) {
    const std::string text = SerializeLossScalerState(s);
    StatusOr<LossScalerState> back = ParseLossScalerState(text);
    ASSERT_THAT(back, IsOk()) << text << ": " << back.status().ToString();
    EXPECT_EQ(*back, s) << text;
  }
}

TEST(LossScalerStateTest, TextIsOneReadableLine) {
  EXPECT_EQ(SerializeLossScalerState(LossScalerState{}),
            "loss_scaler v1 enabled=1 scale=0x1p+16 growth_tracker=0 "
            "growth_factor=0x1p+1 backoff_factor=0x1p-1 growth_interval=2000");
}

TEST(LossScalerStateTest, KeysInAnyOrderAndDecimalNumbers) {
  StatusOr<LossScalerState> s = ParseLossScalerState(
      "loss_scaler v1 growth_interval=10 backoff_factor=0.25 "
      "growth_factor=4 growth_tracker=9 scale=1024 enabled=1");
  ASSERT_THAT(s, IsOk()) << s.status().ToString();
  EXPECT_EQ(s->scale, 1024.0);
  EXPECT_EQ(s->growth_tracker, 9);
  EXPECT_EQ(s->growth_factor, 4.0);
  EXPECT_EQ(s->backoff_factor, 0.25);
  EXPECT_EQ(s->growth_interval, 10);
}

void ExpectError(const std::string& text, const std::string& needle) {
  StatusOr<LossScalerState> s = ParseLossScalerState(text);
  ASSERT_THAT(s, Not(IsOk())) << text;
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find(needle), std::string::npos)
      << s.status().message() << " should mention " << needle;
}

TEST(LossScalerStateTest, MalformedTextIsNamed) {
  const std::string ok = SerializeLossScalerState(LossScalerState{});
  ExpectError("", "does not start with");
  ExpectError("grad_scaler v1 enabled=1", "does not start with");
  ExpectError(ok + " extra=1", "unknown key 'extra'");
  ExpectError(ok + " scale=1", "scale given twice");
  ExpectError(ok + " junk", "'junk' is not key=value");
  ExpectError(
      "loss_scaler v1 enabled=1 scale=1 growth_tracker=0 "
      "growth_factor=2 backoff_factor=0.5",
      "missing growth_interval");
  ExpectError(
      "loss_scaler v1 enabled=yes scale=1 growth_tracker=0 "
      "growth_factor=2 backoff_factor=0.5 growth_interval=5",
      "enabled = 'yes' is not 0 or 1");
  ExpectError(
      "loss_scaler v1 enabled=1 scale=1x growth_tracker=0 "
      "growth_factor=2 backoff_factor=0.5 growth_interval=5",
      "scale = '1x' is not a number");
  ExpectError(
      "loss_scaler v1 enabled=1 scale=1 growth_tracker=0.5 "
      "growth_factor=2 backoff_factor=0.5 growth_interval=5",
      "growth_tracker = '0.5' is not an integer");
  ExpectError(
      "loss_scaler v1 enabled=1 scale=1 growth_tracker=0 "
      "growth_factor=2 backoff_factor=0.5 growth_interval=",
      "growth_interval = '' is not an integer");
}

TEST(LossScalerStateTest, OutOfRangeValuesAreNamed) {
  auto with = [](auto change) {
    LossScalerState s;
    change(s);
    return SerializeLossScalerState(s);
  };
  ExpectError(with([](auto& s) { s.scale = INFINITY; }), "scale = inf");
  ExpectError(with([](auto& s) { s.scale = 0; }), "scale = 0");
  ExpectError(with([](auto& s) { s.scale = 0.1; }), "finite float32 value");
  ExpectError(with([](auto& s) { s.growth_factor = 1.0; }), "growth_factor");
  ExpectError(with([](auto& s) { s.backoff_factor = 1.0; }), "backoff_factor");
  ExpectError(with([](auto& s) { s.backoff_factor = 0; }), "backoff_factor");
  ExpectError(with([](auto& s) { s.growth_interval = 0; }),
              "growth_interval = 0");
  // A tracker at the interval would never fire again (the update compares
  // tracker + 1 == interval).
  ExpectError(with([](auto& s) { s.growth_tracker = 2000; }),
              "growth_tracker = 2000");
  ExpectError(with([](auto& s) { s.growth_tracker = -1; }),
              "growth_tracker = -1");
  ExpectError(with([](auto& s) {
                s.enabled = false;
                s.scale = 2;
              }),
              "must be 1 when disabled");
}

}  // namespace
}  // namespace dstrain::amp
