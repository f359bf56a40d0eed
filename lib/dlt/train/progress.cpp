#include "dlt/train/progress.h"

#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>

namespace dlt::train {

Progress::Progress(std::FILE* out, ProgressOptions options) : out_(out), options_(options) {}

bool Progress::is_terminal(std::FILE* f) { return f && ::isatty(::fileno(f)) == 1; }

std::string Progress::format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  auto s = int64_t(seconds + 0.5);
  const int64_t d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60;
  s %= 60;
  return d > 0 ? fmt::format("{}:{:02}:{:02}:{:02}", d, h, m, s) : fmt::format("{}:{:02}:{:02}", h, m, s);
}

void Progress::start(int64_t first_step, int64_t total_steps) {
  first_step_ = first_step;
  total_ = total_steps;
  started_ = Clock::now();
  printed_ = false;
}

std::string Progress::status(int64_t step, int64_t epoch, double loss, double lr, double samples_per_s,
                             Clock::time_point now) const {
  const double elapsed = std::chrono::duration<double>(now - started_).count();
  const int64_t done = step - first_step_ + 1;
  const double eta = done > 0 ? elapsed / double(done) * double(total_ - step) : NAN;
  return fmt::format("epoch {} loss {:.4f} lr {:.3g} {:.0f} samples/s{} eta {}", epoch, loss, lr, samples_per_s,
                     flops_, format_duration(eta));
}

void Progress::update(int64_t step, int64_t epoch, double loss, double lr, double samples_per_s,
                      Clock::time_point now) {
  if (!out_) return;
  const double since = std::chrono::duration<double>(now - last_print_).count();
  const double pct = total_ > 0 ? 100.0 * double(step) / double(total_) : 0;
  if (options_.interactive) {
    if (printed_ && since < 0.1 && step < total_) return;
    const int filled = int(std::clamp(pct / 100.0, 0.0, 1.0) * options_.bar_width + 0.5);
    bar_ = fmt::format("[{}{}] {}/{} {}", std::string(size_t(filled), '#'),
                       std::string(size_t(options_.bar_width - filled), '.'), step, total_,
                       status(step, epoch, loss, lr, samples_per_s, now));
    fmt::print(out_, "\r{}\x1b[K", bar_);  // \x1b[K clears what a longer line left
  } else {
    if (printed_ && since < options_.interval_s && step < total_) return;
    fmt::print(out_, "step {}/{} ({:.1f}%) {}\n", step, total_, pct,
               status(step, epoch, loss, lr, samples_per_s, now));
  }
  std::fflush(out_);
  printed_ = true;
  last_print_ = now;
}

void Progress::set_flops(double flops_per_s, std::optional<double> mfu) {
  flops_ = flops_per_s >= 1e12 ? fmt::format(" {:.3g} TFLOP/s", flops_per_s / 1e12)
                               : fmt::format(" {:.3g} GFLOP/s", flops_per_s / 1e9);
  if (mfu) flops_ += fmt::format(" {:.0f}% MFU", 100 * *mfu);
}

void Progress::message(std::string_view line) {
  if (!out_) return;
  if (options_.interactive && !bar_.empty()) {
    fmt::print(out_, "\r\x1b[K{}\n{}", line, bar_);
  } else {
    fmt::print(out_, "{}\n", line);
  }
  std::fflush(out_);
}

void Progress::finish() {
  if (!out_) return;
  if (options_.interactive && !bar_.empty()) fmt::print(out_, "\n");
  bar_.clear();
  std::fflush(out_);
}

}  // namespace dlt::train
