// Learning-rate schedules against torch 1.13's schedulers (StepLR,
// LinearLR then CosineAnnealingLR / LinearLR via SequentialLR, OneCycleLR),
// and their option checks.
#include <fstream>
#include <map>
#include <sstream>

#include "dlt/optim/schedule.h"
#include "tests/optim/torch_runner.h"
#include "tests/test_util.h"

namespace dlt::testing {
namespace {

using optim::LrSchedule;
using optim::ScheduleKind;
using optim::ScheduleOptions;

std::map<std::string, std::vector<double>> torch_rates() {
  TempDir dir("optim_sched");
  const auto out = dir.root() / "rates.txt";
  std::map<std::string, std::vector<double>> rates;
  if (run_torch_script("torch_schedules.py", out.string()) != 0) return rates;
  std::ifstream f(out);
  for (std::string line; std::getline(f, line);) {
    std::istringstream in(line);
    std::string name, value;
    in >> name;
    while (in >> value) rates[name].push_back(std::stod(value));
  }
  return rates;
}

const std::map<std::string, ScheduleOptions>& cases() {
  static const std::map<std::string, ScheduleOptions> c = {
      {"step", {.kind = ScheduleKind::step, .base_lr = 0.1, .step_size = 3, .gamma = 0.5}},
      {"cosine",
       {.kind = ScheduleKind::cosine, .base_lr = 0.1, .warmup_steps = 5, .total_steps = 30, .min_lr = 0.001}},
      {"cosine_min0", {.kind = ScheduleKind::cosine, .base_lr = 0.3, .warmup_steps = 3, .total_steps = 13}},
      {"linear",
       {.kind = ScheduleKind::linear, .base_lr = 0.1, .warmup_steps = 4, .total_steps = 20, .min_lr = 0.01}},
      {"one_cycle", {.kind = ScheduleKind::one_cycle, .base_lr = 0.1, .total_steps = 50}},
      {"one_cycle_odd",
       {.kind = ScheduleKind::one_cycle, .base_lr = 0.02, .total_steps = 17, .pct_start = 0.25,
        .div_factor = 10, .final_div_factor = 100}},
  };
  return c;
}

TEST(LrScheduleVsTorch, RateOfEveryStep) {
  DLT_REQUIRE_TORCH();
  const auto torch = torch_rates();
  ASSERT_EQ(torch.size(), cases().size()) << "torch_schedules.py failed";
  for (const auto& [name, options] : cases()) {
    SCOPED_TRACE(name);
    const LrSchedule schedule(options);
    const std::vector<double>& expected = torch.at(name);
    std::vector<double> actual;
    for (size_t s = 0; s < expected.size(); ++s) actual.push_back(schedule.lr(int64_t(s)));
    // torch's chained (recursive) forms drift from the closed form by rounding.
    const std::string mismatch = compare_close(actual, expected, 1e-10, 1e-15);
    EXPECT_TRUE(mismatch.empty()) << mismatch;
  }
}

TEST(LrSchedule, ConstantAndFactor) {
  const LrSchedule constant({.base_lr = 0.5});
  EXPECT_EQ(constant.lr(0), 0.5);
  EXPECT_EQ(constant.lr(123456), 0.5);
  EXPECT_EQ(constant.factor(7), 1.0);
  const LrSchedule step({.kind = ScheduleKind::step, .base_lr = 0.2, .step_size = 2, .gamma = 0.1});
  EXPECT_DOUBLE_EQ(step.factor(4), 0.01);
}

TEST(LrSchedule, DecaysHoldTheirLastRateAfterTotalSteps) {
  const LrSchedule cosine({.kind = ScheduleKind::cosine, .base_lr = 1, .warmup_steps = 2, .total_steps = 10, .min_lr = 0.1});
  EXPECT_DOUBLE_EQ(cosine.lr(0), 0.5);
  EXPECT_DOUBLE_EQ(cosine.lr(1), 1.0);
  EXPECT_DOUBLE_EQ(cosine.lr(2), 1.0);
  EXPECT_DOUBLE_EQ(cosine.lr(10), 0.1);
  EXPECT_DOUBLE_EQ(cosine.lr(1000), 0.1);
  const LrSchedule one_cycle({.kind = ScheduleKind::one_cycle, .base_lr = 1, .total_steps = 20});
  EXPECT_DOUBLE_EQ(one_cycle.lr(500), one_cycle.lr(19));
  EXPECT_DOUBLE_EQ(one_cycle.lr(19), 1.0 / 25 / 1e4);
}

TEST(LrSchedule, BadOptionsAreErrors) {
  expect_error([] { LrSchedule({.kind = ScheduleKind::step, .step_size = 0}); }, {"step_size must be >= 1"});
  expect_error([] { LrSchedule({.kind = ScheduleKind::cosine, .warmup_steps = 10, .total_steps = 10}); },
               {"total_steps (10) must be greater than warmup_steps (10)"});
  expect_error([] { LrSchedule({.kind = ScheduleKind::linear, .base_lr = 0.1, .total_steps = 10, .min_lr = 0.5}); },
               {"min_lr 0.5 must be in [0, lr = 0.1]"});
  expect_error([] { LrSchedule({.kind = ScheduleKind::one_cycle, .total_steps = 10, .pct_start = 0.05}); },
               {"pct_start 0.05 leaves no rising or no falling phase over 10 steps"});
  expect_error([] { LrSchedule({.base_lr = -1}); }, {"invalid base learning rate -1"});
  expect_error([] { optim::schedule_kind("cosine_warmup"); },
               {"unknown schedule 'cosine_warmup'", "constant, step, cosine, linear, one_cycle"});
  EXPECT_EQ(optim::schedule_kind("one_cycle"), ScheduleKind::one_cycle);
}

}  // namespace
}  // namespace dlt::testing
