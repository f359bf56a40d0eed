#include "dlt/optim/clip.h"

#include <cmath>

#include "dlt/core/grad_mode.h"
#include "dlt/ops/ops.h"

namespace dlt::optim {

double grad_norm(const std::vector<Tensor>& params) {
  NoGradGuard no_grad;
  // Per-tensor norms in the gradient's dtype (as torch), combined in double.
  double sum_of_squares = 0;
  for (const Tensor& p : params) {
    const Tensor& g = p.grad();
    if (!g.defined() || g.numel() == 0) continue;
    const double n = norm(g).item<double>();
    sum_of_squares += n * n;
  }
  return std::sqrt(sum_of_squares);
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
  for (const Tensor& t : tensors)
    if (!all_finite(t)) return false;
  return true;
}

}  // namespace dlt::optim
