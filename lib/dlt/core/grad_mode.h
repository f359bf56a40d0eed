// Whether ops record autograd history on this thread (torch.no_grad()).
#pragma once

namespace dlt {

class GradMode {
 public:
  static bool enabled();
  static void set_enabled(bool enabled);
};

// RAII: no history is recorded while it lives (evaluation, optimizer steps).
class NoGradGuard {
 public:
  NoGradGuard() : prev_(GradMode::enabled()) { GradMode::set_enabled(false); }
  ~NoGradGuard() { GradMode::set_enabled(prev_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool prev_;
};

}  // namespace dlt
