// Normalisation and dropout: argument checks, output allocation, the
// running-statistics bookkeeping of batch_norm and the Philox stream
// reservation of dropout.
#include <algorithm>

#include "dlt/ops/autocast.h"
#include "dlt/ops/dispatch.h"
#include "dlt/ops/norm_backward.h"
#include "dlt/ops/ops.h"

namespace dlt {

using ops::OpId;

namespace {

TensorOptions like(const Tensor& t, DType dtype) { return TensorOptions(dtype).device(t.device()); }
TensorOptions like(const Tensor& t) { return like(t, t.dtype()); }

// Saved mean / rstd are float64 for float64 inputs and float32 otherwise
// (the accumulation type of f16/bf16).
DType stats_dtype(DType t) { return t == DType::f64 ? DType::f64 : DType::f32; }

// An optional affine parameter as the kernel wants it: x's dtype, contiguous.
Tensor affine_param(const Tensor& p, const Tensor& x) {
  return p.defined() ? p.to(x.dtype()).contiguous() : Tensor();
}

Tensor empty_if(bool wanted, const Shape& shape, TensorOptions options) {
  return wanted ? empty(shape, options) : Tensor();
}

}  // namespace

Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight,
                  const Tensor& bias, double eps) {
  DLT_CHECK(x.defined(), "layer_norm: undefined input tensor");
  if (const auto c = ops::autocast<3>(OpId::layer_norm, {x, weight, bias}))
    return layer_norm((*c)[0], normalized_shape, (*c)[1], (*c)[2], eps);
  const int64_t k = int64_t(normalized_shape.size());
  DLT_CHECK(k >= 1, "layer_norm: normalized_shape must have at least one dimension, got []");
  const Shape& shape = x.shape();
  DLT_CHECK(x.dim() >= k && std::equal(normalized_shape.begin(), normalized_shape.end(),
                                       shape.end() - k),
            "layer_norm: given normalized_shape {}, expected an input of shape [*, {}], but got "
            "an input of shape {}",
            shape_str(normalized_shape), fmt::join(normalized_shape, ", "), shape_str(shape));
  DLT_CHECK(is_floating(x.dtype()), "layer_norm expects a floating point input, got {}",
            x.dtype());
  for (const auto& [param, name] : {std::pair{&weight, "weight"}, std::pair{&bias, "bias"}})
    DLT_CHECK(!param->defined() || param->shape() == normalized_shape,
              "layer_norm: {} of shape {} does not match normalized_shape {}", name,
              shape_str(param->shape()), shape_str(normalized_shape));
  const Shape rows(shape.begin(), shape.end() - k);
  const ops::LayerNormAttrs attrs{k, eps};
  Tensor ins[] = {x.contiguous(), affine_param(weight, x), affine_param(bias, x)};
  Tensor outs[] = {empty(shape, like(x)), empty(rows, like(x, stats_dtype(x.dtype()))),
                   empty(rows, like(x, stats_dtype(x.dtype())))};
  ops::run(OpId::layer_norm, ins, outs, &attrs);
  return outs[0];
}

Tensor rms_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight, double eps) {
  DLT_CHECK(x.defined(), "rms_norm: undefined input tensor");
  if (const auto c = ops::autocast<2>(OpId::rms_norm, {x, weight}))
    return rms_norm((*c)[0], normalized_shape, (*c)[1], eps);
  const int64_t k = int64_t(normalized_shape.size());
  DLT_CHECK(k >= 1, "rms_norm: normalized_shape must have at least one dimension, got []");
  const Shape& shape = x.shape();
  DLT_CHECK(x.dim() >= k && std::equal(normalized_shape.begin(), normalized_shape.end(),
                                       shape.end() - k),
            "rms_norm: given normalized_shape {}, expected an input of shape [*, {}], but got an "
            "input of shape {}",
            shape_str(normalized_shape), fmt::join(normalized_shape, ", "), shape_str(shape));
  DLT_CHECK(is_floating(x.dtype()), "rms_norm expects a floating point input, got {}", x.dtype());
  DLT_CHECK(!weight.defined() || weight.shape() == normalized_shape,
            "rms_norm: weight of shape {} does not match normalized_shape {}",
            shape_str(weight.shape()), shape_str(normalized_shape));
  DLT_CHECK(eps >= 0, "rms_norm: eps must not be negative, got {}", eps);
  const Shape rows(shape.begin(), shape.end() - k);
  const ops::LayerNormAttrs attrs{k, eps};
  Tensor ins[] = {x.contiguous(), affine_param(weight, x)};
  Tensor outs[] = {empty(shape, like(x)), empty(rows, like(x, stats_dtype(x.dtype())))};
  ops::run(OpId::rms_norm, ins, outs, &attrs);
  return outs[0];
}

