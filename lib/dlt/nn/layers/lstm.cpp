#include "dlt/nn/layers/lstm.h"

#include "dlt/autograd/function.h"
#include "dlt/core/grad_mode.h"
#include "dlt/ops/ops.h"
#include "dlt/ops/recurrent.h"

namespace dlt::nn {

LSTM::LSTM(RecurrentOptions o, const Shape& input_shape, BuildContext& ctx)
    : Recurrent(o, input_shape, ctx, 4) {}

// The steps run without history; one backward node replays them in reverse
// with the fused cell's backward kernel. Recorded per step, the slices of gx
// would each give a full (B, T, 4H) gradient (T^2 memory traffic); here the
// steps' d gx are stacked into one tensor and d W_hh is one GEMM over all steps.
DirectionOutput LSTM::run_direction(const Tensor& gx, const DirectionParams& p,
                                    const StepSchedule& schedule, bool reverse, const Tensor& h0,
                                    const Tensor& c0) {
  const int64_t B = gx.size(0), T = gx.size(1), H = options.hidden_size;
  const std::vector<int64_t> steps = step_order(T, reverse);
  const Tensor w_hh = p.w_hh.detach();
  const Tensor b_hh = p.b_hh.defined() ? p.b_hh.detach() : Tensor();
  const StepWeights step_w(w_hh, b_hh);
  const DType state_dtype = h0.dtype();
  // The states (B, H) are replaced at every step, never written in place:
  // the tensors a step saved for the backward stay as they were.
  Tensor h, c;
  StepStack out(B, T, state_dtype), h_prev(B, T, state_dtype);  // (B, T, H)
  // Per step, what its backward reads: activated gates (b, 4H), c before and after (b, H).
  std::vector<Tensor> ws(static_cast<size_t>(T)), c_prev(ws.size()), c_new(ws.size());
  {
    NoGradGuard no_grad;
    const Tensor gxd = gx.detach();
    h = h0.detach().clone();  // a copy: the backward keeps it, the caller may change h0
    c = c0.detach().clone();
    for (const int64_t t : steps) {
      const int64_t b = schedule.active(t);  // rows past their length keep their state
      const Tensor hb = h.slice(0, 0, b), cb = c.slice(0, 0, b);
      h_prev.set(t, hb);
      const LstmCellOutput cell =
          lstm_cell(gxd.select(1, t).slice(0, 0, b) + linear(hb, step_w.w, step_w.b), cb);
      c_prev[size_t(t)] = cb;
      out.set(t, cell.h);
      ws[size_t(t)] = cell.workspace;
      c_new[size_t(t)] = cell.c;
      h = with_rows(h, cell.h);
      c = with_rows(c, cell.c);
    }
  }
  Tensor outputs[] = {out.stacked(), h, c};
  const Tensor inputs[] = {gx, p.w_hh, p.b_hh, h0, c0};
  autograd::attach_backward(
      outputs, inputs, "LstmBackward",
      [=, ws = std::move(ws), c_prev = std::move(c_prev), c_new = std::move(c_new),
       h_prev = h_prev.stacked()](std::span<const Tensor> grads) {
        const Tensor& d_out = grads[0];        // (B, T, H)
        Tensor dh = grads[1].to(state_dtype);  // (B, H): d of the state before the step
        Tensor dc = grads[2].to(state_dtype);
        StepStack d_gates(B, T, state_dtype);  // (B, T, 4H)
        for (auto it = steps.rbegin(); it != steps.rend(); ++it) {
          const int64_t t = *it, b = schedule.active(t);
          const Tensor dh_out = dh.slice(0, 0, b) + d_out.select(1, t).slice(0, 0, b);
          const auto g = ops::lstm_cell_backward(dh_out, dc.slice(0, 0, b), ws[size_t(t)],
                                                 c_prev[size_t(t)], c_new[size_t(t)]);
          d_gates.set(t, g.gates);
          // (b, 4H) @ (4H, H) in the dtype of the forward's step GEMM (bf16
          // under autocast, as torch's autocast LSTM runs its backward).
          dh = with_rows(dh, matmul(g.gates.to(step_w.w.dtype()), step_w.w));
          dc = with_rows(dc, g.c_prev);
        }
        // Rows past their length have zero gate gradients: they add nothing.
        const Tensor all_gates = d_gates.stacked();
        const Tensor flat_gates = all_gates.reshape({B * T, 4 * H});
        const DType step = step_w.w.dtype();  // as the step GEMMs, forward and backward
        const Tensor d_w_hh = matmul(flat_gates.to(step).t(), h_prev.reshape({B * T, H}).to(step));
        const Tensor d_b_hh = b_hh.defined() ? flat_gates.sum({0}) : Tensor();
        return std::vector<Tensor>{all_gates, d_w_hh, d_b_hh, dh, dc};
      });
  return {outputs[0], outputs[1], outputs[2]};
}

static const LayerInfo kLSTMInfo{
    .summary = "LSTM (long short-term memory, torch's gate order and names): [T, I] -> [T, D H] or [D H]",
    .options = recurrent_options(),
    .example = "{type: LSTM, hidden_size: 4}",
    .example_input = {5, 3}};

static Built build_lstm(const config::Node& spec, const Shape& input_shape, BuildContext& ctx) {
  return make_layer<LSTM>(read_recurrent_options(spec, kLSTMInfo), input_shape, ctx);
}
DLT_REGISTER_LAYER(LSTM, build_lstm, kLSTMInfo);

}  // namespace dlt::nn
