#include "dlt/nn/layers/batch_norm.h"
#include "dlt/nn/layers/options.h"

#include "dlt/core/grad_mode.h"
#include "dlt/ops/ops.h"

namespace dlt::nn {

BatchNorm::BatchNorm(const char* type, BatchNormOptions o, const Shape& input_shape,
                     BuildContext& ctx)
    : options(o), type_(type) {
  DLT_LAYER_CHECK(!o.momentum || (*o.momentum >= 0 && *o.momentum <= 1),
                  "momentum must be between 0 and 1, got {}", *o.momentum);
  DLT_LAYER_CHECK(o.eps > 0, "eps must be positive, got {}", o.eps);
  num_features = input_shape.at(0);
  output_shape_ = input_shape;
  if (o.affine) {
    weight = register_parameter("weight", ones({num_features}, param_options(ctx)));
    bias = register_parameter("bias", zeros({num_features}, param_options(ctx)));
  }
  running_mean = register_buffer("running_mean", zeros({num_features}, param_options(ctx)));
  running_var = register_buffer("running_var", ones({num_features}, param_options(ctx)));
  num_batches_tracked = register_buffer("num_batches_tracked", zeros({}, DType::i64));
}

Tensor BatchNorm::forward(const Tensor& x) {
  double factor = 0;  // unused in eval
  if (training()) {
    {
      NoGradGuard no_grad;
      num_batches_tracked.add_(1);
    }
    factor = options.momentum ? *options.momentum
                              : 1.0 / double(num_batches_tracked.item<int64_t>());
  }
  return batch_norm(x, running_mean, running_var, weight, bias, training(), factor, options.eps);
}

std::string BatchNorm::describe() const {
  std::string s = fmt::format("features={}, eps={}, momentum=", num_features, options.eps);
  s += options.momentum ? fmt::format("{}", *options.momentum) : "cumulative";
  if (!options.affine) s += ", affine=false";
  return s;
}

static const Shape& check_1d(const Shape& input_shape) {
  DLT_LAYER_CHECK(input_shape.size() == 1 || input_shape.size() == 2,
                  "expected input [C] or [C, L], got {}", shape_str(input_shape));
  return input_shape;
}

static const Shape& check_2d(const Shape& input_shape) {
  check_rank(input_shape, 3, "[C, H, W]");
  return input_shape;
}

BatchNorm1d::BatchNorm1d(BatchNormOptions o, const Shape& input_shape, BuildContext& ctx)
    : BatchNorm("BatchNorm1d", o, check_1d(input_shape), ctx) {}

BatchNorm2d::BatchNorm2d(BatchNormOptions o, const Shape& input_shape, BuildContext& ctx)
    : BatchNorm("BatchNorm2d", o, check_2d(input_shape), ctx) {}

static const std::vector<LayerOption> kBatchNormOptions = {
    {"momentum", "0.1", "weight of each batch in the running statistics; null: cumulative average"},
    {"eps", "1.0e-5", "added to the variance"},
    {"affine", "true", "learn a weight and a bias per channel"}};

static const LayerInfo kBatchNorm1dInfo{
    .summary = "batch normalisation per channel (torch.nn.BatchNorm1d): [C] or [C, L] -> same",
    .options = kBatchNormOptions,
    .example = "{type: BatchNorm1d}",
    .example_input = {3}};

static const LayerInfo kBatchNorm2dInfo{
    .summary = "batch normalisation per channel (torch.nn.BatchNorm2d): [C, H, W] -> same",
    .options = kBatchNormOptions,
    .example = "{type: BatchNorm2d}",
    .example_input = {3, 2, 2}};

static BatchNormOptions read_batch_norm(const config::Node& spec, const LayerInfo& info) {
  check_options(spec, info);
  BatchNormOptions o;
  // `momentum: null` asks for torch's cumulative average (momentum=None).
  if (const auto m = spec.find("momentum"))
    o.momentum = m->is_null() ? std::nullopt : std::optional(read_double(spec, "momentum", 0.1, 0, 1));
  o.eps = read_double(spec, "eps", 1e-5, 0, 1);
  if (o.eps <= 0) spec.at("eps").fail("must be positive, got 0");
  o.affine = spec.get_or("affine", true);
  return o;
}

static Built build_batch_norm1d(const config::Node& spec, const Shape& input_shape,
                                BuildContext& ctx) {
  return make_layer<BatchNorm1d>(read_batch_norm(spec, kBatchNorm1dInfo), input_shape, ctx);
}
static Built build_batch_norm2d(const config::Node& spec, const Shape& input_shape,
                                BuildContext& ctx) {
  return make_layer<BatchNorm2d>(read_batch_norm(spec, kBatchNorm2dInfo), input_shape, ctx);
}
DLT_REGISTER_LAYER(BatchNorm1d, build_batch_norm1d, kBatchNorm1dInfo);
DLT_REGISTER_LAYER(BatchNorm2d, build_batch_norm2d, kBatchNorm2dInfo);

}  // namespace dlt::nn
