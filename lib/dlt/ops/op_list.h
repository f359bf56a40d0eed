// The one list of ops. Everything per-op derives from it: the OpId enum, the
// dispatch table (op x device -> kernel), the table of backward formulas, and
// the coverage tests that fail when an op lacks a kernel, a formula or a test.
//
// X(name, kind, attrs, cast):
//   Compute    a kernel per device and a backward formula
//   NoGrad     a kernel, not differentiable (comparisons, indices, RNG)
//   Backward   a kernel used only by backward formulas
//   View       no kernel: new geometry over the same storage; a formula
//   Composite  no kernel, no formula: built from other ops (tested all the same)
// and how the op runs under autocast (train.precision bf16/fp16; the table
// and where it differs from PyTorch's lists: docs/ARCHITECTURE.md):
//   Lower      floating inputs cast to the low dtype (GEMMs, convolutions)
//   Fp32       floating inputs cast to f32, result in f32 (losses, softmax,
//              normalisation, exp/log/pow, sums and norms, the recurrent
//              cells, whose cell/hidden state then stays f32 over the steps)
//   Promote    inputs of mixed floating dtypes run in the widest
//   Keep       runs in the dtype that arrives (activations, views, indexing)
//   Outside    never runs under autocast (backward kernels, optimizer steps)
#pragma once

#include "dlt/ops/attrs.h"