// Composite: the channels of x (N, C, *) in `groups` groups, each normalised
// over its channels and positions (layer_norm of a (N, G, C / G * *) view),
// then the per-channel affine.
Tensor group_norm(const Tensor& x, int64_t groups, const Tensor& weight, const Tensor& bias,
                  double eps) {
  DLT_CHECK(x.defined(), "group_norm: undefined input tensor");
  if (const auto c = ops::autocast<3>(OpId::group_norm, {x, weight, bias}))
    return group_norm((*c)[0], groups, (*c)[1], (*c)[2], eps);
  DLT_CHECK(x.dim() >= 2, "group_norm: expected an input (N, C, *), got {}", shape_str(x.shape()));
  const int64_t n = x.size(0), c = x.size(1);
  DLT_CHECK(groups >= 1 && c % groups == 0,
            "group_norm: groups ({}) must divide the number of channels C = {} of input {}", groups,
            c, shape_str(x.shape()));
  for (const auto& [param, name] : {std::pair{&weight, "weight"}, std::pair{&bias, "bias"}})
    DLT_CHECK(!param->defined() || param->shape() == Shape{c},
              "group_norm: {} of shape {} does not match the {} channels of input {}", name,
              shape_str(param->shape()), c, shape_str(x.shape()));
  const int64_t per_group = n == 0 ? 0 : x.numel() / (n * groups);
  Tensor y = layer_norm(x.reshape({n, groups, per_group}), {per_group}, Tensor(), Tensor(), eps)
                 .view(x.shape());
  Shape channel_shape(size_t(x.dim()), 1);  // (1, C, 1, ...): broadcasts over N and positions
  channel_shape[1] = c;
  if (weight.defined()) y = y * weight.to(x.dtype()).view(channel_shape);
  if (bias.defined()) y = y + bias.to(x.dtype()).view(channel_shape);
  return y;
}

Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight, const Tensor& bias, bool training, double momentum,
                  double eps) {
  DLT_CHECK(x.defined(), "batch_norm: undefined input tensor");
  // The running statistics are updated in place: they are never cast.
  if (const auto c = ops::autocast<3>(OpId::batch_norm, {x, weight, bias}))
    return batch_norm((*c)[0], running_mean, running_var, (*c)[1], (*c)[2], training, momentum, eps);
  DLT_CHECK(x.dim() >= 2, "batch_norm: expected an input of shape (B, C, ...), got shape {}",
            shape_str(x.shape()));
  DLT_CHECK(is_floating(x.dtype()), "batch_norm expects a floating point input, got {}",
            x.dtype());
  const int64_t C = x.size(1);
  const std::pair<const Tensor*, const char*> params[] = {
      {&running_mean, "running_mean"}, {&running_var, "running_var"}, {&weight, "weight"},
      {&bias, "bias"}};
  for (const auto& [p, name] : params)
    DLT_CHECK(!p->defined() || p->shape() == Shape{C},
              "batch_norm: {} of shape {} does not match the {} channels of the input (dimension "
              "1 of shape {})",
              name, shape_str(p->shape()), C, shape_str(x.shape()));
  for (const Tensor* running : {&running_mean, &running_var})
    DLT_CHECK(!running->defined() || (is_floating(running->dtype()) && running->is_contiguous()),
              "batch_norm: running statistics must be contiguous floating point tensors, got {}",
              running->str());
  DLT_CHECK(training || (running_mean.defined() && running_var.defined()),
            "batch_norm: running_mean and running_var must be defined in evaluation mode");
  DLT_CHECK(!training || x.numel() / std::max<int64_t>(C, 1) > 1,
            "batch_norm: expected more than 1 value per channel when training, got an input of "
            "shape {}",
            shape_str(x.shape()));
  const ops::BatchNormAttrs attrs{training, momentum, eps};
  const DType sd = stats_dtype(x.dtype());
  Tensor ins[] = {x.contiguous(), running_mean, running_var, affine_param(weight, x),
                  affine_param(bias, x)};
  Tensor outs[] = {empty(x.shape(), like(x)), empty({C}, like(x, sd)), empty({C}, like(x, sd))};
  ops::run(OpId::batch_norm, ins, outs, &attrs);
  if (training)  // the kernel moved the running statistics in place
    for (const Tensor* running : {&running_mean, &running_var})
      if (running->defined()) running->storage()->bump_version();
  return outs[0];
}

