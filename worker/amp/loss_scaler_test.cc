// LossScaler against torch.amp.GradScaler: the golden sequences that
// tests/data/amp/grad_scaler_reference.py recorded from PyTorch, replayed
// step by step, and the rules spelled out one by one.

#include "worker/amp/loss_scaler.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "common/testing/status_matchers.h"

namespace dstrain::amp {
namespace {

using ::dstrain::testing::IsOk;
using ::testing::Not;

// One GradScaler training step on a parameter p (zeros(2), SGD lr 1), as the
// reference script does: loss = (p * x).sum(), x = 1, inf or nan.
struct StepOutcome {
  bool skipped = false;
  at::Tensor grad;  // after Unscale
};

StepOutcome Step(LossScaler& scaler, at::Tensor& p, double x) {
  p.mutable_grad() = at::Tensor();
  const at::Tensor loss = (p * torch::full({2}, x)).sum();
  scaler.Scale(loss).backward();
  EXPECT_THAT(scaler.Unscale({p.grad()}), IsOk());
  StepOutcome out;
  out.skipped = scaler.ShouldSkipStep();
  out.grad = p.grad().clone();
  if (!out.skipped) {
    torch::NoGradGuard no_grad;
    p.sub_(p.grad());
  }
  EXPECT_THAT(scaler.Update(), IsOk());
  return out;
}

double FlagValue(char flag) {
  switch (flag) {
    case 'i':
      return std::numeric_limits<double>::infinity();
    case 'n':
      return std::nan("");
    default:
      return 1.0;
  }
}

struct GoldenStep {
  char flag;
  double scale;
  std::int64_t tracker;
  bool skipped;
};

struct Scenario {
  std::string name;
  LossScalerOptions options;
  std::vector<GoldenStep> steps;
};

std::vector<Scenario> ReadGolden() {
  const std::string path = std::string(DSTRAIN_SOURCE_DIR) +
                           "/tests/data/amp/grad_scaler_reference.txt";
  std::ifstream in(path);
  EXPECT_TRUE(in) << "cannot read " << path;
  std::vector<Scenario> out;
  std::string line;
  Scenario* cur = nullptr;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream s(line);
    if (line.rfind("scenario ", 0) == 0) {
      out.emplace_back();
      cur = &out.back();
      std::string word, init, growth, backoff, interval;
      s >> word >> cur->name >> word >> init >> word >> growth >> word >>
          backoff >> word >> interval;
      cur->options.init_scale = std::stod(init);
      cur->options.growth_factor = std::stod(growth);
      cur->options.backoff_factor = std::stod(backoff);
      cur->options.growth_interval = std::stoll(interval);
    } else if (line == "end") {
      cur = nullptr;
    } else {
      EXPECT_NE(cur, nullptr) << "step line outside a scenario: " << line;
      if (cur == nullptr) break;
      GoldenStep g;
      std::string scale;
      int skipped = 0;
      s >> g.flag >> scale >> g.tracker >> skipped;
      g.scale = std::stod(scale);
      g.skipped = skipped != 0;
      cur->steps.push_back(g);
    }
  }
  return out;
}

TEST(LossScalerTest, ReplaysTorchGradScalerSequences) {
  const std::vector<Scenario> scenarios = ReadGolden();
  ASSERT_EQ(scenarios.size(), 3u);
  for (const Scenario& sc : scenarios) {
    SCOPED_TRACE(sc.name);
    ASSERT_FALSE(sc.steps.empty());
    StatusOr<LossScaler> scaler = LossScaler::Create(sc.options);
    ASSERT_THAT(scaler, IsOk()) << scaler.status().ToString();
    at::Tensor p = torch::zeros({2}).requires_grad_(true);
    int mismatches = 0;
    for (std::size_t i = 0; i < sc.steps.size() && mismatches < 5; ++i) {
      const GoldenStep& g = sc.steps[i];
      const StepOutcome out = Step(*scaler, p, FlagValue(g.flag));
      const bool same = out.skipped == g.skipped &&
                        scaler->scale() == g.scale &&
                        scaler->growth_tracker() == g.tracker;
      if (!same) {
        ++mismatches;
        ADD_FAILURE() << "step " << i << " flag " << g.flag << ": got (scale "
                      << scaler->scale() << ", tracker "
                      << scaler->growth_tracker() << ", skipped " << out.skipped
                      << "), GradScaler (" << g.scale << ", " << g.tracker
                      << ", " << g.skipped << ")";
      }
      if (g.flag == '.') {
        // Unscaled: the true gradient again.
        EXPECT_TRUE(torch::allclose(out.grad, torch::ones({2}), 1e-6, 0));
      }
    }
  }
}

LossScaler Make(LossScalerOptions o = {}) {
  StatusOr<LossScaler> s = LossScaler::Create(o);
  EXPECT_THAT(s, IsOk()) << s.status().ToString();
  return std::move(s).value();
}

TEST(LossScalerTest, InfOnStepKSkipsItAndHalvesTheScale) {
  LossScaler scaler = Make();
  at::Tensor p = torch::zeros({2}).requires_grad_(true);
  EXPECT_EQ(scaler.scale(), 65536.0);
  for (int step = 0; step < 5; ++step) {
    const at::Tensor before = p.detach().clone();
    const bool inf = step == 3;
    const StepOutcome out = Step(scaler, p, inf ? INFINITY : 1.0);
    EXPECT_EQ(out.skipped, inf) << "step " << step;
    EXPECT_EQ(torch::equal(before, p.detach()), inf) << "step " << step;
    EXPECT_EQ(scaler.scale(), step < 3 ? 65536.0 : 32768.0) << step;
    EXPECT_EQ(scaler.growth_tracker(), step < 3 ? step + 1 : step - 3);
  }
}

TEST(LossScalerTest, TwoThousandCleanStepsDoubleTheScale) {
  LossScaler scaler = Make();
  at::Tensor p = torch::zeros({2}).requires_grad_(true);
  for (int step = 1; step <= 1999; ++step) Step(scaler, p, 1.0);
  EXPECT_EQ(scaler.scale(), 65536.0);
  EXPECT_EQ(scaler.growth_tracker(), 1999);
  EXPECT_FALSE(Step(scaler, p, 1.0).skipped);
  EXPECT_EQ(scaler.scale(), 131072.0);
  EXPECT_EQ(scaler.growth_tracker(), 0);
}

TEST(LossScalerTest, ANonFiniteGrownScaleIsNotApplied) {
  LossScalerOptions o;
  o.init_scale = std::ldexp(1.0, 127);  // × 2 = 2^128: inf in float32
  o.growth_interval = 2;
  LossScaler scaler = Make(o);
  at::Tensor p = torch::zeros({2}).requires_grad_(true);
  Step(scaler, p, 1.0);
  EXPECT_EQ(scaler.growth_tracker(), 1);
  Step(scaler, p, 1.0);
  EXPECT_EQ(scaler.scale(), std::ldexp(1.0, 127));
  EXPECT_EQ(scaler.growth_tracker(), 0);  // reset all the same
}

TEST(LossScalerTest, NanCountsAsInf) {
  LossScaler scaler = Make();
  at::Tensor p = torch::zeros({2}).requires_grad_(true);
  EXPECT_TRUE(Step(scaler, p, std::nan("")).skipped);
  EXPECT_EQ(scaler.scale(), 32768.0);
}

TEST(LossScalerTest, StateRoundTripsAndContinuesTheSameSequence) {
  LossScalerOptions o;
  o.growth_interval = 3;
  LossScaler a = Make(o);
  at::Tensor pa = torch::zeros({2}).requires_grad_(true);
  const std::string flags = "..i.....n.....";
  Step(a, pa, 1.0);
  Step(a, pa, INFINITY);
  Step(a, pa, 1.0);
  const LossScalerState saved = a.state();
  EXPECT_EQ(saved.scale, 32768.0);
  EXPECT_EQ(saved.growth_tracker, 1);
  StatusOr<LossScalerState> parsed =
      ParseLossScalerState(SerializeLossScalerState(saved));
  ASSERT_THAT(parsed, IsOk());
  StatusOr<LossScaler> b = LossScaler::FromState(*parsed);
  ASSERT_THAT(b, IsOk());
  EXPECT_EQ(b->state(), saved);
  at::Tensor pb = pa.detach().clone().requires_grad_(true);
  for (char f : flags) {
    const bool sa = Step(a, pa, FlagValue(f)).skipped;
    const bool sb = Step(*b, pb, FlagValue(f)).skipped;
    EXPECT_EQ(sa, sb);
    EXPECT_EQ(a.state(), b->state());
  }
  EXPECT_TRUE(torch::equal(pa, pb));
}

TEST(LossScalerTest, DisabledScalerIsTheIdentity) {
  LossScaler scaler;  // bf16: no scaling
  EXPECT_FALSE(scaler.enabled());
  const at::Tensor loss = torch::tensor(2.5f);
  EXPECT_TRUE(scaler.Scale(loss).is_same(loss));
  at::Tensor g = torch::tensor({1.0f, INFINITY});
  const at::Tensor before = g.clone();
  EXPECT_THAT(scaler.Unscale({g}), IsOk());
  EXPECT_TRUE(torch::equal(g.isinf(), before.isinf()));
  EXPECT_EQ(g[0].item<float>(), 1.0f);
  EXPECT_FALSE(scaler.ShouldSkipStep());
  EXPECT_THAT(scaler.Update(), IsOk());
  EXPECT_EQ(scaler.scale(), 1.0);
  EXPECT_EQ(scaler.state(), DisabledLossScalerState());
  StatusOr<LossScaler> back = LossScaler::FromState(scaler.state());
  ASSERT_THAT(back, IsOk());
  EXPECT_FALSE(back->enabled());
}

TEST(LossScalerTest, ScaledLossStaysFp32) {
  LossScaler scaler = Make();
  const at::Tensor scaled = scaler.Scale(torch::tensor(0.5f));
  EXPECT_EQ(scaled.scalar_type(), at::kFloat);
  EXPECT_EQ(scaled.item<float>(), 32768.0f);
}

TEST(LossScalerTest, UnscalesSeveralTensorsOfSeveralDtypes) {
  LossScaler scaler = Make();
  at::Tensor a = torch::full({3}, 65536.0f);
  at::Tensor b = torch::full({2}, 131072.0, torch::kFloat64);
  at::Tensor c = torch::full({4}, 65536.0f, torch::kBFloat16);
  ASSERT_THAT(scaler.Unscale({a, at::Tensor(), b}), IsOk());
  ASSERT_THAT(scaler.Unscale({c}), IsOk());  // a second shard, same step
  EXPECT_TRUE(torch::equal(a, torch::ones({3})));
  EXPECT_TRUE(torch::equal(b, torch::full({2}, 2.0, torch::kFloat64)));
  EXPECT_TRUE(torch::equal(c, torch::ones({4}, torch::kBFloat16)));
  EXPECT_FALSE(scaler.ShouldSkipStep());
  // An inf in a later call of the same step still counts.
  at::Tensor d = torch::tensor({1.0f, -INFINITY});
  ASSERT_THAT(scaler.Unscale({d}), IsOk());
  EXPECT_TRUE(scaler.ShouldSkipStep());
  ASSERT_THAT(scaler.Update(), IsOk());
  // The next step starts with a clean flag.
  at::Tensor e = torch::ones({2});
  ASSERT_THAT(scaler.Unscale({e}), IsOk());
  EXPECT_FALSE(scaler.ShouldSkipStep());
}

TEST(LossScalerTest, AdoptedGroupVerdictReplacesTheLocalFlag) {
  LossScaler scaler = Make();
  at::Tensor clean = torch::ones({2});
  ASSERT_THAT(scaler.Unscale({clean}), IsOk());
  ASSERT_EQ(scaler.LocalFoundInf().value(), false);
  ASSERT_THAT(scaler.AdoptGroupFoundInf(true), IsOk());  // another rank's inf
  EXPECT_TRUE(scaler.ShouldSkipStep());
  ASSERT_THAT(scaler.Update(), IsOk());
  EXPECT_EQ(scaler.scale(), 32768.0);
  EXPECT_EQ(scaler.growth_tracker(), 0);

  at::Tensor inf = torch::tensor({INFINITY});
  ASSERT_THAT(scaler.Unscale({inf}), IsOk());
  ASSERT_EQ(scaler.LocalFoundInf().value(), true);
  ASSERT_THAT(scaler.AdoptGroupFoundInf(true), IsOk());
  ASSERT_THAT(scaler.Update(), IsOk());
  EXPECT_EQ(scaler.scale(), 16384.0);

  // Before any Unscale in a step there is no flag to read or replace.
  EXPECT_EQ(scaler.LocalFoundInf().status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(scaler.AdoptGroupFoundInf(false).code(),
            StatusCode::kFailedPrecondition);
}

TEST(LossScalerTest, RefusesMisuse) {
  LossScaler scaler = Make();
  // GradScaler refuses to unscale fp16 gradients.
  at::Tensor half = torch::ones({2}, torch::kHalf);
  const Status fp16 = scaler.Unscale({half});
  EXPECT_EQ(fp16.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(fp16.message().find("float16"), std::string::npos);
  at::Tensor ints = torch::ones({2}, torch::kInt64);
  EXPECT_EQ(scaler.Unscale({ints}).code(), StatusCode::kInvalidArgument);
  // No inf check recorded this step.
  EXPECT_EQ(scaler.Update().code(), StatusCode::kFailedPrecondition);

  LossScalerOptions bad;
  bad.growth_factor = 1.0;
  EXPECT_THAT(LossScaler::Create(bad), Not(IsOk()));
  bad = {};
  bad.backoff_factor = 1.5;
  EXPECT_THAT(LossScaler::Create(bad), Not(IsOk()));
  bad = {};
  bad.init_scale = INFINITY;
  EXPECT_THAT(LossScaler::Create(bad), Not(IsOk()));
}

}  // namespace
}  // namespace dstrain::amp
