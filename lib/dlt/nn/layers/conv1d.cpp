#include "dlt/nn/layers/conv1d.h"

#include <cmath>
#include <limits>

#include "dlt/nn/init.h"
#include "dlt/nn/layers/options.h"
#include "dlt/ops/ops.h"

namespace dlt::nn {

Conv1d::Conv1d(Conv1dOptions o, const Shape& input_shape, BuildContext& ctx) : options(o) {
  check_rank(input_shape, 2, "[C, L]");
  in_channels = input_shape[0];
  check_conv_options(in_channels, o.out_channels, o.groups, o.kernel_size, o.stride, o.padding,
                     o.dilation);
  const int64_t length =
      window_output_size(input_shape[1], o.kernel_size, o.stride, o.padding, o.dilation, false);
  DLT_LAYER_CHECK(length >= 1,
                  "kernel {} (dilation {}) is larger than the padded input {} (padding {})",
                  o.kernel_size, o.dilation, shape_str(input_shape), o.padding);
  output_shape_ = {o.out_channels, length};

  weight = register_parameter(
      "weight", empty({o.out_channels, in_channels / o.groups, o.kernel_size}, param_options(ctx)));
  if (o.bias) bias = register_parameter("bias", empty({o.out_channels}, param_options(ctx)));
  init::linear_default_(weight, bias, ctx.gen);
}

Tensor Conv1d::forward(const Tensor& x) {
  return conv1d(x, weight, bias, options.stride, options.padding, options.dilation,
                options.groups);  // (B, out, L_out)
}

std::string Conv1d::describe() const {
  std::string s = fmt::format("in={}, out={}, kernel={}", in_channels, options.out_channels,
                              options.kernel_size);
  if (options.stride != 1) s += fmt::format(", stride={}", options.stride);
  if (options.padding != 0) s += fmt::format(", padding={}", options.padding);
  if (options.dilation != 1) s += fmt::format(", dilation={}", options.dilation);
  if (options.groups != 1) s += fmt::format(", groups={}", options.groups);
  if (!options.bias) s += ", bias=false";
  return s;
}

static const LayerInfo kConv1dInfo{
    .summary = "1-D convolution (torch.nn.Conv1d): [C, L] -> [out_channels, L_out]",
    .options = {{"out_channels", "", "output channels"},
                {"kernel_size", "", "window length"},
                {"stride", "1", "step of the window"},
                {"padding", "0", "zeros added on each side"},
                {"dilation", "1", "spacing between the window's taps"},
                {"groups", "1", "channel groups; divides in and out channels"},
                {"bias", "true", "learn a bias per output channel"}},
    .example = "{type: Conv1d, out_channels: 4, kernel_size: 3}",
    .example_input = {2, 9}};

static Built build_conv1d(const config::Node& spec, const Shape& input_shape, BuildContext& ctx) {
  check_options(spec, kConv1dInfo);
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  const Conv1dOptions o{.out_channels = read_positive(spec, "out_channels"),
                        .kernel_size = read_positive(spec, "kernel_size"),
                        .stride = read_int(spec, "stride", 1, 1, kMax),
                        .padding = read_int(spec, "padding", 0, 0, kMax),
                        .dilation = read_int(spec, "dilation", 1, 1, kMax),
                        .groups = read_int(spec, "groups", 1, 1, kMax),
                        .bias = spec.get_or("bias", true)};
  return make_layer<Conv1d>(o, input_shape, ctx);
}
DLT_REGISTER_LAYER(Conv1d, build_conv1d, kConv1dInfo);

}  // namespace dlt::nn
