// Causal attention for layers that cache keys and values, with grouped-query
// heads: q (B, H, Tq, D) at positions offset .. offset + Tq - 1 against k, v
// (B, Hkv, offset + Tq, D), Hkv dividing H -> (B, H, Tq, D).
//
// Without a cache offset it runs the fused causal_attention op (on a GPU
// for D <= 128); otherwise the reference path below, which never
// repeats k or v: the G = H / Hkv query heads of a group are stacked along
// the rows, (B, Hkv, G * Tq, D) @ (B, Hkv, D, Tk), one batched GEMM per group.
#pragma once

#include "dlt/core/tensor.h"

namespace dlt::nn {

Tensor grouped_causal_attention(const Tensor& q, const Tensor& k, const Tensor& v, int64_t offset);

}  // namespace dlt::nn
