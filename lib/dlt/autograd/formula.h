// Backward formulas, one per differentiable op of the op list, registered in
// lib/dlt/autograd/formulas/<family>.cpp:
//
//   DLT_BACKWARD(mul, kSaveInputs) {
//     return {ctx.needs(0) ? sum_to(ctx.grad() * ctx.input(1), ctx.input_shape(0)) : Tensor(),
//             ctx.needs(1) ? sum_to(ctx.grad() * ctx.input(0), ctx.input_shape(1)) : Tensor()};
//   }
//
// Formulas are written with ops, so they run on every backend. They run with
// grad mode off (no higher-order gradients).
#pragma once

#include <any>
#include <span>
#include <vector>

#include "dlt/autograd/saved.h"
#include "dlt/ops/dispatch.h"

namespace dlt::autograd {

// Which forward tensors a formula needs (bit i = input/output i). Saving less
// frees activations earlier.
struct Saves {
  uint32_t inputs = 0;
  uint32_t outputs = 0;
  int differentiable_outputs = 1;  // outputs beyond this never get a gradient
};
inline constexpr Saves kSaveNothing{};
inline constexpr Saves kSaveInputs{~0u, 0};
inline constexpr Saves kSaveOutputs{0, ~0u};
inline constexpr Saves kSaveAll{~0u, ~0u};

struct InputMeta {
  Shape shape;
  DType dtype;
  Device device;
  bool defined;
};

class BackwardContext {
 public:
  const Tensor& grad(size_t i = 0) const { return grads_[i]; }
  const Tensor& input(size_t i) const;   // must have been saved
  const Tensor& output(size_t i) const;  // must have been saved
  const Shape& input_shape(size_t i) const { return inputs_meta_[i].shape; }
  DType input_dtype(size_t i) const { return inputs_meta_[i].dtype; }
  Device input_device(size_t i) const { return inputs_meta_[i].device; }
  bool input_defined(size_t i) const { return inputs_meta_[i].defined; }
  size_t num_inputs() const { return inputs_meta_.size(); }
  bool needs(size_t i) const { return needs_[i]; }  // does input i want a gradient?
  template <class A> const A& attrs() const { return std::any_cast<const A&>(*attrs_); }

 private:
  friend class OpNode;
  const char* name_ = nullptr;
  std::span<const Tensor> grads_;
  const std::vector<SavedTensor>* saved_inputs_ = nullptr;
  const std::vector<SavedTensor>* saved_outputs_ = nullptr;
  std::vector<InputMeta> inputs_meta_;
  std::vector<bool> needs_;
  const std::any* attrs_ = nullptr;
};

using BackwardFn = std::vector<Tensor> (*)(const BackwardContext& ctx);
using AttrsCopier = std::any (*)(const void* attrs);

struct Formula {
  BackwardFn fn = nullptr;
  Saves saves;
  AttrsCopier copy_attrs = nullptr;
};

bool register_formula(ops::OpId op, Formula formula);
const Formula* find_formula(ops::OpId op);

template <class A> std::any copy_attrs(const void* attrs) {
  if constexpr (std::is_same_v<A, ops::NoAttrs>)
    return {};
  else
    return std::any(*static_cast<const A*>(attrs));
}

}  // namespace dlt::autograd

#define DLT_BACKWARD(op, saves)                                                              \
  static std::vector<::dlt::Tensor> dlt_backward_##op(                                       \
      const ::dlt::autograd::BackwardContext& ctx);                                          \
  static const bool dlt_formula_registered_##op = ::dlt::autograd::register_formula(        \
      ::dlt::ops::OpId::op,                                                                  \
      {&dlt_backward_##op, saves,                                                            \
       &::dlt::autograd::copy_attrs<::dlt::ops::attrs_of<::dlt::ops::OpId::op>>});           \
  static std::vector<::dlt::Tensor> dlt_backward_##op(                                       \
      [[maybe_unused]] const ::dlt::autograd::BackwardContext& ctx)
