// Console progress of a training run, on stderr. On a terminal: one line
// redrawn in place (at most 10 times a second) with a bar, the rate and the
// ETA. Elsewhere (a Slurm log, a pipe): plain lines, one every
// `interval_s` seconds, that read well in a file:
//   step 1200/4690 (25.6%) epoch 2 loss 0.4123 lr 0.001 5230 samples/s eta 0:01:23
// Messages (eval results, checkpoints) are printed on their own lines.
#pragma once

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace dlt::train {

struct ProgressOptions {
  bool interactive = false;  // bar redrawn in place, else plain lines
  double interval_s = 10;    // plain lines: at most one per interval (0: every update)
  int bar_width = 24;
};

class Progress {
 public:
  using Clock = std::chrono::steady_clock;

  // `out` null: prints nothing (the ranks of a distributed run but rank 0).
  Progress(std::FILE* out, ProgressOptions options);
  static bool is_terminal(std::FILE* f);  // isatty

  // Steps first_step .. total_steps are about to run.
  void start(int64_t first_step, int64_t total_steps);
  // After step `step`; `now` is for tests (default: the clock).
  void update(int64_t step, int64_t epoch, double loss, double lr, double samples_per_s,
              Clock::time_point now = Clock::now());
  // The achieved FLOP/s and MFU (when known) shown from now on in the status.
  void set_flops(double flops_per_s, std::optional<double> mfu);
  // A line of its own; a bar being drawn is cleared first and redrawn later.
  void message(std::string_view line);
  void finish();  // ends the bar's line

  static std::string format_duration(double seconds);  // "0:01:23", "1:02:03:04" past a day

 private:
  std::string status(int64_t step, int64_t epoch, double loss, double lr, double samples_per_s,
                     Clock::time_point now) const;

  std::FILE* out_;
  ProgressOptions options_;
  int64_t first_step_ = 0, total_ = 0;
  Clock::time_point started_{}, last_print_{};
  bool printed_ = false;
  std::string flops_;  // " 1.2 TFLOP/s 31% MFU"
  std::string bar_;  // the line currently drawn (interactive)
};

}  // namespace dlt::train
