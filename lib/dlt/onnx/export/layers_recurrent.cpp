// ONNX export of LSTM and GRU as the ONNX LSTM / GRU ops, one node per layer
// (both directions in one node when bidirectional). ONNX wants its gates in
// another order than torch's (LSTM i, o, f, c for torch's i, f, g, o; GRU
// z, r, h for r, z, n) and the directions stacked: the graph reorders the
// checkpoint's own initializers (weight_ih_l0, ...) with Reshape / Gather /
// Concat nodes, which ONNX Runtime folds once when it loads the model, so
// the initializers stay the safetensors tensors, stored once.
#include "dlt/nn/layers/gru.h"
#include "dlt/nn/layers/lstm.h"
#include "dlt/onnx/export/blocks.h"

namespace dlt::onnx_export {

namespace {

// W (G H, cols) in torch's gate order -> (1, G H, cols) in ONNX's; a bias
// (G H) -> (1, G H).
std::string reorder(ExportContext& ctx, const Tensor& t, int64_t gates, int64_t hidden,
                    const std::vector<int64_t>& order) {
  const bool bias = t.dim() == 1;
  const std::string blocks = ctx.g.add(
      "Reshape", {ctx.param(t), ctx.g.ints(bias ? std::vector<int64_t>{gates, hidden}
                                                : std::vector<int64_t>{gates, hidden, -1})});
  const std::string ordered =
      ctx.g.add("Gather", {blocks, ctx.g.ints(order)}, {attr("axis", int64_t(0))});
  return ctx.g.add("Reshape",
                   {ordered, ctx.g.ints(bias ? std::vector<int64_t>{1, gates * hidden}
                                             : std::vector<int64_t>{1, gates * hidden, -1})});
}

std::string concat(ExportContext& ctx, const std::vector<std::string>& parts, int64_t axis) {
  return parts.size() == 1 ? parts[0] : ctx.g.add("Concat", parts, {attr("axis", axis)});
}

// x (B, T, I) -> (B, T, D H) (return: sequence) or (B, D H) (return: last).
Value export_recurrent(ExportContext& ctx, nn::Module& m, const Value& x) {
  auto& r = dynamic_cast<nn::Recurrent&>(m);
  const bool lstm = r.type() == "LSTM";
  const int64_t gates = lstm ? 4 : 3, h = r.options.hidden_size, dirs = r.directions();
  const std::vector<int64_t> order = lstm ? std::vector<int64_t>{0, 3, 1, 2}  // i f g o -> i o f c
                                          : std::vector<int64_t>{1, 0, 2};    // r z n -> z r h
  const int64_t b = x.shape[0], t = x.shape[1];
  Value seq = transpose(ctx, x, {1, 0, 2});  // ONNX's layout 0: (T, B, I)
  std::string last_state;
  for (int64_t layer = 0; layer < r.options.layers; ++layer) {
    std::vector<std::string> w, rec, bias;
    for (int64_t d = 0; d < dirs; ++d) {
      const nn::DirectionParams& p = r.params(layer, d);
      w.push_back(reorder(ctx, p.w_ih, gates, h, order));
      rec.push_back(reorder(ctx, p.w_hh, gates, h, order));
      if (p.b_ih.defined())  // ONNX's B: [Wb; Rb] per direction
        bias.push_back(concat(
            ctx, {reorder(ctx, p.b_ih, gates, h, order), reorder(ctx, p.b_hh, gates, h, order)},
            1));
    }
    Attrs attrs{attr("hidden_size", h),
                attr("direction", std::string(dirs == 2 ? "bidirectional" : "forward"))};
    if (!lstm)
      attrs.push_back(
          attr("linear_before_reset", int64_t(1)));  // torch's n gate: r * (W_hn h + b_hn)
    const std::vector<std::string> out =
        ctx.g.add(lstm ? "LSTM" : "GRU",
                  {seq.name, concat(ctx, w, 0), concat(ctx, rec, 0),
                   bias.empty() ? "" : concat(ctx, bias, 0)},
                  2, std::move(attrs));
    const Value y{out[0], {t, dirs, b, h}};  // (T, D, B, H)
    last_state = out[1];                     // Y_h (D, B, H)
    // The next layer's input: (T, B, D H).
    if (layer + 1 < r.options.layers)
      seq = reshape(ctx, transpose(ctx, y, {0, 2, 1, 3}), {0, 0, -1}, {t, b, dirs * h});
    else seq = y;
  }
  if (r.options.returns == nn::RecurrentOptions::Return::last) {  // (D, B, H) -> (B, D H)
    const Value state{last_state, {dirs, b, h}};
    return reshape(ctx, transpose(ctx, state, {1, 0, 2}), {0, -1}, {b, dirs * h});
  }
  return reshape(ctx, transpose(ctx, seq, {2, 0, 1, 3}), {0, 0, -1},
                 {b, t, dirs * h});  // (B, T, D H)
}

}  // namespace

DLT_REGISTER_LAYER_EXPORT(LSTM, export_recurrent);
DLT_REGISTER_LAYER_EXPORT(GRU, export_recurrent);

}  // namespace dlt::onnx_export
