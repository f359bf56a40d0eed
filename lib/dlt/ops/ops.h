// The public op functions: what layers, losses and users call. Each checks
// its arguments (a dlt::Error naming shapes/dtypes/dims), allocates outputs
// and runs the kernel through the dispatch table. Dimension letters in shape
// comments: B batch, T time, C channels/features, H/W height/width, N classes.
#pragma once

#include <optional>
#include <vector>

#include "dlt/core/generator.h"
#include "dlt/core/tensor.h"
#include "dlt/ops/attrs.h"

namespace dlt {

using ops::Reduction;

// ---- factories ---------------------------------------------------------------
Tensor zeros(const Shape& shape, TensorOptions options = {});
Tensor ones(const Shape& shape, TensorOptions options = {});
Tensor full(const Shape& shape, Scalar value, TensorOptions options = {});
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor empty_like(const Tensor& t);
Tensor arange(Scalar end, TensorOptions options = DType::i64);
Tensor arange(Scalar start, Scalar end, Scalar step = 1, TensorOptions options = DType::i64);
Tensor linspace(double start, double end, int64_t steps, TensorOptions options = {});
Tensor eye(int64_t n, TensorOptions options = {});
Tensor scalar_tensor(Scalar value, TensorOptions options);  // 0-dim
// Random numbers from `gen` (default: the global generator).
Tensor rand(const Shape& shape, TensorOptions options = {}, Generator* gen = nullptr);
Tensor randn(const Shape& shape, TensorOptions options = {}, Generator* gen = nullptr);
Tensor randint(int64_t low, int64_t high, const Shape& shape, TensorOptions options = DType::i64,
               Generator* gen = nullptr);
Tensor uniform(const Shape& shape, double low, double high, TensorOptions options = {},
               Generator* gen = nullptr);
Tensor normal(const Shape& shape, double mean, double std, TensorOptions options = {},
              Generator* gen = nullptr);
// A tensor holding a copy of host values.
template <class T> Tensor from_vector(const std::vector<T>& values, const Shape& shape);
Tensor from_blob(const void* host, const Shape& shape, DType dtype);  // copies

// ---- elementwise unary ---------------------------------------------------------
Tensor neg(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor log1p(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor rsqrt(const Tensor& x);
Tensor sin(const Tensor& x);
Tensor cos(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor relu(const Tensor& x);
Tensor gelu(const Tensor& x, bool tanh_approx = false);
Tensor silu(const Tensor& x);
Tensor leaky_relu(const Tensor& x, double negative_slope = 0.01);
Tensor softplus(const Tensor& x, double beta = 1, double threshold = 20);
Tensor pow(const Tensor& x, Scalar exponent);
Tensor clamp(const Tensor& x, std::optional<double> lo, std::optional<double> hi);
Tensor sign(const Tensor& x);

// ---- elementwise binary (broadcasting, PyTorch type promotion) ----------------
Tensor add(const Tensor& a, const Tensor& b, Scalar alpha = 1);
Tensor sub(const Tensor& a, const Tensor& b, Scalar alpha = 1);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);  // true division
Tensor pow(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);
Tensor eq(const Tensor& a, const Tensor& b);  // comparisons give bool tensors
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
Tensor masked_fill(const Tensor& x, const Tensor& mask, Scalar value);
// The dtype torch gives a binary op on a and b (0-dim tensors and plain
// numbers do not raise the category of a dimensioned operand).
DType result_type(const Tensor& a, const Tensor& b);
// A 0-dim tensor for `value` next to tensor `like`, typed as torch would.
Tensor wrap_scalar(Scalar value, const Tensor& like);

Tensor operator-(const Tensor& x);
Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator+(const Tensor& a, Scalar b);
Tensor operator-(const Tensor& a, Scalar b);
Tensor operator*(const Tensor& a, Scalar b);
Tensor operator/(const Tensor& a, Scalar b);
Tensor operator+(Scalar a, const Tensor& b);
Tensor operator-(Scalar a, const Tensor& b);
Tensor operator*(Scalar a, const Tensor& b);
Tensor operator/(Scalar a, const Tensor& b);

// ---- reductions (dims empty = all; negative dims count from the end) ---------
Tensor sum(const Tensor& x, const Shape& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const Shape& dims = {}, bool keepdim = false);
Tensor var(const Tensor& x, const Shape& dims = {}, double correction = 1, bool keepdim = false);
Tensor std(const Tensor& x, const Shape& dims = {}, double correction = 1, bool keepdim = false);
Tensor amax(const Tensor& x, const Shape& dims = {}, bool keepdim = false);
Tensor amin(const Tensor& x, const Shape& dims = {}, bool keepdim = false);
struct ValuesIndices {
  Tensor values, indices;
};
ValuesIndices max(const Tensor& x, int64_t dim, bool keepdim = false);
ValuesIndices min(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor argmin(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor logsumexp(const Tensor& x, const Shape& dims, bool keepdim = false);
Tensor norm(const Tensor& x, double p = 2, const Shape& dims = {}, bool keepdim = false);
// Sums a broadcast gradient back down to `shape` (used by backward formulas).
Tensor sum_to(const Tensor& x, const Shape& shape);

// ---- linear algebra --------------------------------------------------------------
// torch.matmul semantics: 1-D, 2-D and batched (broadcast) operands.
Tensor matmul(const Tensor& a, const Tensor& b);
// x (*, in) @ weight (out, in)^T + bias (out) -> (*, out).
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());
// gelu(linear(x, weight, bias)), a transformer MLP's first half. Where gelu
// runs gelu_and_slope (f32 on the CPU, in training, outside autocast) the
// bias is added in GELU's pass rather than in a pass of its own after the
// product, and its gradient is summed in the pass that multiplies by gelu'.
Tensor linear_gelu(const Tensor& x, const Tensor& weight, const Tensor& bias, bool tanh_approx = false);

// ---- neural network ---------------------------------------------------------------
Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);
// logits (B, N) or (B, N, d...) against class indices (B) or (B, d...).
Tensor cross_entropy(const Tensor& logits, const Tensor& target, int64_t ignore_index = -100,
                     double label_smoothing = 0, Reduction reduction = Reduction::mean);
Tensor nll_loss(const Tensor& log_probs, const Tensor& target, int64_t ignore_index = -100,
                Reduction reduction = Reduction::mean);
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::mean);
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target,
                                        Reduction reduction = Reduction::mean);
// Normalises the trailing dims given by normalized_shape.
Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight = Tensor(),
                  const Tensor& bias = Tensor(), double eps = 1e-5);
