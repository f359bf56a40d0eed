#include "dlt/nn/layers/conv2d.h"
#include "dlt/nn/layers/options.h"

#include <cmath>
#include <limits>

#include "dlt/nn/init.h"
#include "dlt/ops/ops.h"

namespace dlt::nn {

Conv2d::Conv2d(Conv2dOptions o, const Shape& input_shape, BuildContext& ctx) : options(o) {
  check_rank(input_shape, 3, "[C, H, W]");
  in_channels = input_shape[0];
  check_conv_options(in_channels, o.out_channels, o.groups, o.kernel_size, o.stride, o.padding,
                     o.dilation);
  Shape out{o.out_channels, 0, 0};
  for (int i = 0; i < 2; ++i) {
    out[i + 1] = window_output_size(input_shape[i + 1], o.kernel_size[i], o.stride[i],
                                    o.padding[i], o.dilation[i], false);
    DLT_LAYER_CHECK(out[i + 1] >= 1,
                    "kernel {} (dilation {}) is larger than the padded input {} (padding {})",
                    pair_str(o.kernel_size), pair_str(o.dilation), shape_str(input_shape),
                    pair_str(o.padding));
  }
  output_shape_ = out;

  weight = register_parameter(
      "weight", empty({o.out_channels, in_channels / o.groups, o.kernel_size[0], o.kernel_size[1]},
                      param_options(ctx)));
  if (o.bias) bias = register_parameter("bias", empty({o.out_channels}, param_options(ctx)));
  init::linear_default_(weight, bias, ctx.gen);
}

Tensor Conv2d::forward(const Tensor& x) {
  return conv2d(x, weight, bias, options.stride, options.padding, options.dilation,
                options.groups);  // (B, out, H_out, W_out)
}

std::string Conv2d::describe() const {
  std::string s = fmt::format("in={}, out={}, kernel={}", in_channels, options.out_channels,
                              pair_str(options.kernel_size));
  if (options.stride != std::array<int64_t, 2>{1, 1}) s += ", stride=" + pair_str(options.stride);
  if (options.padding != std::array<int64_t, 2>{0, 0}) s += ", padding=" + pair_str(options.padding);
  if (options.dilation != std::array<int64_t, 2>{1, 1})
    s += ", dilation=" + pair_str(options.dilation);
  if (options.groups != 1) s += fmt::format(", groups={}", options.groups);
  if (!options.bias) s += ", bias=false";
  return s;
}

static const LayerInfo kConv2dInfo{
    .summary = "2-D convolution (torch.nn.Conv2d): [C, H, W] -> [out_channels, Ho, Wo]",
    .options = {
        {"out_channels", "", "output channels"},
        {"kernel_size", "", "window size: an integer or [kH, kW]"},
        {"stride", "1", "step of the window: an integer or a pair"},
        {"padding", "0", "zeros added on each side: an integer or a pair"},
        {"dilation", "1", "spacing between the window's taps"},
        {"groups", "1", "channel groups; divides in and out channels"},
        {"bias", "true", "learn a bias per output channel"}},
    .example = "{type: Conv2d, out_channels: 4, kernel_size: 3}",
    .example_input = {2, 6, 6}};

static Built build_conv2d(const config::Node& spec, const Shape& input_shape, BuildContext& ctx) {
  check_options(spec, kConv2dInfo);
  const Conv2dOptions o{.out_channels = read_positive(spec, "out_channels"),
                        .kernel_size = read_pair(spec, "kernel_size", 1),
                        .stride = read_pair(spec, "stride", {1, 1}, 1),
                        .padding = read_pair(spec, "padding", {0, 0}, 0),
                        .dilation = read_pair(spec, "dilation", {1, 1}, 1),
                        .groups = read_int(spec, "groups", 1, 1, std::numeric_limits<int64_t>::max()),
                        .bias = spec.get_or("bias", true)};
  return make_layer<Conv2d>(o, input_shape, ctx);
}
DLT_REGISTER_LAYER(Conv2d, build_conv2d, kConv2dInfo);

}  // namespace dlt::nn
