// 2-D convolution through oneDNN 2.x primitives. oneDNN picks its own
// (blocked) memory formats; user tensors stay plain NCHW / OIHW and are
// reordered on the way in and out. Primitives and reorders are created once
// per shape, parameters and dtype and cached, so a training step never
// re-creates them. f32 and bf16 run natively where the CPU supports them;
// f16 (and bf16 elsewhere) run the f32 primitive on f32 copies, rounded once.
#pragma once

#include "dlt/core/tensor.h"
#include "kernels/cpu/conv_geometry.h"

namespace dlt::cpu {

// Whether the oneDNN path takes tensors of this dtype (float64 does not).
bool onednn_conv_supports(DType dtype);

// Contiguous tensors, as for the reference loops in conv_reference.h.
void onednn_conv2d_forward(const ConvGeometry& g, const Tensor& x, const Tensor& weight,
                           const Tensor& bias, Tensor& y);
void onednn_conv2d_backward_input(const ConvGeometry& g, const Tensor& dy, const Tensor& weight,
                                  Tensor& dx);
void onednn_conv2d_backward_weight(const ConvGeometry& g, const Tensor& dy, const Tensor& x,
                                   Tensor& dweight, Tensor& dbias);

}  // namespace dlt::cpu
