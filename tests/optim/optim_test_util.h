// Small fixtures shared by the optimizer tests: parameters with gradients
// drawn from a seeded generator, and bitwise comparison.
#pragma once

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "dlt/ops/ops.h"
#include "dlt/optim/optimizer.h"

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

inline bool bitwise_equal(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape() || a.dtype() != b.dtype()) return false;
  const Tensor ca = a.contiguous(), cb = b.contiguous();
  return std::memcmp(ca.raw_data(), cb.raw_data(), size_t(ca.numel()) * ca.element_size()) == 0;
}

inline NamedParams clone_params(const NamedParams& params) {
  NamedParams out;
  for (const auto& [name, p] : params) out.emplace_back(name, p.detach().clone().requires_grad_());
  return out;
}

}  // namespace dlt::testing