// x / sqrt(mean(x^2) + eps) * weight over the trailing dims given by
// normalized_shape (torch.nn.functional.rms_norm).
Tensor rms_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight = Tensor(),
                double eps = 1e-6);
// x (N, C, *) normalised per sample over groups of C / groups channels,
// then weight and bias (C) per channel.
Tensor group_norm(const Tensor& x, int64_t groups, const Tensor& weight = Tensor(),
                  const Tensor& bias = Tensor(), double eps = 1e-5);
// x (B, C, ...): in training uses batch statistics and updates the running
// ones in place (when defined); in eval uses the running statistics.
Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight, const Tensor& bias, bool training, double momentum = 0.1,
                  double eps = 1e-5);
Tensor dropout(const Tensor& x, double p, bool training, Generator* gen = nullptr);
// weight (V, C) rows picked by integer indices (*) -> (*, C).
Tensor embedding(const Tensor& weight, const Tensor& indices, int64_t padding_idx = -1);
// x (B, Cin, H, W), weight (Cout, Cin/groups, kH, kW), bias (Cout) or undefined.
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(),
              std::array<int64_t, 2> stride = {1, 1}, std::array<int64_t, 2> padding = {0, 0},
              std::array<int64_t, 2> dilation = {1, 1}, int64_t groups = 1);
// x (B, Cin, L), weight (Cout, Cin/groups, K), bias (Cout) or undefined.
Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(),
              int64_t stride = 1, int64_t padding = 0, int64_t dilation = 1, int64_t groups = 1);
// The transpose (adjoint) of conv2d: x (B, Cin, H, W) or (Cin, H, W), weight
// (Cin, Cout/groups, kH, kW), bias (Cout) or undefined -> (B, Cout, Ho, Wo) with
// Ho = (H - 1) stride - 2 padding + dilation (kH - 1) + output_padding + 1.
// output_padding must be smaller than stride (torch also allows < dilation).
Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(),
                        std::array<int64_t, 2> stride = {1, 1},
                        std::array<int64_t, 2> padding = {0, 0},
                        std::array<int64_t, 2> output_padding = {0, 0},
                        std::array<int64_t, 2> dilation = {1, 1}, int64_t groups = 1);
