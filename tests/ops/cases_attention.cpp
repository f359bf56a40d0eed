// Test rows for causal_attention, against torch's unfused
// softmax(masked q k^T * scale) v (torch 1.13 has no fused attention).
#include "tests/ops/op_case.h"

namespace dlt::testing {
namespace {

// Sums of T products, then a softmax and sums of T products again.
const std::vector<Tolerance> kAttnTol = {{DType::f32, 2e-5, 2e-5}, {DType::f64, 1e-10, 1e-10}};
// Half types against torch in float32 from the same rounded inputs (torch 1.13
// has no f16/bf16 CPU matmul): dlt also computes in float and rounds only its
// results, so a few ulps of the half type.
const std::vector<Tolerance> kAttnHalfTol = {{DType::f16, 2e-3, 2e-3}, {DType::bf16, 1.6e-2, 1.6e-2}};

// The torch side for inputs of shape (B, H, t, D).
std::string torch_attention(int64_t t, double scale) {
  return fmt::format(
      "torch.softmax((x0 @ x1.transpose(-2, -1) * {}).masked_fill(torch.ones({}, {}, "
      "dtype=torch.bool).triu(1), float('-inf')), -1) @ x2",
      scale, t, t);
}

OpCase attention_row(std::string label, Shape shape, std::optional<double> scale,
                     std::vector<Tolerance> tol = kAttnTol, bool noncontig = false) {
  const int64_t t = shape[2];
  const double s = scale.value_or(1.0 / std::sqrt(double(shape[3])));
  const InputSpec in{.shape = shape, .noncontig = noncontig};
  return {.op = "causal_attention", .label = std::move(label), .inputs = {in, in, in},
          .fn = [scale](const Inputs& x) { return causal_attention(x[0], x[1], x[2], scale); },
          .torch = torch_attention(t, s), .tolerances = std::move(tol)};
}

DLT_OP_CASES(attention) {
  return {
      attention_row("B=2 H=3 T=5 D=4", {2, 3, 5, 4}, std::nullopt),
      attention_row("T=1", {1, 2, 1, 3}, std::nullopt),
      attention_row("scale=0.7 T=17 D=8", {1, 2, 17, 8}, 0.7),
      attention_row("noncontig", {2, 1, 6, 4}, std::nullopt, kAttnTol, true),
      attention_row("half", {1, 2, 9, 8}, std::nullopt, kAttnHalfTol),
  };
}

}  // namespace
}  // namespace dlt::testing
