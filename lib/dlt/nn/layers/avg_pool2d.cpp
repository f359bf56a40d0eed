#include "dlt/nn/layers/avg_pool2d.h"
#include "dlt/nn/layers/options.h"

#include "dlt/ops/ops.h"

namespace dlt::nn {

AvgPool2d::AvgPool2d(AvgPool2dOptions o, const Shape& input_shape, BuildContext&) : options(o) {
  check_rank(input_shape, 3, "[C, H, W]");
  Shape out{input_shape[0], 0, 0};
  for (int i = 0; i < 2; ++i) {
    stride[i] = o.stride[i] == 0 ? o.kernel_size[i] : o.stride[i];
    DLT_LAYER_CHECK(o.kernel_size[i] >= 1 && stride[i] >= 1,
                    "kernel_size and stride must be positive, got kernel_size {}, stride {}",
                    pair_str(o.kernel_size), pair_str(stride));
    DLT_LAYER_CHECK(o.padding[i] >= 0 && 2 * o.padding[i] <= o.kernel_size[i],
                    "padding {} must be between 0 and half the kernel size {}",
                    pair_str(o.padding), pair_str(o.kernel_size));
    out[i + 1] = window_output_size(input_shape[i + 1], o.kernel_size[i], stride[i], o.padding[i],
                                    1, o.ceil_mode);
    DLT_LAYER_CHECK(out[i + 1] >= 1, "kernel {} is larger than the padded input {}",
                    pair_str(o.kernel_size), shape_str(input_shape));
  }
  output_shape_ = out;
}

Tensor AvgPool2d::forward(const Tensor& x) {
  return avg_pool2d(x, options.kernel_size, stride, options.padding, options.ceil_mode,
                    options.count_include_pad);
}

std::string AvgPool2d::describe() const {
  std::string s = fmt::format("kernel={}, stride={}", pair_str(options.kernel_size), pair_str(stride));
  if (options.padding != std::array<int64_t, 2>{0, 0}) s += ", padding=" + pair_str(options.padding);
  if (options.ceil_mode) s += ", ceil_mode=true";
  if (!options.count_include_pad) s += ", count_include_pad=false";
  return s;
}

static const LayerInfo kAvgPool2dInfo{
    .summary = "2-D average pooling (torch.nn.AvgPool2d): [C, H, W] -> [C, Ho, Wo]",
    .options = {
        {"kernel_size", "", "window size: an integer or [kH, kW]"},
        {"stride", "(kernel_size)", "step of the window"},
        {"padding", "0", "zeros added on each side"},
        {"ceil_mode", "false", "round the output size up instead of down"},
        {"count_include_pad", "true", "count padding zeros in the average"}},
    .example = "{type: AvgPool2d, kernel_size: 2}",
    .example_input = {2, 6, 6}};

static Built build_avg_pool2d(const config::Node& spec, const Shape& input_shape,
                              BuildContext& ctx) {
  check_options(spec, kAvgPool2dInfo);
  const auto kernel = read_pair(spec, "kernel_size", 1);
  const AvgPool2dOptions o{.kernel_size = kernel,
                           .stride = read_pair(spec, "stride", kernel, 1),
                           .padding = read_pair(spec, "padding", {0, 0}, 0),
                           .ceil_mode = spec.get_or("ceil_mode", false),
                           .count_include_pad = spec.get_or("count_include_pad", true)};
  return make_layer<AvgPool2d>(o, input_shape, ctx);
}
DLT_REGISTER_LAYER(AvgPool2d, build_avg_pool2d, kAvgPool2dInfo);

}  // namespace dlt::nn
