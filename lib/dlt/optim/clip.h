// Gradient clipping by global norm and the finiteness check the trainer
// uses to stop (or skip a step) on NaN/Inf.
#pragma once

#include <vector>

#include "dlt/core/tensor.h"

namespace dlt::optim {

// torch.nn.utils.clip_grad_norm_: the 2-norm of all the parameters'
// gradients together (parameters without a gradient are ignored; 0 when
// none has one); when it exceeds max_norm every gradient is scaled in place
// by max_norm / (norm + 1e-6). Returns the norm before clipping. A
// non-finite norm leaves the gradients untouched: the caller decides.
double clip_grad_norm(const std::vector<Tensor>& params, double max_norm);

// The gradients of the parameters that have one, in order.
std::vector<Tensor> grads_of(const std::vector<Tensor>& params);

// The 2-norm of all the parameters' gradients together, without clipping.
double grad_norm(const std::vector<Tensor>& params);

// Whether every element of every defined tensor is finite (no NaN, no Inf).
bool all_finite(const std::vector<Tensor>& tensors);
bool all_finite(const Tensor& tensor);

}  // namespace dlt::optim
