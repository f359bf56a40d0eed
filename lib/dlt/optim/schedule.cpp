#include "dlt/optim/schedule.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <numbers>

#include "dlt/core/error.h"

namespace dlt::optim {

namespace {

// torch's _annealing_cos: from `start` at pct 0 to `end` at pct 1.
double anneal_cos(double start, double end, double pct) {
  const double cos_out = std::cos(std::numbers::pi * pct) + 1;
  return end + (start - end) / 2.0 * cos_out;
}

void check_options(const ScheduleOptions& o) {
  DLT_CHECK(std::isfinite(o.base_lr) && o.base_lr >= 0,
            "schedule: invalid base learning rate {}; it must be >= 0", o.base_lr);
  switch (o.kind) {
    case ScheduleKind::constant:
      break;
    case ScheduleKind::step:
      DLT_CHECK(o.step_size >= 1, "step schedule: step_size must be >= 1, got {}", o.step_size);
      DLT_CHECK(std::isfinite(o.gamma) && o.gamma > 0, "step schedule: gamma must be > 0, got {}",
                o.gamma);
      break;
    case ScheduleKind::cosine:
    case ScheduleKind::linear:
      DLT_CHECK(o.warmup_steps >= 0, "schedule: warmup_steps must be >= 0, got {}",
                o.warmup_steps);
      DLT_CHECK(o.total_steps > o.warmup_steps,
                "schedule: total_steps ({}) must be greater than warmup_steps ({})", o.total_steps,
                o.warmup_steps);
      DLT_CHECK(std::isfinite(o.min_lr) && o.min_lr >= 0 && o.min_lr <= o.base_lr,
                "schedule: min_lr {} must be in [0, lr = {}]", o.min_lr, o.base_lr);
      break;
    case ScheduleKind::one_cycle: {
      DLT_CHECK(o.total_steps >= 2, "one_cycle schedule: total_steps must be >= 2, got {}",
                o.total_steps);
      DLT_CHECK(std::isfinite(o.max_lr) && o.max_lr >= 0,
                "one_cycle schedule: max_lr must be >= 0, got {}", o.max_lr);
      const double warm_end = o.pct_start * double(o.total_steps) - 1;
      DLT_CHECK(std::isfinite(o.pct_start) && warm_end > 0 && warm_end < double(o.total_steps - 1),
                "one_cycle schedule: pct_start {} leaves no rising or no falling phase over {} "
                "steps",
                o.pct_start, o.total_steps);
      DLT_CHECK(std::isfinite(o.div_factor) && o.div_factor > 0,
                "one_cycle schedule: div_factor must be > 0, got {}", o.div_factor);
      DLT_CHECK(std::isfinite(o.final_div_factor) && o.final_div_factor > 0,
                "one_cycle schedule: final_div_factor must be > 0, got {}", o.final_div_factor);
      break;
    }
  }
}

}  // namespace

LrSchedule::LrSchedule(ScheduleOptions options) : options_(options) { check_options(options_); }

double LrSchedule::lr(int64_t step) const {
  DLT_CHECK(step >= 0, "schedule: step must be >= 0, got {}", step);
  const ScheduleOptions& o = options_;
  switch (o.kind) {
    case ScheduleKind::constant:
      return o.base_lr;
    case ScheduleKind::step:
      return o.base_lr * std::pow(o.gamma, double(step / o.step_size));
    case ScheduleKind::cosine:
    case ScheduleKind::linear: {
      if (step < o.warmup_steps) return o.base_lr * double(step + 1) / double(o.warmup_steps);
      const double progress = std::min(
          1.0, double(step - o.warmup_steps) / double(o.total_steps - o.warmup_steps));
      const double shape = o.kind == ScheduleKind::cosine
                               ? 0.5 * (1 + std::cos(std::numbers::pi * progress))
                               : 1 - progress;
      return o.min_lr + (o.base_lr - o.min_lr) * shape;
    }
    case ScheduleKind::one_cycle:
      return one_cycle_lr(step);
  }
  return o.base_lr;
}

// torch.optim.lr_scheduler.OneCycleLR (three_phase=False, anneal_strategy="cos").
double LrSchedule::one_cycle_lr(int64_t step) const {
  const ScheduleOptions& o = options_;
  const double max_lr = o.max_lr > 0 ? o.max_lr : o.base_lr;
  const double initial_lr = max_lr / o.div_factor;
  const double final_lr = initial_lr / o.final_div_factor;
  const double warm_end = o.pct_start * double(o.total_steps) - 1;
  const double last = double(o.total_steps - 1);
  const double s = std::min(double(step), last);
  if (s <= warm_end) return anneal_cos(initial_lr, max_lr, s / warm_end);
  return anneal_cos(max_lr, final_lr, (s - warm_end) / (last - warm_end));
}

double LrSchedule::factor(int64_t step) const {
  return options_.base_lr > 0 ? lr(step) / options_.base_lr : 0;
}

std::vector<std::string> schedule_names() {
  return {"constant", "step", "cosine", "linear", "one_cycle"};
}

ScheduleKind schedule_kind(const std::string& name) {
  const std::vector<std::string> names = schedule_names();
  const auto it = std::find(names.begin(), names.end(), name);
  DLT_CHECK(it != names.end(), "unknown schedule '{}'; known: {}", name, fmt::join(names, ", "));
  return static_cast<ScheduleKind>(it - names.begin());
}

}  // namespace dlt::optim