#define DLT_OPS(X)                                            \
  /* elementwise unary */                                     \
  X(neg, Compute, NoAttrs, Keep)                              \
  X(abs, Compute, NoAttrs, Keep)                              \
  X(exp, Compute, NoAttrs, Fp32)                              \
  X(log, Compute, NoAttrs, Fp32)                              \
  X(log1p, Compute, NoAttrs, Fp32)                            \
  X(sqrt, Compute, NoAttrs, Keep)                             \
  X(rsqrt, Compute, NoAttrs, Fp32)                            \
  X(sin, Compute, NoAttrs, Keep)                              \
  X(cos, Compute, NoAttrs, Keep)                              \
  X(tanh, Compute, NoAttrs, Keep)                             \
  X(sigmoid, Compute, NoAttrs, Keep)                          \
  X(relu, Compute, NoAttrs, Keep)                             \
  X(gelu, Compute, GeluAttrs, Keep)                           \
  X(gelu_and_slope, Compute, GeluAttrs, Keep)                 \
  X(silu, Compute, NoAttrs, Keep)                             \
  X(leaky_relu, Composite, NoAttrs, Keep)                     \
  X(softplus, Compute, SoftplusAttrs, Fp32)                   \
  X(pow_scalar, Compute, ScalarAttrs, Fp32)                   \
  X(clamp, Compute, ClampAttrs, Keep)                         \
  X(sign, Compute, NoAttrs, Keep)                             \
  /* elementwise binary (broadcasting) */                     \
  X(add, Compute, AlphaAttrs, Promote)                        \
  X(sub, Compute, AlphaAttrs, Promote)                        \
  X(mul, Compute, NoAttrs, Promote)                           \
  X(div, Compute, NoAttrs, Promote)                           \
  X(pow, Compute, NoAttrs, Fp32)                              \
  X(maximum, Compute, NoAttrs, Promote)                       \
  X(minimum, Compute, NoAttrs, Promote)                       \
  X(eq, NoGrad, NoAttrs, Promote)                             \
  X(ne, NoGrad, NoAttrs, Promote)                             \
  X(lt, NoGrad, NoAttrs, Promote)                             \
  X(le, NoGrad, NoAttrs, Promote)                             \
  X(gt, NoGrad, NoAttrs, Promote)                             \
  X(ge, NoGrad, NoAttrs, Promote)                             \
  X(where, Compute, NoAttrs, Promote)                         \
  X(masked_fill, Compute, ScalarAttrs, Keep)                  \
  /* reductions */                                            \
  X(sum, Compute, ReduceAttrs, Fp32)                          \
  X(mean, Compute, ReduceAttrs, Keep)                         \
  X(var, Compute, VarAttrs, Fp32)                             \
  X(std, Composite, VarAttrs, Fp32)                           \
  X(amax, Compute, ReduceAttrs, Keep)                         \
  X(amin, Compute, ReduceAttrs, Keep)                         \
  X(max_dim, Compute, ReduceDimAttrs, Keep)                   \
  X(min_dim, Compute, ReduceDimAttrs, Keep)                   \
  X(argmax, NoGrad, ReduceDimAttrs, Keep)                     \
  X(argmin, NoGrad, ReduceDimAttrs, Keep)                     \
  X(logsumexp, Compute, ReduceAttrs, Fp32)                    \
  X(norm, Composite, ReduceAttrs, Fp32)                       \
  /* linear algebra */                                        \
  X(matmul, Compute, NoAttrs, Lower)                          \
  X(linear, Compute, NoAttrs, Lower)                          \
  X(linear_gelu, Composite, NoAttrs, Lower)                   \
  /* neural network */                                        \
  X(softmax, Compute, SoftmaxAttrs, Fp32)                     \
  X(log_softmax, Compute, SoftmaxAttrs, Fp32)                 \
  X(cross_entropy, Compute, CrossEntropyAttrs, Fp32)          \
  X(nll_loss, Compute, NllAttrs, Fp32)                        \
  X(mse_loss, Composite, LossAttrs, Fp32)                     \
  X(bce_with_logits, Composite, LossAttrs, Fp32)              \
  X(layer_norm, Compute, LayerNormAttrs, Fp32)                \
  X(batch_norm, Compute, BatchNormAttrs, Fp32)                \
  X(rms_norm, Compute, LayerNormAttrs, Fp32)                  \
  X(group_norm, Composite, NoAttrs, Fp32)                     \
  X(dropout, Compute, DropoutAttrs, Keep)                     \
  X(embedding, Compute, EmbeddingAttrs, Keep)                 \
  X(conv1d, Composite, NoAttrs, Lower)                        \
  X(conv2d, Compute, Conv2dAttrs, Lower)                      \
  X(conv_transpose2d, Compute, ConvTranspose2dAttrs, Lower)   \
  X(max_pool2d, Compute, Pool2dAttrs, Keep)                   \
  X(avg_pool2d, Compute, Pool2dAttrs, Keep)                   \
  X(adaptive_avg_pool2d, Compute, AdaptivePoolAttrs, Keep)    \
  X(upsample_nearest2d, Composite, NoAttrs, Keep)             \
  X(upsample_bilinear2d, Composite, NoAttrs, Keep)            \
  X(causal_attention, Compute, AttentionAttrs, Lower)         \
  X(rotary_embedding, Compute, RotaryAttrs, Keep)             \
  X(lstm_cell, Compute, NoAttrs, Fp32)                        \
  X(gru_cell, Compute, NoAttrs, Fp32)                         \
  /* shape and indexing */                                    \
  X(cat, Compute, DimAttrs, Promote)                          \
  X(stack, Composite, DimAttrs, Promote)                      \
  X(split, Composite, DimAttrs, Keep)                         \
  X(chunk, Composite, DimAttrs, Keep)                         \
  X(index_select, Compute, DimAttrs, Keep)                    \
  X(gather, Compute, DimAttrs, Keep)                          \
  X(scatter_add, Compute, DimAttrs, Promote)                  \
  X(tril, Compute, TriAttrs, Keep)                            \
  X(triu, Compute, TriAttrs, Keep)                            \
  X(one_hot, NoGrad, OneHotAttrs, Keep)                       \
  X(copy, Compute, NoAttrs, Keep)                             \
  /* views */                                                 \
  X(view, View, ViewAttrs, Keep)                              \
  X(permute, View, PermuteAttrs, Keep)                        \
  X(expand, View, ExpandAttrs, Keep)                          \
  X(slice, View, SliceAttrs, Keep)                            \
  /* factories and random numbers */                          \
  X(fill, NoGrad, ScalarAttrs, Keep)                          \
  X(range, NoGrad, RangeAttrs, Keep)                          \
  X(uniform, NoGrad, RandomAttrs, Keep)                       \
  X(normal, NoGrad, RandomAttrs, Keep)                        \
  X(randint, NoGrad, RandomAttrs, Keep)                       \
  /* fused optimizer updates (in place, one pass) */          \
  X(sgd_step, NoGrad, SgdStepAttrs, Outside)                  \
  X(adam_step, NoGrad, AdamStepAttrs, Outside)                \
  X(rmsprop_step, NoGrad, RmspropStepAttrs, Outside)         \
  X(unscale_check, NoGrad, UnscaleAttrs, Outside)          \
  X(sum_squares, NoGrad, NoAttrs, Outside)                    \
  /* kernels used by backward formulas */                     \
  X(relu_backward, Backward, NoAttrs, Outside)                \
  X(gelu_backward, Backward, GeluAttrs, Outside)              \
  X(gelu_bias_backward, Backward, NoAttrs, Outside)           \
  X(softmax_backward, Backward, SoftmaxAttrs, Outside)        \
  X(log_softmax_backward, Backward, SoftmaxAttrs, Outside)    \
  X(cross_entropy_backward, Backward, CrossEntropyAttrs, Outside)\
  X(nll_loss_backward, Backward, NllAttrs, Outside)           \
  X(layer_norm_backward, Backward, LayerNormAttrs, Outside)   \
  X(rms_norm_backward, Backward, LayerNormAttrs, Outside)     \
  X(batch_norm_backward, Backward, BatchNormAttrs, Outside)   \
  X(embedding_backward, Backward, EmbeddingAttrs, Outside)    \
  X(index_add, Backward, DimAttrs, Outside)                   \
  X(conv2d_backward_input, Backward, Conv2dAttrs, Outside)    \
  X(conv2d_backward_weight, Backward, Conv2dAttrs, Outside)   \
  X(max_pool2d_backward, Backward, Pool2dAttrs, Outside)      \
  X(avg_pool2d_backward, Backward, Pool2dAttrs, Outside)      \
  X(adaptive_avg_pool2d_backward, Backward, AdaptivePoolAttrs, Outside)\
  X(causal_attention_backward, Backward, AttentionAttrs, Outside)\
  X(lstm_cell_backward, Backward, NoAttrs, Outside)           \
  X(gru_cell_backward, Backward, NoAttrs, Outside)

