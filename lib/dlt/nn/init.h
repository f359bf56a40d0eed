// PyTorch's parameter initialisers (torch.nn.init) over dlt's Generator.
// Values come from dlt's Philox stream, so they differ from torch's, but the
// distributions are the same: a layer initialised here is statistically a
// freshly constructed torch layer. Each function writes into `t` in place
// without recording history; a null generator means the default one.
#pragma once

#include <string_view>

#include "dlt/core/generator.h"
#include "dlt/core/tensor.h"

namespace dlt::nn::init {

struct Fans {
  int64_t fan_in = 0, fan_out = 0;
};
// torch.nn.init._calculate_fan_in_and_fan_out: weight (out, in, *kernel) has
// fan_in = in * prod(kernel), fan_out = out * prod(kernel); fewer than two
// dims is an error.
Fans fan_in_and_fan_out(const Shape& shape);

// torch.nn.init.calculate_gain for "linear", "conv2d", "sigmoid", "tanh",
// "relu", "leaky_relu" (param = negative slope, default 0.01), "selu".
double calculate_gain(std::string_view nonlinearity, double param = 0.01);

void uniform_(Tensor& t, double low, double high, Generator* gen = nullptr);
void normal_(Tensor& t, double mean, double std, Generator* gen = nullptr);
// N(mean, std) redrawn until every value lies in [a, b] (torch.nn.init.trunc_normal_:
// a and b are values, not multiples of std, so timm's ViT initialisation,
// std 0.02 in [-2, 2], is in effect N(0, 0.02)). [a, b] must hold at least
// 1% of the distribution.
void trunc_normal_(Tensor& t, double mean, double std, double a = -2, double b = 2,
                   Generator* gen = nullptr);
void zeros_(Tensor& t);
void ones_(Tensor& t);

enum class FanMode { fan_in, fan_out };
// U(-bound, bound) with bound = gain * sqrt(3 / fan), gain of leaky_relu(a).
// kaiming_uniform_(w, sqrt(5)) is torch's default for Linear and Conv weights.
void kaiming_uniform_(Tensor& t, double a = 0, FanMode mode = FanMode::fan_in,
                      std::string_view nonlinearity = "leaky_relu", Generator* gen = nullptr);

// The bound torch's Linear/Conv reset_parameters uses for biases:
// 1 / sqrt(fan_in) of the weight, or 0 when fan_in is 0.
double default_bias_bound(const Shape& weight_shape);

// torch's reset_parameters of Linear and the convolutions: the weight by
// kaiming_uniform_(sqrt(5)), then the bias (when defined) by
// U(-default_bias_bound, default_bias_bound), drawn in that order.
void linear_default_(Tensor& weight, Tensor& bias, Generator* gen = nullptr);

}  // namespace dlt::nn::init
