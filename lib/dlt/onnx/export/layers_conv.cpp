// ONNX export of the convolution, pooling and resizing layers: Conv1d,
// Conv2d, ConvTranspose2d (Conv / ConvTranspose), MaxPool2d, AvgPool2d
// (MaxPool / AveragePool), AdaptiveAvgPool2d (GlobalAveragePool,
// AveragePool, or slices averaged), Upsample (Resize).
#include "dlt/nn/layers/adaptive_avg_pool2d.h"
#include "dlt/nn/layers/avg_pool2d.h"
#include "dlt/nn/layers/conv1d.h"
#include "dlt/nn/layers/conv2d.h"
#include "dlt/nn/layers/conv_transpose2d.h"
#include "dlt/nn/layers/max_pool2d.h"
#include "dlt/nn/layers/upsample.h"
#include "dlt/onnx/export/blocks.h"
#include "dlt/ops/ops.h"

namespace dlt::onnx_export {

namespace {

using Pair = std::array<int64_t, 2>;

std::vector<int64_t> ints(const Pair& p) { return {p[0], p[1]}; }
// ONNX pads: every dim's start, then every dim's end; dlt pads both sides alike.
std::vector<int64_t> pads(const Pair& p) { return {p[0], p[1], p[0], p[1]}; }

// (B, C, *spatial): the layer's output shape, a dim left dynamic where the input's was.
Shape spatial_output(const Value& x, const Shape& layer_output) {
  Shape out{x.shape[0]};
  for (size_t i = 0; i < layer_output.size(); ++i)
    out.push_back(is_symbolic(x.shape[i + 1]) ? kUnknownDim : layer_output[i]);
  return out;
}

// Conv (weight (out, in / groups, *kernel)) with the bias as its third input.
Value conv(ExportContext& ctx, const Value& x, const Tensor& weight, const Tensor& bias,
           Attrs attrs, const Shape& layer_output, const char* op = "Conv") {
  std::vector<std::string> in{x.name, ctx.param(weight)};
  if (bias.defined()) in.push_back(ctx.param(bias));
  return {ctx.g.add(op, in, std::move(attrs)), spatial_output(x, layer_output)};
}

Value export_conv1d(ExportContext& ctx, nn::Module& m, const Value& x) {
  auto& c = dynamic_cast<nn::Conv1d&>(m);
  const auto& o = c.options;
  return conv(ctx, x, c.weight, c.bias,
              {attr("kernel_shape", std::vector<int64_t>{o.kernel_size}),
               attr("strides", std::vector<int64_t>{o.stride}),
               attr("pads", std::vector<int64_t>{o.padding, o.padding}),
               attr("dilations", std::vector<int64_t>{o.dilation}), attr("group", o.groups)},
              c.output_shape());
}

Value export_conv2d(ExportContext& ctx, nn::Module& m, const Value& x) {
  auto& c = dynamic_cast<nn::Conv2d&>(m);
  const auto& o = c.options;
  return conv(
      ctx, x, c.weight, c.bias,
      {attr("kernel_shape", ints(o.kernel_size)), attr("strides", ints(o.stride)),
       attr("pads", pads(o.padding)), attr("dilations", ints(o.dilation)), attr("group", o.groups)},
      c.output_shape());
}

// ConvTranspose's weight is torch's layout, (in, out / groups, kH, kW); its
// output size follows from pads and output_padding as torch's does.
Value export_conv_transpose2d(ExportContext& ctx, nn::Module& m, const Value& x) {
  auto& c = dynamic_cast<nn::ConvTranspose2d&>(m);
  const auto& o = c.options;
  return conv(ctx, x, c.weight, c.bias,
              {attr("kernel_shape", ints(o.kernel_size)), attr("strides", ints(o.stride)),
               attr("pads", pads(o.padding)), attr("output_padding", ints(o.output_padding)),
               attr("dilations", ints(o.dilation)), attr("group", o.groups)},
              c.output_shape(), "ConvTranspose");
}

Value export_max_pool2d(ExportContext& ctx, nn::Module& m, const Value& x) {
  auto& p = dynamic_cast<nn::MaxPool2d&>(m);
  const auto& o = p.options;
  return {ctx.g.add("MaxPool", {x.name},
                    {attr("kernel_shape", ints(o.kernel_size)), attr("strides", ints(p.stride)),
                     attr("pads", pads(o.padding)), attr("dilations", ints(o.dilation)),
                     attr("ceil_mode", int64_t(o.ceil_mode))}),
          spatial_output(x, p.output_shape())};
}

// count_include_pad is set explicitly: ONNX's default (0) is not torch's (true).
Value export_avg_pool2d(ExportContext& ctx, nn::Module& m, const Value& x) {
  auto& p = dynamic_cast<nn::AvgPool2d&>(m);
  const auto& o = p.options;
  return {ctx.g.add("AveragePool", {x.name},
                    {attr("kernel_shape", ints(o.kernel_size)), attr("strides", ints(p.stride)),
                     attr("pads", pads(o.padding)), attr("ceil_mode", int64_t(o.ceil_mode)),
                     attr("count_include_pad", int64_t(o.count_include_pad))}),
          spatial_output(x, p.output_shape())};
}

// Output cell i of n averages input positions floor(i in / n) .. ceil((i + 1) in / n) - 1.
Value adaptive_dim(ExportContext& ctx, const Value& x, int64_t axis, int64_t n) {
  const int64_t in = x.shape[size_t(axis)];
  std::vector<std::string> cells;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t start = i * in / n, end = ((i + 1) * in + n - 1) / n;
    const std::string window =
        ctx.g.add("Slice", {x.name, ctx.g.ints({start}), ctx.g.ints({end}), ctx.g.ints({axis})});
    cells.push_back(
        ctx.g.add("ReduceMean", {window},
                  {attr("axes", std::vector<int64_t>{axis}), attr("keepdims", int64_t(1))}));
  }
  Shape out = x.shape;
  out[size_t(axis)] = n;
  return {cells.size() == 1 ? cells[0] : ctx.g.add("Concat", cells, {attr("axis", axis)}), out};
}

// 1x1: GlobalAveragePool; sizes that divide the input: AveragePool with
// kernel = stride = in / out; otherwise torch's uneven windows, one slice
// averaged per output row, then per column (the mean of a rectangle is the
// mean of its rows' means).
Value export_adaptive_avg_pool2d(ExportContext& ctx, nn::Module& m, const Value& x) {
  auto& p = dynamic_cast<nn::AdaptiveAvgPool2d&>(m);
  const Pair out = p.options.output_size;
  const int64_t h = x.shape[2], w = x.shape[3];
  const Shape shape = spatial_output(x, p.output_shape());
  if (out == Pair{1, 1}) return {ctx.g.add("GlobalAveragePool", {x.name}), shape};
  if (h % out[0] == 0 && w % out[1] == 0) {
    const std::vector<int64_t> k{h / out[0], w / out[1]};
    return {ctx.g.add("AveragePool", {x.name}, {attr("kernel_shape", k), attr("strides", k)}),
            shape};
  }
  return adaptive_dim(ctx, adaptive_dim(ctx, x, 2, out[0]), 3, out[1]);
}

// Resize with torch's source positions: nearest is floor(dst / scale)
// ("asymmetric", "floor"); bilinear is "pytorch_half_pixel" (or
// "align_corners"). A scale_factor goes in as Resize's scales (torch then
// uses it for the positions too); a size as its sizes, (B, C) read at run time.
Value export_upsample(ExportContext& ctx, nn::Module& m, const Value& x) {
  auto& u = dynamic_cast<nn::Upsample&>(m);
  const auto& o = u.options;
  Attrs attrs;
  if (o.mode == nn::UpsampleMode::nearest) {
    attrs = {attr("mode", std::string("nearest")),
             attr("coordinate_transformation_mode", std::string("asymmetric")),
             attr("nearest_mode", std::string("floor"))};
  } else {
    attrs = {attr("mode", std::string("linear")),
             attr("coordinate_transformation_mode",
                  std::string(o.align_corners ? "align_corners" : "pytorch_half_pixel"))};
  }
  std::string scales, sizes;
  if (o.scale_factor) {
    const float f[4] = {1, 1, float((*o.scale_factor)[0]), float((*o.scale_factor)[1])};
    scales = ctx.g.constant(fmt::format("{}.scales", ctx.path().empty() ? "upsample" : ctx.path()),
                            from_blob(f, {4}, DType::f32));
  } else {
    const std::string shape = ctx.g.add("Shape", {x.name});
    const std::string batch_channels =
        ctx.g.add("Slice", {shape, ctx.g.ints({0}), ctx.g.ints({2}), ctx.g.ints({0})});
    sizes = ctx.g.add("Concat", {batch_channels, ctx.g.ints(ints(*o.size))},
                      {attr("axis", int64_t(0))});
  }
  return {ctx.g.add("Resize", {x.name, "", scales, sizes}, std::move(attrs)),
          spatial_output(x, u.output_shape())};
}

}  // namespace

DLT_REGISTER_LAYER_EXPORT(Conv1d, export_conv1d);
DLT_REGISTER_LAYER_EXPORT(Conv2d, export_conv2d);
DLT_REGISTER_LAYER_EXPORT(ConvTranspose2d, export_conv_transpose2d);
DLT_REGISTER_LAYER_EXPORT(MaxPool2d, export_max_pool2d);
DLT_REGISTER_LAYER_EXPORT(AvgPool2d, export_avg_pool2d);
DLT_REGISTER_LAYER_EXPORT(AdaptiveAvgPool2d, export_adaptive_avg_pool2d);
DLT_REGISTER_LAYER_EXPORT(Upsample, export_upsample);

}  // namespace dlt::onnx_export
