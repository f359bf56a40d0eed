// Backward formula of causal_attention: one fused kernel recomputes the
// attention weights from q, k and the saved row logsumexp.
#include "dlt/autograd/formula.h"
#include "dlt/ops/attention.h"

namespace dlt::autograd {
namespace {

// Inputs (q, k, v); outputs (out, lse) of which only out is differentiable.
DLT_BACKWARD(causal_attention, (Saves{0b111, 0b11, 1})) {
  const auto g = ops::causal_attention_backward(ctx.grad(), ctx.input(0), ctx.input(1),
                                                ctx.input(2), ctx.output(0), ctx.output(1),
                                                ctx.attrs<ops::AttentionAttrs>().scale);
  return {ctx.needs(0) ? g.q : Tensor(), ctx.needs(1) ? g.k : Tensor(),
          ctx.needs(2) ? g.v : Tensor()};
}

}  // namespace
}  // namespace dlt::autograd
