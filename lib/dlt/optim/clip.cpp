#include "dlt/optim/clip.h"

#include <cmath>

#include "dlt/core/grad_mode.h"
#include "dlt/ops/ops.h"
#include "dlt/ops/optim_ops.h"

namespace dlt::optim {

std::vector<Tensor> grads_of(const std::vector<Tensor>& params) {
  std::vector<Tensor> grads;
  for (const Tensor& p : params)
    if (p.grad().defined()) grads.push_back(p.grad());
  return grads;
}

double grad_norm(const std::vector<Tensor>& params) {
  NoGradGuard no_grad;
  std::vector<Tensor> grads;
  bool fused = true;  // f32/f64 on one device: one sum_squares pass over them all
  for (const Tensor& p : params) {
    const Tensor& g = p.grad();
    if (!g.defined() || g.numel() == 0) continue;
    fused = fused && (g.dtype() == DType::f32 || g.dtype() == DType::f64) &&
            (grads.empty() || g.device() == grads[0].device());
    grads.push_back(g);
  }
  if (grads.empty()) return 0;
  if (fused) return std::sqrt(sum(sum_squares(grads)).item<double>());
  // Otherwise per-tensor norms in the gradient's dtype (as torch), combined
  // in double where they were computed: one read back per call, not one per
  // tensor (on a GPU each read back waits for the device).
  std::vector<Tensor> norms;
  for (const Tensor& g : grads)
    norms.push_back(norm(g).to(DType::f64).to(norms.empty() ? g.device() : norms[0].device()));
  const Tensor n = stack(norms);
  return std::sqrt(sum(n * n).item<double>());
}

double clip_grad_norm(const std::vector<Tensor>& params, double max_norm) {
  DLT_CHECK(std::isfinite(max_norm) && max_norm > 0,
            "clip_grad_norm: max_norm must be a positive number, got {}", max_norm);
  const double total = grad_norm(params);
  if (!std::isfinite(total)) return total;
  const double coef = max_norm / (total + 1e-6);
  if (coef >= 1) return total;
  NoGradGuard no_grad;
  for (const Tensor& p : params) {
    Tensor g = p.grad();
    if (g.defined()) g.mul_(coef);
  }
  return total;
}

bool all_finite(const Tensor& tensor) {
  if (!tensor.defined() || tensor.numel() == 0) return true;
  if (!is_floating(tensor.dtype())) return true;
  NoGradGuard no_grad;
  // amax propagates NaN and abs turns -Inf into Inf: one reduction decides.
  return std::isfinite(amax(abs(tensor)).item<double>());
}

bool all_finite(const std::vector<Tensor>& tensors) {
  NoGradGuard no_grad;
  std::vector<Tensor> peaks;  // one read back for all of them, as grad_norm
  for (const Tensor& t : tensors) {
    if (!t.defined() || t.numel() == 0 || !is_floating(t.dtype())) continue;
    peaks.push_back(amax(abs(t)).to(DType::f64).to(peaks.empty() ? t.device() : peaks[0].device()));
  }
  return peaks.empty() || std::isfinite(amax(stack(peaks)).item<double>());
}

}  // namespace dlt::optim
