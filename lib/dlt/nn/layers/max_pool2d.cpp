#include "dlt/nn/layers/max_pool2d.h"
#include "dlt/nn/layers/options.h"

#include "dlt/ops/ops.h"

namespace dlt::nn {

MaxPool2d::MaxPool2d(MaxPool2dOptions o, const Shape& input_shape, BuildContext&) : options(o) {
  check_rank(input_shape, 3, "[C, H, W]");
  Shape out{input_shape[0], 0, 0};
  for (int i = 0; i < 2; ++i) {
    stride[i] = o.stride[i] == 0 ? o.kernel_size[i] : o.stride[i];
    DLT_LAYER_CHECK(o.kernel_size[i] >= 1 && stride[i] >= 1 && o.dilation[i] >= 1,
                    "kernel_size, stride and dilation must be positive, got kernel_size {}, "
                    "stride {}, dilation {}",
                    pair_str(o.kernel_size), pair_str(stride), pair_str(o.dilation));
    const int64_t effective_kernel = (o.kernel_size[i] - 1) * o.dilation[i] + 1;
    DLT_LAYER_CHECK(o.padding[i] >= 0 && 2 * o.padding[i] <= effective_kernel,
                    "padding {} must be between 0 and half the (dilated) kernel size {}",
                    pair_str(o.padding), pair_str(o.kernel_size));
    out[i + 1] = window_output_size(input_shape[i + 1], o.kernel_size[i], stride[i], o.padding[i],
                                    o.dilation[i], o.ceil_mode);
    DLT_LAYER_CHECK(out[i + 1] >= 1, "kernel {} is larger than the padded input {}",
                    pair_str(o.kernel_size), shape_str(input_shape));
  }
  output_shape_ = out;
}

Tensor MaxPool2d::forward(const Tensor& x) {
  return max_pool2d(x, options.kernel_size, stride, options.padding, options.dilation,
                    options.ceil_mode);
}

std::string MaxPool2d::describe() const {
  std::string s = fmt::format("kernel={}, stride={}", pair_str(options.kernel_size), pair_str(stride));
  if (options.padding != std::array<int64_t, 2>{0, 0}) s += ", padding=" + pair_str(options.padding);
  if (options.dilation != std::array<int64_t, 2>{1, 1})
    s += ", dilation=" + pair_str(options.dilation);
  if (options.ceil_mode) s += ", ceil_mode=true";
  return s;
}

static const LayerInfo kMaxPool2dInfo{
    .summary = "2-D max pooling (torch.nn.MaxPool2d): [C, H, W] -> [C, Ho, Wo]",
    .options = {
        {"kernel_size", "", "window size: an integer or [kH, kW]"},
        {"stride", "(kernel_size)", "step of the window"},
        {"padding", "0", "-inf added on each side"},
        {"dilation", "1", "spacing between the window's taps"},
        {"ceil_mode", "false", "round the output size up instead of down"}},
    .example = "{type: MaxPool2d, kernel_size: 2}",
    .example_input = {2, 6, 6}};

static Built build_max_pool2d(const config::Node& spec, const Shape& input_shape,
                              BuildContext& ctx) {
  check_options(spec, kMaxPool2dInfo);
  const auto kernel = read_pair(spec, "kernel_size", 1);
  const MaxPool2dOptions o{.kernel_size = kernel,
                           .stride = read_pair(spec, "stride", kernel, 1),
                           .padding = read_pair(spec, "padding", {0, 0}, 0),
                           .dilation = read_pair(spec, "dilation", {1, 1}, 1),
                           .ceil_mode = spec.get_or("ceil_mode", false)};
  return make_layer<MaxPool2d>(o, input_shape, ctx);
}
DLT_REGISTER_LAYER(MaxPool2d, build_max_pool2d, kMaxPool2dInfo);

}  // namespace dlt::nn
