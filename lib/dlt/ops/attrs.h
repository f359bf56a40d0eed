// The parameters of each op that are not tensors. An op's kernel, its public
// function and its backward formula all see the same struct.
#pragma once

#include <array>
#include <cstdint>
#include <limits>

#include "dlt/core/shape.h"

namespace dlt::ops {

struct NoAttrs {};

enum class Reduction : uint8_t { none, mean, sum };

struct ScalarAttrs {  // pow(x, exponent), masked_fill(value), fill(value)
  double value = 0;
};
struct AlphaAttrs {  // add / sub: a + alpha * b
  double alpha = 1;
};
struct ClampAttrs {
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
};
struct GeluAttrs {
  bool tanh_approx = false;
};
struct SoftplusAttrs {
  double beta = 1, threshold = 20;
};

struct ReduceAttrs {  // sum, mean, logsumexp, amax: dims empty means all
  Shape dims;
  bool keepdim = false;
};
struct VarAttrs {
  Shape dims;
  bool keepdim = false;
  double correction = 1;  // Bessel's correction by default, as torch.var
};
struct ReduceDimAttrs {  // max/min with indices, argmax
  int64_t dim = 0;
  bool keepdim = false;
};

struct SoftmaxAttrs {
  int64_t dim = -1;
};
struct CrossEntropyAttrs {
  int64_t ignore_index = -100;
  double label_smoothing = 0;
  Reduction reduction = Reduction::mean;
};
struct NllAttrs {
  int64_t ignore_index = -100;
  Reduction reduction = Reduction::mean;
};
struct LossAttrs {
  Reduction reduction = Reduction::mean;
};
struct LayerNormAttrs {  // layer_norm, rms_norm
  int64_t normalized_ndim = 1;  // how many trailing dims are normalised
  double eps = 1e-5;
};
struct RotaryAttrs {  // rotary_embedding
  bool inverse = false;  // rotate by minus the angles (its own backward)
};
struct BatchNormAttrs {
  bool training = true;
  double momentum = 0.1;
  double eps = 1e-5;
};
struct DropoutAttrs {
  double p = 0.5;
  uint64_t seed = 0, offset = 0;  // Philox stream position of the mask
};
struct EmbeddingAttrs {
  int64_t num_weights = 0;   // backward: rows of the weight
  int64_t padding_idx = -1;  // rows that get no gradient (-1: none)
};
struct Conv2dAttrs {
  std::array<int64_t, 2> stride{1, 1}, padding{0, 0}, dilation{1, 1};
  int64_t groups = 1;
};
// conv_transpose2d: the adjoint of conv2d with the same stride, padding,
// dilation and groups; output_padding (< stride) adds rows/columns at the
// bottom/right that the strided convolution would drop.
struct ConvTranspose2dAttrs {
  std::array<int64_t, 2> stride{1, 1}, padding{0, 0}, output_padding{0, 0}, dilation{1, 1};
  int64_t groups = 1;
  Conv2dAttrs conv() const { return {stride, padding, dilation, groups}; }
};
struct Pool2dAttrs {
  std::array<int64_t, 2> kernel{2, 2}, stride{2, 2}, padding{0, 0}, dilation{1, 1};
  bool ceil_mode = false;
  bool count_include_pad = true;  // avg pool only
};
struct AttentionAttrs {  // causal_attention: dropout(softmax(q k^T * scale, causal)) v
  double scale = 1;
  // Dropout on the (B, H, T, T) weights (0: none), its mask drawn as the
  // dropout op would draw it over them from this Philox stream position.
  double dropout = 0;
  uint64_t seed = 0, offset = 0;
};
struct AdaptivePoolAttrs {
  std::array<int64_t, 2> output{1, 1};
};
struct DimAttrs {  // cat, index_select, gather, scatter_add
  int64_t dim = 0;
};
struct TriAttrs {
  int64_t diagonal = 0;
};
struct OneHotAttrs {
  int64_t num_classes = -1;
};
struct RandomAttrs {  // uniform [a, b), normal (mean a, std b), randint [a, b)
  double a = 0, b = 1;
  uint64_t seed = 0, offset = 0;
};
struct RangeAttrs {  // element i = start + i * step (linspace: exact endpoints)
  double start = 0, step = 1, end = 0;
  bool linspace = false;
};

// Fused optimizer updates: the hyperparameters of one step of one parameter
// tensor, in torch's semantics (see lib/dlt/optim).
struct SgdStepAttrs {
  double lr = 0, momentum = 0, dampening = 0, weight_decay = 0;
  bool nesterov = false;
  bool first_step = false;  // the momentum buffer starts as the gradient itself
};
struct AdamStepAttrs {
  double lr = 0, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
  bool decoupled_weight_decay = false;  // AdamW: decay the parameter, not the gradient
  int64_t step = 1;                     // the step being taken (from 1): bias corrections
};
struct RmspropStepAttrs {
  double lr = 0, alpha = 0.99, eps = 1e-8, weight_decay = 0, momentum = 0;
  bool centered = false;
};
// Loss scaling: gradients times inv_scale (1 / the loss scale).
struct UnscaleAttrs {
  double inv_scale = 1;
};

// Views: geometry of the result relative to the input.
struct ViewAttrs {
  Shape shape;
};
struct PermuteAttrs {
  Shape dims;
};
struct ExpandAttrs {
  Shape shape;
};
struct SliceAttrs {
  int64_t dim = 0, start = 0, end = 0, step = 1;
};
// Backward kernels that need the forward input's shape.
struct ShapeAttrs {
  Shape shape;
};

}  // namespace dlt::ops
