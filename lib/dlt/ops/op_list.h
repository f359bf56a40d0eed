// The one list of ops. Everything per-op derives from it: the OpId enum, the
// dispatch table (op x device -> kernel), the table of backward formulas, and
// the coverage tests that fail when an op lacks a kernel, a formula or a test.
//
// X(name, kind, attrs):
//   Compute    a kernel per device and a backward formula
//   NoGrad     a kernel, not differentiable (comparisons, indices, RNG)
//   Backward   a kernel used only by backward formulas
//   View       no kernel: new geometry over the same storage; a formula
//   Composite  no kernel, no formula: built from other ops (tested all the same)
#pragma once

#include "dlt/ops/attrs.h"

#define DLT_OPS(X)                                        \
  /* elementwise unary */                                 \
  X(neg, Compute, NoAttrs)                                \
  X(abs, Compute, NoAttrs)                                \
  X(exp, Compute, NoAttrs)                                \
  X(log, Compute, NoAttrs)                                \
  X(log1p, Compute, NoAttrs)                              \
  X(sqrt, Compute, NoAttrs)                               \
  X(rsqrt, Compute, NoAttrs)                              \
  X(sin, Compute, NoAttrs)                                \
  X(cos, Compute, NoAttrs)                                \
  X(tanh, Compute, NoAttrs)                               \
  X(sigmoid, Compute, NoAttrs)                            \
  X(relu, Compute, NoAttrs)                               \
  X(gelu, Compute, GeluAttrs)                             \
  X(silu, Compute, NoAttrs)                               \
  X(softplus, Compute, SoftplusAttrs)                     \
  X(pow_scalar, Compute, ScalarAttrs)                     \
  X(clamp, Compute, ClampAttrs)                           \
  X(sign, Compute, NoAttrs)                               \
  /* elementwise binary (broadcasting) */                 \
  X(add, Compute, AlphaAttrs)                             \
  X(sub, Compute, AlphaAttrs)                             \
  X(mul, Compute, NoAttrs)                                \
  X(div, Compute, NoAttrs)                                \
  X(pow, Compute, NoAttrs)                                \
  X(maximum, Compute, NoAttrs)                            \
  X(minimum, Compute, NoAttrs)                            \
  X(eq, NoGrad, NoAttrs)                                  \
  X(ne, NoGrad, NoAttrs)                                  \
  X(lt, NoGrad, NoAttrs)                                  \
  X(le, NoGrad, NoAttrs)                                  \
  X(gt, NoGrad, NoAttrs)                                  \
  X(ge, NoGrad, NoAttrs)                                  \
  X(where, Compute, NoAttrs)                              \
  X(masked_fill, Compute, ScalarAttrs)                    \
  /* reductions */                                        \
  X(sum, Compute, ReduceAttrs)                            \
  X(mean, Compute, ReduceAttrs)                           \
  X(var, Compute, VarAttrs)                               \
  X(std, Composite, VarAttrs)                             \
  X(amax, Compute, ReduceAttrs)                           \
  X(amin, Compute, ReduceAttrs)                           \
  X(max_dim, Compute, ReduceDimAttrs)                     \
  X(min_dim, Compute, ReduceDimAttrs)                     \
  X(argmax, NoGrad, ReduceDimAttrs)                       \
  X(argmin, NoGrad, ReduceDimAttrs)                       \
  X(logsumexp, Compute, ReduceAttrs)                      \
  X(norm, Composite, ReduceAttrs)                         \
  /* linear algebra */                                    \
  X(matmul, Compute, NoAttrs)                             \
  X(linear, Compute, NoAttrs)                             \
  /* neural network */                                    \
  X(softmax, Compute, SoftmaxAttrs)                       \
  X(log_softmax, Compute, SoftmaxAttrs)                   \
  X(cross_entropy, Compute, CrossEntropyAttrs)            \
  X(nll_loss, Compute, NllAttrs)                          \
  X(mse_loss, Composite, LossAttrs)                       \
  X(bce_with_logits, Composite, LossAttrs)                \
  X(layer_norm, Compute, LayerNormAttrs)                  \
  X(batch_norm, Compute, BatchNormAttrs)                  \
  X(dropout, Compute, DropoutAttrs)                       \
  X(embedding, Compute, EmbeddingAttrs)                   \
  X(conv2d, Compute, Conv2dAttrs)                         \
  X(max_pool2d, Compute, Pool2dAttrs)                     \
  X(avg_pool2d, Compute, Pool2dAttrs)                     \
  X(adaptive_avg_pool2d, Compute, AdaptivePoolAttrs)      \
  X(causal_attention, Compute, AttentionAttrs)            \
  /* shape and indexing */                                \
  X(cat, Compute, DimAttrs)                               \
  X(stack, Composite, DimAttrs)                           \
  X(split, Composite, DimAttrs)                           \
  X(chunk, Composite, DimAttrs)                           \
  X(index_select, Compute, DimAttrs)                      \
  X(gather, Compute, DimAttrs)                            \
  X(scatter_add, Compute, DimAttrs)                       \
  X(tril, Compute, TriAttrs)                              \
  X(triu, Compute, TriAttrs)                              \
  X(one_hot, NoGrad, OneHotAttrs)                         \
  X(copy, Compute, NoAttrs)                               \
  /* views */                                             \
  X(view, View, ViewAttrs)                                \
  X(permute, View, PermuteAttrs)                          \
  X(expand, View, ExpandAttrs)                            \
  X(slice, View, SliceAttrs)                              \
  /* factories and random numbers */                     \
  X(fill, NoGrad, ScalarAttrs)                            \
  X(range, NoGrad, RangeAttrs)                            \
  X(uniform, NoGrad, RandomAttrs)                         \
  X(normal, NoGrad, RandomAttrs)                          \
  X(randint, NoGrad, RandomAttrs)                         \
  /* fused optimizer updates (in place, one pass) */      \
  X(sgd_step, NoGrad, SgdStepAttrs)                       \
  X(adam_step, NoGrad, AdamStepAttrs)                     \
  X(rmsprop_step, NoGrad, RmspropStepAttrs)               \
  /* kernels used by backward formulas */                 \
  X(gelu_backward, Backward, GeluAttrs)                   \
  X(softmax_backward, Backward, SoftmaxAttrs)             \
  X(log_softmax_backward, Backward, SoftmaxAttrs)         \
  X(cross_entropy_backward, Backward, CrossEntropyAttrs)  \
  X(nll_loss_backward, Backward, NllAttrs)                \
  X(layer_norm_backward, Backward, LayerNormAttrs)        \
  X(batch_norm_backward, Backward, BatchNormAttrs)        \
  X(embedding_backward, Backward, EmbeddingAttrs)         \
  X(index_add, Backward, DimAttrs)                        \
  X(conv2d_backward_input, Backward, Conv2dAttrs)         \
  X(conv2d_backward_weight, Backward, Conv2dAttrs)        \
  X(max_pool2d_backward, Backward, Pool2dAttrs)           \
  X(avg_pool2d_backward, Backward, Pool2dAttrs)           \
  X(adaptive_avg_pool2d_backward, Backward, AdaptivePoolAttrs) \
  X(causal_attention_backward, Backward, AttentionAttrs)

namespace dlt::ops {

enum class OpKind : uint8_t { Compute, NoGrad, Backward, View, Composite };

enum class OpId : uint16_t {
#define X(name, kind, attrs) name,
  DLT_OPS(X)
#undef X
};

inline constexpr int kNumOps = 0
#define X(name, kind, attrs) +1
    DLT_OPS(X)
#undef X
    ;

// The attrs struct of each op, for type-checked kernels and formulas.
template <OpId id> struct OpAttrs;
#define X(name, kind, attrs_t) \
  template <> struct OpAttrs<OpId::name> { using type = attrs_t; };
DLT_OPS(X)
#undef X
template <OpId id> using attrs_of = typename OpAttrs<id>::type;

struct OpInfo {
  const char* name;
  OpKind kind;
};
const OpInfo& op_info(OpId id);
inline const char* op_name(OpId id) { return op_info(id).name; }
bool needs_kernel(OpId id);   // Compute, NoGrad, Backward
bool needs_formula(OpId id);  // Compute, View
bool is_differentiable(OpId id);  // Compute, View, Composite

}  // namespace dlt::ops
