// The profiler's recorder: timed, nested ranges ("complete events") from any
// thread, written as a Chrome trace (JSON traceEvents, for Perfetto and
// chrome://tracing). Recording is off until start(); while off, a Scope
// costs one relaxed atomic load, so the training steps outside the profiled
// range run as without a profiler. CUDA builds also push each recorded range
// as an NVTX range, so Nsight Systems shows the same names on its timeline.
#pragma once

#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace dlt::trace {

bool recording();
void start();
// Stops and returns what was recorded as a Chrome trace (and forgets it).
std::string stop();

// Times its own lifetime as one event of `category` ("step", "forward",
// "backward", "op", "data", "collective", ...) on the calling thread.
class Scope {
 public:
  Scope(const char* category, std::string_view name) : on_(recording()) {
    if (on_) begin(category, std::string(name));
  }
  // `label()` builds the name only while recording (shapes, sizes).
  template <class F>
    requires std::is_invocable_r_v<std::string, F>
  Scope(const char* category, F&& label) : on_(recording()) {
    if (on_) begin(category, label());
  }
  ~Scope() {
    if (on_) end();
  }
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  void begin(const char* category, std::string name);
  void end();
  bool on_;
  double start_us_ = 0;
  const char* category_ = "";
  std::string name_;
};

}  // namespace dlt::trace