// x (B, C, H, W) resized to output_size (Ho, Wo), torch's upsample_*2d. With
// `scales` (the scale_factor a size was computed from) source positions are
// dst / scale as in torch; without, dst * H / Ho.
// nearest: out[i, j] = x[floor(i * H / Ho), floor(j * W / Wo)] (torch's "nearest").
Tensor upsample_nearest2d(const Tensor& x, std::array<int64_t, 2> output_size,
                          std::optional<std::array<double, 2>> scales = std::nullopt);
// bilinear: each output a weighted sum of its 2x2 nearest inputs, by pixel
// centres (align_corners false) or by corners (true), as torch.
Tensor upsample_bilinear2d(const Tensor& x, std::array<int64_t, 2> output_size,
                           bool align_corners = false,
                           std::optional<std::array<double, 2>> scales = std::nullopt);
Tensor max_pool2d(const Tensor& x, std::array<int64_t, 2> kernel,
                  std::optional<std::array<int64_t, 2>> stride = std::nullopt,
                  std::array<int64_t, 2> padding = {0, 0},
                  std::array<int64_t, 2> dilation = {1, 1}, bool ceil_mode = false);
Tensor avg_pool2d(const Tensor& x, std::array<int64_t, 2> kernel,
                  std::optional<std::array<int64_t, 2>> stride = std::nullopt,
                  std::array<int64_t, 2> padding = {0, 0}, bool ceil_mode = false,
                  bool count_include_pad = true);
Tensor adaptive_avg_pool2d(const Tensor& x, std::array<int64_t, 2> output_size);
// Causal self-attention as one op: q (B, H, T, D), k, v (B, Hkv, T, D) ->
// softmax(q k^T * scale, position t attending to positions <= t) v, (B, H, T, D),
// without forming the (T, T) weights on GPUs. scale defaults to 1 / sqrt(D).
// Hkv < H is grouped-query attention: query head h reads key/value head
// h / (H / Hkv), which is never repeated in memory. dropout > 0 drops
// weights as dropout(weights, p, true, gen) would (the same mask from the same
// generator state; CPU only), as in training.
Tensor causal_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                        std::optional<double> scale = std::nullopt, double dropout = 0,
                        Generator* gen = nullptr);

// Rotary position embeddings: x (*, T, H, D), each pair (x[2i], x[2i + 1])
// rotated by the angle with cosine cos[t, i] and sine sin[t, i], tables (T, D / 2).
Tensor rotary_embedding(const Tensor& x, const Tensor& cos, const Tensor& sin);

// ---- shape and indexing --------------------------------------------------------
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim = 0);
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim = 0);
std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t dim = 0);
std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim = 0);
std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim = 0);
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);
// x with src added at index along dim (out of place).
Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src);
// x with src rows added at index along dim (out of place); backward helper.
Tensor index_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src);
Tensor tril(const Tensor& x, int64_t diagonal = 0);
Tensor triu(const Tensor& x, int64_t diagonal = 0);
Tensor one_hot(const Tensor& indices, int64_t num_classes = -1);  // -> int64

// ---- backward kernels (called by autograd formulas) ------------------------------
namespace ops {
// grad where the relu's output y is above 0 (or NaN), else 0: one pass.
Tensor relu_backward(const Tensor& grad, const Tensor& y);
Tensor gelu_backward(const Tensor& grad, const Tensor& x, bool tanh_approx);
// gelu(x) and its derivative gelu'(x) from one pass: what gelu() runs for a
// float32 CPU input that requires grad; its backward is grad * slope.
struct GeluAndSlope {
  Tensor value, slope;
};
GeluAndSlope gelu_and_slope(const Tensor& x, bool tanh_approx);
// The same of x + bias, bias (N) added along x's last dim (what linear_gelu
// runs on the CPU): its backward also sums the bias's gradient, in
// gelu_bias_backward's one pass.
GeluAndSlope gelu_and_slope(const Tensor& x, const Tensor& bias, bool tanh_approx);
// grad (*, N) * slope, and that product summed over all but its last dim (N).
struct GeluBiasGrads {
  Tensor x, bias;
};
GeluBiasGrads gelu_bias_backward(const Tensor& grad, const Tensor& slope);
Tensor softmax_backward(const Tensor& grad, const Tensor& y, int64_t dim);
Tensor log_softmax_backward(const Tensor& grad, const Tensor& y, int64_t dim);
}  // namespace ops

}  // namespace dlt
