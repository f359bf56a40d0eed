// ONNX's recurrent ops (RNN, GRU, LSTM) with their default activations, one
// time step after another with dlt's ops: per direction, the input
// projection of every step at once, then the recurrence.
//   X (T, B, I) (layout 0) or (B, T, I) (layout 1); W (D, G*H, I);
//   R (D, G*H, H); B (D, 2*G*H); outputs Y (T, D, B, H), Y_h (D, B, H), Y_c.
// Gate orders are ONNX's: LSTM i, o, f, c; GRU z, r, h.
#include "dlt/onnx/import/op_registry.h"
#include "dlt/ops/ops.h"

namespace dlt::onnx_import {
namespace {

enum class Cell { rnn, gru, lstm };

struct Step {
  Tensor h, c;  // (B, H)
};

std::vector<Tensor> recurrent(NodeContext& n, Cell cell) {
  const int64_t gates = cell == Cell::lstm ? 4 : cell == Cell::gru ? 3 : 1;
  const std::string direction = n.attr_string("direction", "forward");
  DLT_CHECK(direction == "forward" || direction == "reverse" || direction == "bidirectional",
            "{}: direction must be forward, reverse or bidirectional, got '{}'", n.where(), direction);
  DLT_ONNX_SUPPORTED(!n.has_attr("activations"), "{}: activations other than the defaults", n.where());
  DLT_ONNX_SUPPORTED(!n.attr_int("input_forget", 0), "{}: input_forget", n.where());
  const bool batch_first = n.attr_int("layout", 0) == 1;
  const Tensor x = batch_first ? n.input(0).transpose(0, 1) : n.input(0);  // (T, B, I)
  const int64_t steps = x.size(0), batch = x.size(1), hidden = n.attr_int("hidden_size");
  const Tensor &w = n.input(1), &r = n.input(2);
  const int64_t dirs = direction == "bidirectional" ? 2 : 1;
  DLT_CHECK(w.size(0) == dirs && w.size(1) == gates * hidden, "{}: W has shape {}, expected ({}, {}, I)",
            n.where(), shape_str(w.shape()), dirs, gates * hidden);
  if (n.has_input(4)) {
    for (int64_t len : n.input_ints(4))
      DLT_ONNX_SUPPORTED(len == steps, "{}: sequence_lens shorter than the sequence", n.where());
  }
  const double clip = n.attr_float("clip", 0.0);
  const bool linear_before_reset = n.attr_int("linear_before_reset", 0);
  const auto clipped = [&](const Tensor& t) { return clip > 0 ? clamp(t, -clip, clip) : t; };

  std::vector<Tensor> ys, hs, cs;
  for (int64_t d = 0; d < dirs; ++d) {
    const Tensor wd = w.select(0, d), rd = r.select(0, d);  // (G*H, I), (G*H, H)
    Tensor wb = zeros({gates * hidden}, TensorOptions(x.dtype()).device(x.device())), rb = wb;
    if (n.has_input(3)) {
      const Tensor b = n.input(3).select(0, d);
      wb = b.narrow(0, 0, gates * hidden);
      rb = b.narrow(0, gates * hidden, gates * hidden);
    }
    Step s{n.has_input(5) ? n.input(5).select(0, d) : zeros({batch, hidden}, TensorOptions(x.dtype()).device(x.device())),
           n.has_input(6) ? n.input(6).select(0, d) : zeros({batch, hidden}, TensorOptions(x.dtype()).device(x.device()))};
    const Tensor projected = add(matmul(x, wd.t()), wb);  // (T, B, G*H)
    const bool reverse = direction == "reverse" || d == 1;
    std::vector<Tensor> y(static_cast<size_t>(steps));
    for (int64_t i = 0; i < steps; ++i) {
      const int64_t t = reverse ? steps - 1 - i : i;
      const Tensor xt = projected.select(0, t);  // (B, G*H)
      if (cell == Cell::rnn) {
        s.h = tanh(clipped(xt + add(matmul(s.h, rd.t()), rb)));
      } else if (cell == Cell::gru) {
        const auto xg = chunk(xt, 3, 1);
        const Tensor rz = rd.narrow(0, 0, hidden), rr = rd.narrow(0, hidden, hidden), rh = rd.narrow(0, 2 * hidden, hidden);
        const Tensor bz = rb.narrow(0, 0, hidden), br = rb.narrow(0, hidden, hidden), bh = rb.narrow(0, 2 * hidden, hidden);
        const Tensor z = sigmoid(clipped(xg[0] + add(matmul(s.h, rz.t()), bz)));
        const Tensor rg = sigmoid(clipped(xg[1] + add(matmul(s.h, rr.t()), br)));
        const Tensor candidate = linear_before_reset
                                     ? tanh(clipped(xg[2] + rg * add(matmul(s.h, rh.t()), bh)))
                                     : tanh(clipped(xg[2] + add(matmul(rg * s.h, rh.t()), bh)));
        s.h = (1.0 - z) * candidate + z * s.h;
      } else {
        const auto g = chunk(clipped(xt + add(matmul(s.h, rd.t()), rb)), 4, 1);  // i, o, f, c
        // Peepholes P (D, 3H): i, o, f read the cell state (o the new one).
        const auto peep = [&](int64_t k, const Tensor& c) {
          return n.has_input(7) ? n.input(7).select(0, d).narrow(0, k * hidden, hidden) * c : Tensor();
        };
        const auto with = [&](const Tensor& gate, int64_t k, const Tensor& c) {
          return n.has_input(7) ? gate + peep(k, c) : gate;
        };
        const Tensor c_prev = s.c;
        s.c = sigmoid(with(g[2], 2, c_prev)) * c_prev + sigmoid(with(g[0], 0, c_prev)) * tanh(g[3]);
        s.h = sigmoid(with(g[1], 1, s.c)) * tanh(s.c);
      }
      y[static_cast<size_t>(t)] = s.h;
    }
    ys.push_back(stack(y, 0));  // (T, B, H)
    hs.push_back(s.h);
    cs.push_back(s.c);
  }
  Tensor y = stack(ys, 1);  // (T, D, B, H)
  Tensor y_h = stack(hs, 0), y_c = stack(cs, 0);  // (D, B, H)
  if (batch_first) {
    y = y.permute({2, 0, 1, 3});  // (B, T, D, H)
    y_h = y_h.transpose(0, 1);
    y_c = y_c.transpose(0, 1);
  }
  std::vector<Tensor> results{y, y_h};
  if (cell == Cell::lstm) results.push_back(y_c);
  return results;
}

DLT_ONNX_OP(RNN, [](NodeContext& n) { return recurrent(n, Cell::rnn); });
DLT_ONNX_OP(GRU, [](NodeContext& n) { return recurrent(n, Cell::gru); });
DLT_ONNX_OP(LSTM, [](NodeContext& n) { return recurrent(n, Cell::lstm); });

}  // namespace
}  // namespace dlt::onnx_import
