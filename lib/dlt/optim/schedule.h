// Learning-rate schedules: the rate of each optimizer step as a function of
// the step index (0 = the first step), so a resumed run needs only the step.
// The trainer applies factor(step) to every group (Optimizer::set_lr_factor),
// so groups with other base rates scale alike.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dlt::optim {

enum class ScheduleKind { constant, step, cosine, linear, one_cycle };

struct ScheduleOptions {
  ScheduleKind kind = ScheduleKind::constant;
  double base_lr = 1e-3;  // the optimizer's configured rate: factor 1
  // step: base_lr * gamma^floor(step / step_size) (torch StepLR)
  int64_t step_size = 1;
  double gamma = 0.1;
  // cosine, linear: a linear warm-up, base_lr * (step + 1) / warmup_steps,
  // then a cosine or linear decay from base_lr at warmup_steps to min_lr at
  // total_steps, and min_lr after that.
  int64_t warmup_steps = 0;
  int64_t total_steps = 0;  // also one_cycle
  double min_lr = 0;
  // one_cycle (torch OneCycleLR, cosine annealing, two phases; momentum is
  // not cycled): from max_lr / div_factor up to max_lr over pct_start of
  // total_steps, then down to max_lr / (div_factor * final_div_factor);
  // the last rate holds after total_steps.
  double max_lr = 0;  // 0: base_lr
  double pct_start = 0.3, div_factor = 25, final_div_factor = 1e4;
};

class LrSchedule {
 public:
  // Checks the options (dlt::Error naming the bad one).
  explicit LrSchedule(ScheduleOptions options);

  double lr(int64_t step) const;      // the rate of step `step` (>= 0)
  double factor(int64_t step) const;  // lr(step) / base_lr (0 when base_lr is 0)
  const ScheduleOptions& options() const { return options_; }

 private:
  double one_cycle_lr(int64_t step) const;
  ScheduleOptions options_;
};

// "constant", "step", "cosine", "linear", "one_cycle"; anything else is an
// error listing these.
ScheduleKind schedule_kind(const std::string& name);
std::vector<std::string> schedule_names();

}  // namespace dlt::optim
