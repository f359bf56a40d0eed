// Direct-loop 2-D convolution: the float64 path (oneDNN has none) and the
// fallback for any dtype oneDNN cannot run. Accumulation order is fixed, so
// results do not depend on the thread count. Tensors are contiguous; an
// undefined bias / bias gradient is skipped.
#pragma once

#include "dlt/core/tensor.h"
#include "kernels/cpu/conv_geometry.h"

namespace dlt::cpu {

// y = conv(x, weight) + bias
void reference_conv2d_forward(const ConvGeometry& g, const Tensor& x, const Tensor& weight,
                              const Tensor& bias, Tensor& y);
// dx from dy and the weight
void reference_conv2d_backward_input(const ConvGeometry& g, const Tensor& dy,
                                     const Tensor& weight, Tensor& dx);
// dweight (and dbias when defined) from dy and the input
void reference_conv2d_backward_weight(const ConvGeometry& g, const Tensor& dy, const Tensor& x,
                                      Tensor& dweight, Tensor& dbias);

}  // namespace dlt::cpu
