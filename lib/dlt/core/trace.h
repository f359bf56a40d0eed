// The profiler: timed, nested ranges from any thread, with two outputs.
//
// - A Chrome trace (JSON traceEvents, for Perfetto and chrome://tracing) of
//   the ranges between start() and stop(): `dlt train --profile`. Ops that
//   run on a GPU are also timed by the device's own clock (events queued on
//   its compute stream) and appear on a track of their own per device, so
//   the trace shows both when an op was launched and how long its kernel ran.
// - A table of time per op: the ops of the traced steps (kernel time on a
//   GPU), returned by stop() next to the trace; or, with DLT_PROFILE_OPS=1
//   (=shapes: keyed by input shapes too) in the environment, of every op of
//   the whole process, each timed alone (the device is waited for before and
//   after), printed to stderr at exit.
//
// While neither is on, a Scope costs one relaxed atomic load, so the steps
// outside the profiled range run as without a profiler. CUDA builds also push
// each traced range as an NVTX range, so Nsight Systems shows the same names.
#pragma once

#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "dlt/core/device.h"

namespace dlt::trace {

bool tracing();            // between start() and stop()
bool op_table_enabled();   // DLT_PROFILE_OPS: every op timed alone, all run long
bool recording();          // either of the two

void start();
struct Recorded {
  std::string chrome_json;  // {"traceEvents": [...]}
  std::string op_table;     // time per op, largest first
};
// Stops tracing and returns what was recorded (and forgets it).
Recorded stop();

// Times its own lifetime as one range of `category` ("step", "forward",
// "backward", "data", "collective", ...) on the calling thread.
class Scope {
 public:
  Scope(const char* category, std::string_view name) : on_(tracing()) {
    if (on_) begin(category, std::string(name));
  }
  // `label()` builds the name only while recording (shapes, sizes).
  template <class F>
    requires std::is_invocable_r_v<std::string, F>
  Scope(const char* category, F&& label) : on_(tracing()) {
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

// One op's kernel on `device`: a range of category "op" named `label()`
// ("matmul [8, 768] [768, 2304]"), counted in the op table under `op` (or
// under the label with DLT_PROFILE_OPS=shapes).
class OpScope {
 public:
  template <class F>
  OpScope(const char* op, Device device, F&& label) : on_(recording()) {
    if (on_) begin(op, device, label());
  }
  ~OpScope() {
    if (on_) end();
  }
  OpScope(const OpScope&) = delete;
  OpScope& operator=(const OpScope&) = delete;

 private:
  void begin(const char* op, Device device, std::string label);
  void end();
  bool on_;
  double start_us_ = 0;
  std::string name_;
  const char* op_ = "";
  Device device_;
  bool traced_ = false;        // in the trace (not only the op table)
  uint64_t device_start_ = 0;  // the device clock's mark (0: none)
};

}  // namespace dlt::trace
