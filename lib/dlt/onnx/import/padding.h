// Padding as ONNX's Pad defines it, shared by Pad and by the convolutions and
// pools whose pads dlt's kernels cannot take directly (asymmetric ones).
#pragma once

#include <string>
#include <vector>

#include "dlt/core/tensor.h"

namespace dlt::onnx_import {

// x padded on every dim d by begins[d] before and ends[d] after (negative:
// cropped); mode "constant" (with value), "edge", "reflect" or "wrap".
Tensor pad(const Tensor& x, const std::vector<int64_t>& begins, const std::vector<int64_t>& ends,
           const std::string& mode = "constant", double value = 0);

// A tensor of i64 indices on `device`.
Tensor index_tensor(const std::vector<int64_t>& indices, Device device);

}  // namespace dlt::onnx_import
