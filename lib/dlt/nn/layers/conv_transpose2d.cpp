#include "dlt/nn/layers/conv_transpose2d.h"

#include <cmath>
#include <limits>

#include "dlt/nn/init.h"
#include "dlt/nn/layers/options.h"
#include "dlt/ops/ops.h"

namespace dlt::nn {

ConvTranspose2d::ConvTranspose2d(ConvTranspose2dOptions o, const Shape& input_shape,
                                 BuildContext& ctx)
    : options(o) {
  check_rank(input_shape, 3, "[C, H, W]");
  in_channels = input_shape[0];
  check_conv_options(in_channels, o.out_channels, o.groups, o.kernel_size, o.stride, o.padding,
                     o.dilation);
  for (int i = 0; i < 2; ++i)
    DLT_LAYER_CHECK(o.output_padding[i] >= 0 && o.output_padding[i] < o.stride[i],
                    "output_padding {} must be non-negative and smaller than the stride {}",
                    pair_str(o.output_padding), pair_str(o.stride));
  Shape out{o.out_channels, 0, 0};
  for (int i = 0; i < 2; ++i) {
    out[i + 1] = (input_shape[i + 1] - 1) * o.stride[i] - 2 * o.padding[i] +
                 o.dilation[i] * (o.kernel_size[i] - 1) + o.output_padding[i] + 1;
    DLT_LAYER_CHECK(out[i + 1] >= 1, "padding {} leaves no output of input {} (output {})",
                    pair_str(o.padding), shape_str(input_shape), shape_str(out));
  }
  output_shape_ = out;

  weight = register_parameter(
      "weight", empty({in_channels, o.out_channels / o.groups, o.kernel_size[0], o.kernel_size[1]},
                      param_options(ctx)));
  if (o.bias) bias = register_parameter("bias", empty({o.out_channels}, param_options(ctx)));
  init::linear_default_(weight, bias, ctx.gen);
}

Tensor ConvTranspose2d::forward(const Tensor& x) {
  return conv_transpose2d(x, weight, bias, options.stride, options.padding,
                          options.output_padding, options.dilation,
                          options.groups);  // (B, out, H_out, W_out)
}

std::string ConvTranspose2d::describe() const {
  using A2 = std::array<int64_t, 2>;
  std::string s = fmt::format("in={}, out={}, kernel={}", in_channels, options.out_channels,
                              pair_str(options.kernel_size));
  if (options.stride != A2{1, 1}) s += ", stride=" + pair_str(options.stride);
  if (options.padding != A2{0, 0}) s += ", padding=" + pair_str(options.padding);
  if (options.output_padding != A2{0, 0})
    s += ", output_padding=" + pair_str(options.output_padding);
  if (options.dilation != A2{1, 1}) s += ", dilation=" + pair_str(options.dilation);
  if (options.groups != 1) s += fmt::format(", groups={}", options.groups);
  if (!options.bias) s += ", bias=false";
  return s;
}

static const LayerInfo kConvTranspose2dInfo{
    .summary = "transposed 2-D convolution (torch.nn.ConvTranspose2d): [C, H, W] -> "
               "[out_channels, Ho, Wo], Ho = (H - 1) stride - 2 padding + dilation (kH - 1) + "
               "output_padding + 1",
    .options = {{"out_channels", "", "output channels"},
                {"kernel_size", "", "window size: an integer or [kH, kW]"},
                {"stride", "1", "spacing of the input's positions in the output"},
                {"padding", "0", "rows and columns removed from each side of the output"},
                {"output_padding", "0", "rows and columns added at the bottom/right; < stride"},
                {"dilation", "1", "spacing between the window's taps"},
                {"groups", "1", "channel groups; divides in and out channels"},
                {"bias", "true", "learn a bias per output channel"}},
    .example = "{type: ConvTranspose2d, out_channels: 4, kernel_size: 2, stride: 2}",
    .example_input = {2, 3, 3}};

static Built build_conv_transpose2d(const config::Node& spec, const Shape& input_shape,
                                    BuildContext& ctx) {
  check_options(spec, kConvTranspose2dInfo);
  const ConvTranspose2dOptions o{
      .out_channels = read_positive(spec, "out_channels"),
      .kernel_size = read_pair(spec, "kernel_size", 1),
      .stride = read_pair(spec, "stride", {1, 1}, 1),
      .padding = read_pair(spec, "padding", {0, 0}, 0),
      .output_padding = read_pair(spec, "output_padding", {0, 0}, 0),
      .dilation = read_pair(spec, "dilation", {1, 1}, 1),
      .groups = read_int(spec, "groups", 1, 1, std::numeric_limits<int64_t>::max()),
      .bias = spec.get_or("bias", true)};
  return make_layer<ConvTranspose2d>(o, input_shape, ctx);
}
DLT_REGISTER_LAYER(ConvTranspose2d, build_conv_transpose2d, kConvTranspose2dInfo);

}  // namespace dlt::nn
