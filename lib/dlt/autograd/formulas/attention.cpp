// Backward formulas of causal_attention (one fused kernel recomputes the
// attention weights from q, k and the saved row logsumexp) and
// rotary_embedding (the inverse rotation).
#include "dlt/autograd/formula.h"
#include "dlt/ops/attention.h"
#include "dlt/ops/rotary.h"

namespace dlt::autograd {
namespace {

// Inputs (q, k, v); outputs (out, lse) of which only out is differentiable.
DLT_BACKWARD(causal_attention, (Saves{0b111, 0b11, 1})) {
  const auto g = ops::causal_attention_backward(ctx.grad(), ctx.input(0), ctx.input(1),
                                                ctx.input(2), ctx.output(0), ctx.output(1),
                                                ctx.attrs<ops::AttentionAttrs>());
  return {ctx.needs(0) ? g.q : Tensor(), ctx.needs(1) ? g.k : Tensor(),
          ctx.needs(2) ? g.v : Tensor()};
}

// Inputs (x, cos, sin): a rotation's transpose is its inverse; the tables
// are constants.
DLT_BACKWARD(rotary_embedding, (Saves{0b110, 0})) {
  return {ops::rotate_pairs(ctx.grad().contiguous(), ctx.input(1), ctx.input(2),
                            !ctx.attrs<ops::RotaryAttrs>().inverse),
          Tensor(), Tensor()};
}

}  // namespace
}  // namespace dlt::autograd
