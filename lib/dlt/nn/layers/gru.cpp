#include "dlt/nn/layers/gru.h"

#include "dlt/autograd/function.h"
#include "dlt/core/grad_mode.h"
#include "dlt/ops/ops.h"
#include "dlt/ops/recurrent.h"

namespace dlt::nn {

GRU::GRU(RecurrentOptions o, const Shape& input_shape, BuildContext& ctx)
    : Recurrent(o, input_shape, ctx, 3) {}

// As LSTM::run_direction: the steps run without history, one backward node
// replays them in reverse, stacking the steps' d gx into one tensor; d W_hh
// is one GEMM over all steps.
DirectionOutput GRU::run_direction(const Tensor& gx, const DirectionParams& p,
                                   const StepSchedule& schedule, bool reverse, const Tensor& h0,
                                   const Tensor&) {
  const int64_t B = gx.size(0), T = gx.size(1), H = options.hidden_size;
  const std::vector<int64_t> steps = step_order(T, reverse);
  const Tensor w_hh = p.w_hh.detach();
  const Tensor b_hh = p.b_hh.defined() ? p.b_hh.detach() : Tensor();
  const StepWeights step_w(w_hh, b_hh);
  const DType state_dtype = h0.dtype();
  Tensor h;  // (B, H), replaced at every step, never written in place
  StepStack out(B, T, state_dtype), h_prev(B, T, state_dtype);  // (B, T, H)
  std::vector<Tensor> ws(static_cast<size_t>(T));
  {
    NoGradGuard no_grad;
    const Tensor gxd = gx.detach();
    h = h0.detach().clone();  // a copy: the backward keeps it, the caller may change h0
    for (const int64_t t : steps) {
      const int64_t b = schedule.active(t);  // rows past their length keep their state
      const Tensor hb = h.slice(0, 0, b);
      h_prev.set(t, hb);
      const GruCellOutput cell =
          gru_cell(gxd.select(1, t).slice(0, 0, b), linear(hb, step_w.w, step_w.b), hb);
      out.set(t, cell.h);
      ws[size_t(t)] = cell.workspace;
      h = with_rows(h, cell.h);
    }
  }
  Tensor outputs[] = {out.stacked(), h};
  const Tensor inputs[] = {gx, p.w_hh, p.b_hh, h0};
  autograd::attach_backward(
      outputs, inputs, "GruBackward",
      [=, ws = std::move(ws), h_prev = h_prev.stacked()](std::span<const Tensor> grads) {
        const Tensor& d_out = grads[0];        // (B, T, H)
        Tensor dh = grads[1].to(state_dtype);  // (B, H): d of the state before the step
        StepStack d_input_gates(B, T, state_dtype), d_hidden_gates(B, T, state_dtype);  // 3H
        for (auto it = steps.rbegin(); it != steps.rend(); ++it) {
          const int64_t t = *it, b = schedule.active(t);
          const Tensor dh_out = dh.slice(0, 0, b) + d_out.select(1, t).slice(0, 0, b);
          const auto g =
              ops::gru_cell_backward(dh_out, ws[size_t(t)], h_prev.select(1, t).slice(0, 0, b));
          d_input_gates.set(t, g.input_gates);
          d_hidden_gates.set(t, g.hidden_gates);
          // (b, 3H) @ (3H, H) in the dtype of the forward's step GEMM (bf16
          // under autocast, as torch's autocast GRU runs its backward).
          const Tensor dh_gemm = matmul(g.hidden_gates.to(step_w.w.dtype()), step_w.w);
          dh = with_rows(dh, g.h_prev + dh_gemm);
        }
        // Rows past their length have zero gate gradients: they add nothing.
        const Tensor flat_hidden = d_hidden_gates.stacked().reshape({B * T, 3 * H});
        const DType step = step_w.w.dtype();  // as the step GEMMs, forward and backward
        const Tensor d_w_hh = matmul(flat_hidden.to(step).t(), h_prev.reshape({B * T, H}).to(step));
        const Tensor d_b_hh = b_hh.defined() ? flat_hidden.sum({0}) : Tensor();
        return std::vector<Tensor>{d_input_gates.stacked(), d_w_hh, d_b_hh, dh};
      });
  return {outputs[0], outputs[1], Tensor()};
}

static const LayerInfo kGRUInfo{
    .summary = "GRU (gated recurrent unit, torch's gate order and names): [T, I] -> [T, D H] or [D H]",
    .options = recurrent_options(),
    .example = "{type: GRU, hidden_size: 4}",
    .example_input = {5, 3}};

static Built build_gru(const config::Node& spec, const Shape& input_shape, BuildContext& ctx) {
  return make_layer<GRU>(read_recurrent_options(spec, kGRUInfo), input_shape, ctx);
}
DLT_REGISTER_LAYER(GRU, build_gru, kGRUInfo);

}  // namespace dlt::nn
