#include "dlt/onnx/import/window.h"

namespace dlt::onnx_import {

Window window_of(const NodeContext& n, const Shape& spatial, std::vector<int64_t> kernel) {
  const size_t r = spatial.size();
  Window w;
  w.kernel = n.attr_ints("kernel_shape", kernel);
  w.strides = n.attr_ints("strides", std::vector<int64_t>(r, 1));
  w.dilations = n.attr_ints("dilations", std::vector<int64_t>(r, 1));
  DLT_CHECK(w.kernel.size() == r && w.strides.size() == r && w.dilations.size() == r,
            "{}: kernel_shape, strides and dilations need {} values each", n.where(), r);
  const std::string auto_pad = n.attr_string("auto_pad", "NOTSET");
  w.begins.assign(r, 0);
  w.ends.assign(r, 0);
  if (auto_pad == "NOTSET") {
    const auto pads = n.attr_ints("pads", std::vector<int64_t>(2 * r, 0));
    DLT_CHECK(pads.size() == 2 * r, "{}: pads needs {} values, got {}", n.where(), 2 * r, pads.size());
    w.begins.assign(pads.begin(), pads.begin() + static_cast<long>(r));
    w.ends.assign(pads.begin() + static_cast<long>(r), pads.end());
  } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    for (size_t i = 0; i < r; ++i) {
      const int64_t out = (spatial[i] + w.strides[i] - 1) / w.strides[i];
      const int64_t total = std::max<int64_t>(
          0, (out - 1) * w.strides[i] + (w.kernel[i] - 1) * w.dilations[i] + 1 - spatial[i]);
      w.begins[i] = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      w.ends[i] = total - w.begins[i];
    }
  } else {
    DLT_CHECK(auto_pad == "VALID", "{}: auto_pad must be NOTSET, SAME_UPPER, SAME_LOWER or VALID, got '{}'",
              n.where(), auto_pad);
  }
  return w;
}

bool Window::pool_pads_fit() const {
  if (!symmetric()) return false;
  for (size_t i = 0; i < kernel.size(); ++i)
    if (begins[i] > kernel[i] / 2) return false;
  return true;
}

void check_spatial_rank(const NodeContext& n, int64_t rank) {
  DLT_ONNX_SUPPORTED(rank == 1 || rank == 2, "{}: {}-D windows (dlt runs 1-D and 2-D ones)",
                     n.where(), rank);
}

Tensor as_2d(const Tensor& x) { return x.dim() == 3 ? x.unsqueeze(2) : x; }
Tensor from_2d(const Tensor& y, int64_t spatial_rank) { return spatial_rank == 1 ? y.squeeze(2) : y; }

std::array<int64_t, 2> pair_of(const std::vector<int64_t>& v, int64_t fill) {
  return v.size() == 1 ? std::array<int64_t, 2>{fill, v[0]} : std::array<int64_t, 2>{v[0], v[1]};
}

}  // namespace dlt::onnx_import
