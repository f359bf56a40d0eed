// Backward formulas of matmul and linear.
#include "dlt/autograd/formula.h"
#include "dlt/ops/ops.h"

namespace dlt::autograd {
namespace {

// a (..., M, K) @ b (..., K, N) = y (..., M, N):
//   grad_a = g @ b^T, grad_b = a^T @ g, each summed over the batch dims its
//   operand was broadcast along. A vector a is a row (1, K), a vector b a
//   column (K, 1); their gradients are squeezed back.
DLT_BACKWARD(matmul, kSaveInputs) {
  const Tensor &a = ctx.input(0), &b = ctx.input(1);
  const Tensor a2 = a.dim() == 1 ? a.unsqueeze(0) : a;
  const Tensor b2 = b.dim() == 1 ? b.unsqueeze(1) : b;
  Tensor g = ctx.grad();
  if (b.dim() == 1) g = g.unsqueeze(g.dim());
  if (a.dim() == 1) g = g.unsqueeze(g.dim() - 1);  // g is now (..., M, N)

  Tensor grad_a, grad_b;
  if (ctx.needs(0))
    grad_a = sum_to(matmul(g, b2.transpose(-1, -2)), a2.shape()).reshape(a.shape());
  if (ctx.needs(1)) {
    if (b2.dim() == 2 && a2.dim() > 2) {
      // b shared by every batch: one GEMM over all rows, (K, B*M) @ (B*M, N).
      const int64_t k = a2.size(-1), n = b2.size(-1);
      grad_b = matmul(a2.reshape({-1, k}).t(), g.reshape({-1, n}));
    } else {
      grad_b = sum_to(matmul(a2.transpose(-1, -2), g), b2.shape());
    }
    grad_b = grad_b.reshape(b.shape());
  }
  return {grad_a, grad_b};
}

// y (*, out) = x (*, in) @ W^T + b:  grad_x = g @ W,  grad_W = g^T @ x and
// grad_b = sum of g, both over all leading dims flattened.
constexpr Saves kSaveInputAndWeight{0b011, 0};
DLT_BACKWARD(linear, kSaveInputAndWeight) {
  const Tensor& g = ctx.grad();
  const Tensor &x = ctx.input(0), &w = ctx.input(1);
  const int64_t out_features = w.size(0), in_features = w.size(1);
  Tensor grad_x, grad_w, grad_b;
  if (ctx.needs(0)) grad_x = matmul(g, w);
  if (ctx.needs(1) || ctx.needs(2)) {
    // R from the leading dims, not -1: reshape cannot infer it when out or in is 0.
    const int64_t rows = numel_of(Shape(g.shape().begin(), g.shape().end() - 1));
    const Tensor g2 = g.reshape({rows, out_features});  // (R, out)
    if (ctx.needs(1)) grad_w = matmul(g2.t(), x.reshape({rows, in_features}));
    if (ctx.needs(2)) grad_b = g2.sum({0});
  }
  return {grad_x, grad_w, grad_b};
}

}  // namespace
}  // namespace dlt::autograd
