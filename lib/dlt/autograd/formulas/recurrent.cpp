// Backward formulas of the fused recurrent cells: one fused kernel each, from
// the activated gates the forward kept (its workspace output).
#include "dlt/autograd/formula.h"
#include "dlt/ops/recurrent.h"

namespace dlt::autograd {
namespace {

// Inputs (gates, c_prev); outputs (h, c, workspace), of which h and c are
// differentiable. Saves c_prev, c and the workspace: not the raw gates.
DLT_BACKWARD(lstm_cell, (Saves{0b10, 0b110, 2})) {
  const auto g = ops::lstm_cell_backward(ctx.grad(0), ctx.grad(1), ctx.output(2), ctx.input(1),
                                         ctx.output(1));
  return {ctx.needs(0) ? g.gates : Tensor(), ctx.needs(1) ? g.c_prev : Tensor()};
}

// Inputs (input_gates, hidden_gates, h_prev); outputs (h, workspace), of
// which h is differentiable.
DLT_BACKWARD(gru_cell, (Saves{0b100, 0b10, 1})) {
  const auto g = ops::gru_cell_backward(ctx.grad(), ctx.output(1), ctx.input(2));
  return {ctx.needs(0) ? g.input_gates : Tensor(), ctx.needs(1) ? g.hidden_gates : Tensor(),
          ctx.needs(2) ? g.h_prev : Tensor()};
}

}  // namespace
}  // namespace dlt::autograd
