#include "dlt/nn/init.h"

#include <cmath>

#include "dlt/core/grad_mode.h"
#include "dlt/ops/ops.h"

namespace dlt::nn::init {

Fans fan_in_and_fan_out(const Shape& shape) {
  DLT_CHECK(shape.size() >= 2,
            "fan in and fan out can not be computed for a tensor with fewer than 2 dimensions, "
            "got shape {}",
            shape_str(shape));
  int64_t receptive_field = 1;
  for (size_t d = 2; d < shape.size(); ++d) receptive_field *= shape[d];
  return {shape[1] * receptive_field, shape[0] * receptive_field};
}

double calculate_gain(std::string_view nonlinearity, double param) {
  if (nonlinearity == "linear" || nonlinearity == "conv2d" || nonlinearity == "sigmoid") return 1;
  if (nonlinearity == "tanh") return 5.0 / 3.0;
  if (nonlinearity == "relu") return std::sqrt(2.0);
  if (nonlinearity == "leaky_relu") return std::sqrt(2.0 / (1 + param * param));
  if (nonlinearity == "selu") return 3.0 / 4.0;
  throw Error(fmt::format("unsupported nonlinearity '{}' for calculate_gain", nonlinearity));
}

// Initialisers overwrite parameters that may already require grad: the write
// is not part of any graph.
static void overwrite(Tensor& t, const Tensor& values) {
  NoGradGuard no_grad;
  t.copy_(values);
}

void uniform_(Tensor& t, double low, double high, Generator* gen) {
  overwrite(t, uniform(t.shape(), low, high, TensorOptions(t.dtype()).device(t.device()), gen));
}

void normal_(Tensor& t, double mean, double std, Generator* gen) {
  overwrite(t, normal(t.shape(), mean, std, TensorOptions(t.dtype()).device(t.device()), gen));
}

void trunc_normal_(Tensor& t, double mean, double std, double a, double b, Generator* gen) {
  const auto cdf = [&](double x) { return 0.5 * std::erfc(-(x - mean) / (std * std::sqrt(2.0))); };
  DLT_CHECK(std > 0 && a < b && cdf(b) - cdf(a) >= 0.01,
            "trunc_normal_: the interval [{}, {}] holds less than 1% of N({}, {})", a, b, mean, std);
  const TensorOptions f64 = TensorOptions(DType::f64).device(t.device());
  const Tensor lo = full({1}, a, f64), hi = full({1}, b, f64);
  Tensor x = normal(t.shape(), mean, std, f64, gen);
  // Rejection: each round redraws the values outside [a, b] (about 5% for +-2 std).
  while (t.numel() > 0 && (amin(x).item<double>() < a || amax(x).item<double>() > b)) {
    x = where(lt(x, lo), normal(t.shape(), mean, std, f64, gen), x);
    x = where(gt(x, hi), normal(t.shape(), mean, std, f64, gen), x);
  }
  overwrite(t, x);
}

void zeros_(Tensor& t) {
  NoGradGuard no_grad;
  t.zero_();
}

void ones_(Tensor& t) {
  NoGradGuard no_grad;
  t.fill_(1);
}

void kaiming_uniform_(Tensor& t, double a, FanMode mode, std::string_view nonlinearity,
                      Generator* gen) {
  const Fans fans = fan_in_and_fan_out(t.shape());
  const int64_t fan = mode == FanMode::fan_in ? fans.fan_in : fans.fan_out;
  if (fan == 0) return;  // torch warns and leaves a zero-element tensor alone
  const double bound = calculate_gain(nonlinearity, a) * std::sqrt(3.0 / double(fan));
  uniform_(t, -bound, bound, gen);
}

double default_bias_bound(const Shape& weight_shape) {
  const int64_t fan_in = fan_in_and_fan_out(weight_shape).fan_in;
  return fan_in > 0 ? 1.0 / std::sqrt(double(fan_in)) : 0.0;
}

void linear_default_(Tensor& weight, Tensor& bias, Generator* gen) {
  kaiming_uniform_(weight, std::sqrt(5.0), FanMode::fan_in, "leaky_relu", gen);
  if (!bias.defined()) return;
  const double bound = default_bias_bound(weight.shape());
  uniform_(bias, -bound, bound, gen);
}

}  // namespace dlt::nn::init
