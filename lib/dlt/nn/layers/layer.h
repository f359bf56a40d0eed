// What every layer of lib/dlt/nn/layers shares: a Module that knows the
// per-sample shape it produces (shapes here exclude the batch dim), and the
// error a layer throws when its options do not fit its input shape. The
// registry prefixes such errors with the layer's config path and type:
//   model.layers[3] (Conv2d): expected input [C, H, W], got [784]
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

#include "dlt/core/error.h"
#include "dlt/nn/module.h"
#include "dlt/nn/registry.h"

namespace dlt::nn {

class LayerError : public Error {
 public:
  using Error::Error;
};

#define DLT_LAYER_CHECK(cond, ...)                               \
  do {                                                           \
    if (!(cond)) [[unlikely]]                                    \
      throw ::dlt::nn::LayerError(::fmt::format(__VA_ARGS__));   \
  } while (0)

class Layer : public Module {
 public:
  const Shape& output_shape() const { return output_shape_; }

 protected:
  Shape output_shape_;  // per sample
};

// Constructs layer L (every layer takes options, the input shape and the
// context) and pairs it with its output shape: what builders return and
// what Sequential::push_back takes.
template <class L, class Options>
Built make_layer(Options options, const Shape& input_shape, BuildContext& ctx) {
  auto layer = std::make_shared<L>(std::move(options), input_shape, ctx);
  return {layer, layer->output_shape()};
}

// Generator and tensor options of the parameters a context asks for.
inline TensorOptions param_options(const BuildContext& ctx) { return TensorOptions(ctx.dtype); }

// "[C, H, W]"-style checks: the input must have exactly `rank` sample dims.
inline void check_rank(const Shape& input_shape, size_t rank, const char* expected) {
  DLT_LAYER_CHECK(input_shape.size() == rank, "expected input {}, got {}", expected,
                  shape_str(input_shape));
}

// The trailing dims a normalisation layer normalises: `shape`, or the input's
// last dim without one; a LayerError unless they end the input's shape.
Shape normalized_trailing_dims(const std::optional<Shape>& shape, const Shape& input_shape);

// An image sample as [C, H, W]: [H, W] (a grey image such as Fashion-MNIST's
// (N, 28, 28)) becomes [1, H, W]; other ranks are a LayerError.
Shape image_shape(const Shape& input_shape);

// Output length of a pooled or convolved dim, as torch's pooling_output_shape.
int64_t window_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t padding,
                           int64_t dilation, bool ceil_mode);

std::string pair_str(const std::array<int64_t, 2>& p);  // "3" or "(3, 5)"

// What every convolution layer checks of its options, sizes being an integer
// (Conv1d) or a pair (Conv2d, ConvTranspose2d): out_channels >= 1; kernel_size,
// stride and dilation positive and padding non-negative; groups dividing
// both channel counts.
template <class Size>
void check_conv_options(int64_t in_channels, int64_t out_channels, int64_t groups,
                        const Size& kernel_size, const Size& stride, const Size& padding,
                        const Size& dilation) {
  const auto all = [](const Size& s, auto ok) {
    if constexpr (std::is_integral_v<Size>) return ok(s);
    else return ok(s[0]) && ok(s[1]);
  };
  const auto str = [](const Size& s) {
    if constexpr (std::is_integral_v<Size>) return std::to_string(s);
    else return pair_str(s);
  };
  const auto positive = [](int64_t v) { return v >= 1; };
  DLT_LAYER_CHECK(out_channels >= 1, "out_channels must be at least 1, got {}", out_channels);
  DLT_LAYER_CHECK(all(kernel_size, positive) && all(stride, positive) &&
                      all(dilation, positive) && all(padding, [](int64_t v) { return v >= 0; }),
                  "kernel_size, stride and dilation must be positive and padding non-negative, "
                  "got kernel_size {}, stride {}, padding {}, dilation {}",
                  str(kernel_size), str(stride), str(padding), str(dilation));
  DLT_LAYER_CHECK(groups >= 1 && in_channels % groups == 0 && out_channels % groups == 0,
                  "groups ({}) must divide both in_channels ({}) and out_channels ({})", groups,
                  in_channels, out_channels);
}

}  // namespace dlt::nn