Tensor dropout(const Tensor& x, double p, bool training, Generator* gen) {
  DLT_CHECK(x.defined(), "dropout: undefined input tensor");
  DLT_CHECK(p >= 0 && p <= 1, "dropout: probability has to be between 0 and 1, but got {}", p);
  if (!training || p == 0) return x;
  DLT_CHECK(is_floating(x.dtype()), "dropout expects a floating point input, got {}", x.dtype());
  const Tensor xc = x.contiguous();
  // Element i draws from Philox counter offset + i / 2 (see philox_pair).
  const DrawPosition at = reserve_draw(gen, uint64_t(xc.numel()));
  const ops::DropoutAttrs attrs{p, at.seed, at.offset};
  Tensor ins[] = {xc};
  Tensor outs[] = {empty(xc.shape(), like(xc)), empty(xc.shape(), like(xc, DType::boolean))};
  ops::run(OpId::dropout, ins, outs, &attrs);
  return outs[0];
}

namespace ops {

AffineGrads layer_norm_backward(const Tensor& grad, const Tensor& x, const Tensor& mean,
                                const Tensor& rstd, const Tensor& weight,
                                int64_t normalized_ndim, GradMask need) {
  const Shape normalized(x.shape().end() - normalized_ndim, x.shape().end());
  const LayerNormAttrs attrs{normalized_ndim};
  Tensor ins[] = {grad.to(x.dtype()).contiguous(), x.contiguous(), mean, rstd,
                  affine_param(weight, x)};
  Tensor outs[] = {empty_if(need[0], x.shape(), like(x)), empty_if(need[1], normalized, like(x)),
                   empty_if(need[2], normalized, like(x))};
  run(OpId::layer_norm_backward, ins, outs, &attrs);
  return {outs[0], outs[1], outs[2]};
}

AffineGrads rms_norm_backward(const Tensor& grad, const Tensor& x, const Tensor& rstd,
                              const Tensor& weight, int64_t normalized_ndim, GradMask need) {
  const Shape normalized(x.shape().end() - normalized_ndim, x.shape().end());
  const LayerNormAttrs attrs{normalized_ndim};
  Tensor ins[] = {grad.to(x.dtype()).contiguous(), x.contiguous(), rstd, affine_param(weight, x)};
  Tensor outs[] = {empty_if(need[0], x.shape(), like(x)), empty_if(need[1], normalized, like(x))};
  run(OpId::rms_norm_backward, ins, outs, &attrs);
  return {outs[0], outs[1], Tensor()};
}

AffineGrads batch_norm_backward(const Tensor& grad, const Tensor& x, const Tensor& weight,
                                const Tensor& save_mean, const Tensor& save_invstd, bool training,
                                GradMask need) {
  const Shape channels{x.size(1)};
  BatchNormAttrs attrs;
  attrs.training = training;
  Tensor ins[] = {grad.to(x.dtype()).contiguous(), x.contiguous(), affine_param(weight, x),
                  save_mean, save_invstd};
  Tensor outs[] = {empty_if(need[0], x.shape(), like(x)), empty_if(need[1], channels, like(x)),
                   empty_if(need[2], channels, like(x))};
  run(OpId::batch_norm_backward, ins, outs, &attrs);
  return {outs[0], outs[1], outs[2]};
}

}  // namespace ops

}  // namespace dlt
