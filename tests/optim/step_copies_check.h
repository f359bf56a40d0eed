// The fused optimizer ops writing low-precision copies (mixed precision):
// on a device, for every op and both copy dtypes, a step that writes copies
// leaves parameters and state bit for bit as a step without, and each copy
// equal to its new parameter rounded by to() on that device. The parameters have odd sizes
// (an empty one, a strided view, one spanning several of the CPU kernel's
// copy blocks with a ragged end) and edge values: a NaN, infinities, a value
// past f16's range, f16 and f32 subnormals, a negative zero.
#pragma once

#include <functional>
#include <span>
#include <vector>

#include "dlt/ops/ops.h"
#include "dlt/ops/optim_ops.h"
#include "tests/test_util.h"

namespace dlt::testing {

using StateLists = std::vector<std::vector<Tensor>>;  // [slot][parameter]

struct CopyStepCase {
  const char* name;
  int slots;  // state buffers per parameter
  std::function<void(std::span<const Tensor> params, std::span<const Tensor> grads, const StateLists& state,
                     int step, std::span<const Tensor> copies)>
      run;
};

inline std::vector<CopyStepCase> copy_step_cases() {
  const auto list = [](const StateLists& s, size_t k) { return std::span<const Tensor>(s[k]); };
  return {
      {"sgd", 0,
       [](auto p, auto g, const StateLists&, int, auto c) {
         sgd_step_(p, g, {}, {.lr = 0.1, .weight_decay = 0.01}, c);
       }},
      {"sgd momentum nesterov", 1,
       [=](auto p, auto g, const StateLists& s, int step, auto c) {
         sgd_step_(p, g, list(s, 0),
                   {.lr = 0.1, .momentum = 0.9, .weight_decay = 0.01, .nesterov = true, .first_step = step == 1}, c);
       }},
      {"adamw", 2,
       [=](auto p, auto g, const StateLists& s, int step, auto c) {
         adam_step_(p, g, list(s, 0), list(s, 1),
                    {.lr = 1e-2, .weight_decay = 0.1, .decoupled_weight_decay = true, .step = step}, c);
       }},
      {"rmsprop centered momentum", 3,
       [=](auto p, auto g, const StateLists& s, int, auto c) {
         rmsprop_step_(p, g, list(s, 0), list(s, 1), list(s, 2),
                       {.lr = 1e-2, .weight_decay = 0.01, .momentum = 0.5, .centered = true}, c);
       }},
  };
}

// Parameters on `device`: shapes {5, 3}, {0, 4}, a transposed (6, 4) view,
// {1}, {5000} holding the edge values, {3, 2, 7}.
inline std::vector<Tensor> copy_step_params(Device device) {
  Generator gen(17);
  std::vector<Tensor> params;
  for (const Shape& s : std::vector<Shape>{{5, 3}, {0, 4}, {4, 6}, {1}, {5000}, {3, 2, 7}}) {
    Tensor p = uniform(s, -2, 2, DType::f32, &gen);
    if (s == Shape{5000}) {
      std::vector<float> v = to_vector<float>(p);
      const float edge[] = {NAN, INFINITY, -INFINITY, 70000.f, -65520.f, 3e-6f, -6e-8f, 1e-41f, -0.0f, 65504.f};
      for (size_t k = 0; k < std::size(edge); ++k) v[k * 499] = edge[k];
      p = from_vector(v, s);
    }
    p = p.to(device);
    params.push_back(s == Shape{4, 6} ? p.view({6, 4}).t() : p);
  }
  return params;
}

inline void expect_steps_write_exact_copies(Device device) {
  const auto host = [](const Tensor& t) { return t.to(Device::cpu()); };
  for (const CopyStepCase& c : copy_step_cases()) {
    for (const DType low : {DType::bf16, DType::f16}) {
      SCOPED_TRACE(fmt::format("{}, {} copies, on {}", c.name, low, device));
      const std::vector<Tensor> with = copy_step_params(device);
      std::vector<Tensor> without, copies;
      StateLists state_with(size_t(c.slots)), state_without(size_t(c.slots));
      for (const Tensor& p : with) {
        without.push_back(p.clone());
        copies.push_back(empty(p.shape(), TensorOptions(low).device(device)));
        for (int k = 0; k < c.slots; ++k) {
          state_with[size_t(k)].push_back(zeros(p.shape(), TensorOptions(DType::f32).device(device)));
          state_without[size_t(k)].push_back(zeros(p.shape(), TensorOptions(DType::f32).device(device)));
        }
      }
      for (int step = 1; step <= 3; ++step) {
        Generator gen(uint64_t(100 + step));
        std::vector<Tensor> grads;
        for (const Tensor& p : with) grads.push_back(uniform(p.shape(), -1, 1, DType::f32, &gen).to(device));
        c.run(with, grads, state_with, step, copies);
        c.run(without, grads, state_without, step, {});
        for (size_t i = 0; i < with.size(); ++i) {
          EXPECT_TRUE(bitwise_equal(host(with[i]), host(without[i]))) << "parameter " << i << ", step " << step;
          // to() on the same device: a NaN's bits may differ between devices.
          EXPECT_TRUE(bitwise_equal(host(copies[i]), host(with[i].to(low)))) << "copy " << i << ", step " << step;
          for (int k = 0; k < c.slots; ++k)
            EXPECT_TRUE(bitwise_equal(host(state_with[size_t(k)][i]), host(state_without[size_t(k)][i])))
                << "state " << k << " of parameter " << i;
        }
      }
    }
  }
}

}  // namespace dlt::testing
