// Small fixtures shared by the optimizer tests: parameters with gradients
// drawn from a seeded generator (bitwise comparison: tests/test_util.h).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "dlt/ops/ops.h"
#include "dlt/optim/optimizer.h"
#include "tests/test_util.h"

namespace dlt::testing {

using NamedParams = std::vector<std::pair<std::string, Tensor>>;

// Fresh parameters with these names and shapes, values from `seed`.
inline NamedParams make_params(const std::vector<std::pair<std::string, Shape>>& specs,
                               uint64_t seed, DType dtype = DType::f32) {
  Generator gen(seed);
  NamedParams out;
  for (const auto& [name, shape] : specs)
    out.emplace_back(name, randn(shape, dtype, &gen).requires_grad_());
  return out;
}

// Sets every parameter's gradient for step `step` (the same values for the
// same seed and step, whatever happened before).
inline void set_grads(const NamedParams& params, uint64_t seed, int64_t step) {
  Generator gen(seed * 1000003 + uint64_t(step));
  for (const auto& [name, p] : params) {
    Tensor param = p;
    param.set_grad(randn(p.shape(), p.dtype(), &gen));
  }
}

inline optim::ParamGroup one_group(const NamedParams& params, double lr, double weight_decay = 0) {
  optim::ParamGroup g;
  g.params = params;
  g.lr = g.base_lr = lr;
  g.weight_decay = weight_decay;
  return g;
}

inline NamedParams clone_params(const NamedParams& params) {
  NamedParams out;
  for (const auto& [name, p] : params) out.emplace_back(name, p.detach().clone().requires_grad_());
  return out;
}

}  // namespace dlt::testing
