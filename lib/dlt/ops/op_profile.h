// A per-op time profile for finding where a training step goes: with
// DLT_PROFILE_OPS=1 every kernel call waits for its device before and after
// (so the time is the kernel's, not its launch's) and the process prints a
// table of ops by total time to stderr when it exits; DLT_PROFILE_OPS=shapes
// keys the table by op and input shapes. Slows everything down; only the
// proportions mean something.
#pragma once

#include <chrono>

#include <span>
#include <string>

#include "dlt/core/tensor.h"
#include "dlt/ops/op_list.h"

namespace dlt::ops {

bool op_profile_enabled();  // DLT_PROFILE_OPS set to something other than 0

// "matmul [8192, 768] [768, 2304]": an op and its inputs' shapes, as the
// shapes profile and the --profile trace name a call.
std::string op_with_shapes(OpId op, std::span<const Tensor> in);

void add_op_time(OpId op, std::span<const Tensor> in, double seconds);
void wait_for(Device device);

// Runs `kernel` for `op` on `device`, timing it into the profile.
template <class F>
void profile_op(OpId op, std::span<const Tensor> in, Device device, F&& kernel) {
  wait_for(device);
  const auto start = std::chrono::steady_clock::now();
  kernel();
  wait_for(device);
  add_op_time(op, in,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

}  // namespace dlt::ops