namespace dlt::ops {

enum class OpKind : uint8_t { Compute, NoGrad, Backward, View, Composite };
enum class CastPolicy : uint8_t { Lower, Fp32, Promote, Keep, Outside };

enum class OpId : uint16_t {
#define X(name, kind, attrs, cast) name,
  DLT_OPS(X)
#undef X
};

inline constexpr int kNumOps = 0
#define X(name, kind, attrs, cast) +1
    DLT_OPS(X)
#undef X
    ;

// The attrs struct of each op, for type-checked kernels and formulas.
template <OpId id> struct OpAttrs;
#define X(name, kind, attrs_t, cast) \
  template <> struct OpAttrs<OpId::name> { using type = attrs_t; };
DLT_OPS(X)
#undef X
template <OpId id> using attrs_of = typename OpAttrs<id>::type;

struct OpInfo {
  const char* name;
  OpKind kind;
  CastPolicy cast;
};
const OpInfo& op_info(OpId id);
inline const char* op_name(OpId id) { return op_info(id).name; }
inline CastPolicy cast_policy(OpId id) { return op_info(id).cast; }
const char* cast_policy_name(CastPolicy p);  // "lower", "fp32", ...
bool needs_kernel(OpId id);   // Compute, NoGrad, Backward
bool needs_formula(OpId id);  // Compute, View
bool is_differentiable(OpId id);  // Compute, View, Composite

}  // namespace dlt::ops
