// Backward helpers of the convolution and pooling ops (called by their
// autograd formulas), and max_pool2d's indices. Shapes: B batch, C channels,
// H/W input height/width, Ho/Wo output height/width; the batch dim is absent
// for unbatched (C, H, W) inputs.
#pragma once

#include "dlt/ops/attrs.h"
#include "dlt/ops/ops.h"

namespace dlt::ops {

// dx (B, Cin, H, W) of conv2d, from dy (B, Cout, Ho, Wo) and the weight.
Tensor conv2d_backward_input(const Tensor& grad, const Tensor& weight, const Shape& input_shape,
                             const Conv2dAttrs& attrs);

struct Conv2dParamGrads {
  Tensor weight, bias;  // bias undefined unless asked for
};
// dweight (Cout, Cin/groups, kH, kW) and, with_bias, dbias (Cout) of conv2d,
// from dy (B, Cout, Ho, Wo) and the input x.
Conv2dParamGrads conv2d_backward_weight(const Tensor& grad, const Tensor& x,
                                        const Shape& weight_shape, bool with_bias,
                                        const Conv2dAttrs& attrs);

// max_pool2d's values and, for each, the flat index h * W + w of the maximum
// in its input plane (int64), as torch.nn.functional.max_pool2d(return_indices=True).
ValuesIndices max_pool2d_with_indices(const Tensor& x, const Pool2dAttrs& attrs);
// dx (B, C, H, W): each dy element added at its argmax.
Tensor max_pool2d_backward(const Tensor& grad, const Tensor& indices, const Shape& input_shape,
                           const Pool2dAttrs& attrs);
// dx (B, C, H, W): each dy element spread evenly over its window.
Tensor avg_pool2d_backward(const Tensor& grad, const Shape& input_shape, const Pool2dAttrs& attrs);
Tensor adaptive_avg_pool2d_backward(const Tensor& grad, const Shape& input_shape);

}  // namespace dlt::ops
