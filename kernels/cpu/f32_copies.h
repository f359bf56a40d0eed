// f32 copies of 16-bit tensors, for the matrix products and convolutions
// oneDNN has no f16/bf16 kernel for on this CPU: widen the operands with the
// vector conversions of loops.h, run the f32 primitive, round the result into
// the 16-bit tensor once (to nearest even). The same values as a primitive
// that converts internally, without oneDNN's generic reorders.
#pragma once

#include "dlt/core/tensor.h"
#include "kernels/cpu/loops.h"

namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE {

inline bool is_16_bit_float(DType t) { return t == DType::f16 || t == DType::bf16; }

// An f32 copy of t; undefined stays undefined.
inline Tensor f32_copy(const Tensor& t) {
  if (!t.defined()) return t;
  Tensor wide = empty(t.shape(), DType::f32);
  visit_floating(t.dtype(), "f32_copy",
                 [&]<class T>() { map<float, T>(wide, {&t}, [](float x) { return x; }); });
  return wide;
}

// out (16-bit) = wide (f32), rounded once; undefined out: nothing to do.
inline void round_into(Tensor& out, const Tensor& wide) {
  if (!out.defined()) return;
  visit_floating(out.dtype(), "round_into",
                 [&]<class T>() { map<T, float>(out, {&wide}, [](float x) { return x; }); });
}

// An f32 tensor of out's shape to compute into, undefined when out is.
inline Tensor f32_like(const Tensor& out) {
  return out.defined() ? empty(out.shape(), DType::f32) : Tensor();
}

}  // namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE
