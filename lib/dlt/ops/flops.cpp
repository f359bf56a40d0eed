#include "dlt/ops/flops.h"

#include <atomic>

namespace dlt::ops {

namespace {

std::atomic<bool> g_on{false};
std::atomic<int64_t> g_flops{0};

// Elements of one filter: Cin / groups * kh * kw of a (Cout, Cin / groups, kh, kw) weight shape.
int64_t filter_size(const Shape& w) { return w.size() == 4 ? w[1] * w[2] * w[3] : 0; }

}  // namespace

int64_t op_flops(OpId op, std::span<const Tensor> in, std::span<const Tensor> out, const void*) {
  switch (op) {
    case OpId::matmul:  // (..., M, K) @ (..., K, N): 2 K per output element
      return 2 * out[0].numel() * in[0].size(-1);
    case OpId::linear:  // x (..., in) W^T, W (out, in)
      return 2 * out[0].numel() * in[1].size(1);
    case OpId::conv2d:  // out (N, Cout, Ho, Wo), weight (Cout, Cin / g, kh, kw)
      return 2 * out[0].numel() * filter_size(in[1].shape());
    case OpId::conv2d_backward_input:  // grad (N, Cout, Ho, Wo), weight
    case OpId::conv_transpose2d:       // x (N, Cin, H, W), weight (Cin, Cout / g, kh, kw)
      return 2 * in[0].numel() * filter_size(in[1].shape());
    case OpId::conv2d_backward_weight:  // grad (N, Cout, Ho, Wo) -> weight (Cout, Cin / g, kh, kw)
      return 2 * in[0].numel() * filter_size(out[0].shape());
    case OpId::causal_attention: {  // q (B, H, T, D): q k^T and p v over the causal half
      const int64_t T = in[0].size(2);
      return 2 * in[0].numel() * T;
    }
    case OpId::causal_attention_backward: {  // four products of the forward's size
      const int64_t T = in[1].size(2);
      return 4 * in[1].numel() * T;
    }
    default: return 0;
  }
}

void enable_flop_count(bool on) { g_on.store(on, std::memory_order_relaxed); }
bool flop_count_enabled() { return g_on.load(std::memory_order_relaxed); }
void add_flops(int64_t flops) { g_flops.fetch_add(flops, std::memory_order_relaxed); }
int64_t flops_counted() { return g_flops.load(std::memory_order_relaxed); }

}  // namespace dlt::ops
