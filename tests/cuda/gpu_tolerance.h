// How close a CUDA result must be to the CPU's for the same op-table row, per
// op and dtype (in the manner of ggml's test-backend-ops). Both devices compute
// f16/bf16 in float and accumulate f32 in float, f64 in double, so differences
// come only from evaluation order and library math:
//   exact          data movement, selection, comparison: bit-identical;
//   arithmetic     + - * / sqrt, dtype casts (copy), dropout's scaling: 1-2 ulp
//                  from FMA contraction or double rounding (f64 -> f32 -> bf16);
//   transcendental exp/log/tanh/...: CUDA's libdevice is within 2 ulp, glibc within 1;
//   reduction      sums, norms, softmax, losses, pooling averages: order of summation;
//   contraction    matmul/linear (cuBLASLt) and conv2d (cuDNN's algorithms, TF32 off).
// f16 and bf16 results are rounded once from float, so one ulp of the half type
// (2^-10, 2^-7 relative) bounds the elementwise classes.
#pragma once

#include <string>

#include "tests/ops/op_case.h"

namespace dlt::testing {

enum class OpClass { exact, arithmetic, transcendental, reduction, contraction };

OpClass op_class(const std::string& op);
const char* op_class_name(OpClass c);

// The tolerance of `op` in `dtype`. Backward passes of broadcast or gathered
// inputs sum gradients, so they are compared at least at the reduction class.
Tolerance gpu_tolerance(const std::string& op, DType dtype, bool backward);

}  // namespace dlt::testing
