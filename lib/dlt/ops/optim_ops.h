// Fused optimizer updates: each call updates one parameter tensor and its
// state in place, in one pass, with torch's semantics (see lib/dlt/optim for
// the optimizers that own the state). Parameters and state are f32 or f64;
// the state buffers have the parameter's shape and dtype and are contiguous.
// Nothing is recorded for autograd.
#pragma once

#include "dlt/core/tensor.h"
#include "dlt/ops/attrs.h"

namespace dlt {

// momentum_buffer: undefined when attrs.momentum == 0.
void sgd_step_(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer,
               const ops::SgdStepAttrs& attrs);

void adam_step_(const Tensor& param, const Tensor& grad, const Tensor& exp_avg,
                const Tensor& exp_avg_sq, const ops::AdamStepAttrs& attrs);

// momentum_buffer: undefined when attrs.momentum == 0; grad_avg: undefined
// unless attrs.centered.
void rmsprop_step_(const Tensor& param, const Tensor& grad, const Tensor& square_avg,
                   const Tensor& momentum_buffer, const Tensor& grad_avg,
                   const ops::RmspropStepAttrs& attrs);

}  // namespace dlt
