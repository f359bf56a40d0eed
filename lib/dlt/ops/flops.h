// Floating-point operations of the ops that dominate training (matrix
// products, convolutions, attention; a multiply-add counts 2), counted as
// the ops run, for throughput and model FLOPs utilisation. Backward passes
// count through the ops they run (a linear's gradients are matmuls), the
// fused backward kernels (convolution, attention) by their own formulas.
// Elementwise ops and reductions count nothing: they are memory-bound.
#pragma once

#include <cstdint>
#include <span>

#include "dlt/core/tensor.h"
#include "dlt/ops/op_list.h"

namespace dlt::ops {

// The FLOPs of one call (0 for ops that are not counted).
int64_t op_flops(OpId op, std::span<const Tensor> in, std::span<const Tensor> out, const void* attrs);

// A process-wide running total, off until enabled (the dispatcher adds each
// call's FLOPs while it is on).
void enable_flop_count(bool on);
bool flop_count_enabled();
void add_flops(int64_t flops);
int64_t flops_counted();

}  // namespace dlt::ops
