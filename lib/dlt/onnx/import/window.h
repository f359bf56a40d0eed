// The sliding-window attributes ONNX's Conv, ConvTranspose and pools share:
// kernel_shape, strides, dilations, pads and auto_pad, resolved per spatial
// dim against the input's spatial size.
#pragma once

#include <vector>

#include "dlt/onnx/import/op_registry.h"

namespace dlt::onnx_import {

struct Window {
  std::vector<int64_t> kernel, strides, dilations;
  std::vector<int64_t> begins, ends;  // pads before and after each spatial dim
  bool symmetric() const { return begins == ends; }
  // Whether dlt's pool kernels take these pads as they are: the same on both
  // sides and at most half the kernel (torch's rule).
  bool pool_pads_fit() const;
};

// `kernel` from kernel_shape or the weight; auto_pad SAME_* pads so that the
// output has ceil(in / stride) positions (Conv and pools, not ConvTranspose).
Window window_of(const NodeContext& n, const Shape& spatial, std::vector<int64_t> kernel);

// dlt's windowed kernels are 2-D: a 1-D input (N, C, L) runs as (N, C, 1, L).
// Refuses other spatial ranks (3-D convolutions and pools).
void check_spatial_rank(const NodeContext& n, int64_t rank);
Tensor as_2d(const Tensor& x);           // (N, C, L) -> (N, C, 1, L); 2-D as is
Tensor from_2d(const Tensor& y, int64_t spatial_rank);
// A 2-D kernel's pair: {fill, v0} for 1-D (1 for sizes, 0 for pads).
std::array<int64_t, 2> pair_of(const std::vector<int64_t>& v, int64_t fill);

}  // namespace dlt::onnx_import
