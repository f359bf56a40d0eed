#include "dlt/nn/layers/recurrent.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "dlt/nn/init.h"
#include "dlt/nn/layers/options.h"
#include "dlt/ops/autocast.h"
#include "dlt/ops/ops.h"

namespace dlt::nn {

// ---- the step schedule of a padded batch ----------------------------------------------

StepSchedule::StepSchedule(const Tensor& lengths, int64_t batch, int64_t steps,
                           const std::string& who) {
  active_.assign(size_t(steps), batch);
  if (!lengths.defined()) return;
  DLT_CHECK(lengths.dim() == 1 && lengths.size(0) == batch && is_integral(lengths.dtype()),
            "{}: expected lengths of shape [{}] (one integer per sequence of the batch), got {} {}",
            who, batch, lengths.dtype(), shape_str(lengths.shape()));
  const Tensor host = lengths.to(Device::cpu()).to(DType::i64).contiguous();
  const int64_t* len = host.data_ptr<int64_t>();
  for (int64_t b = 0; b < batch; ++b)
    DLT_CHECK(len[b] >= 1 && len[b] <= steps,
              "{}: lengths[{}] = {} is outside [1, T] for an input of T = {} steps", who, b,
              len[b], steps);
  if (std::all_of(len, len + batch, [&](int64_t l) { return l == steps; })) return;
  // Longest first; ties keep batch order, so the result is the same for any sort.
  std::vector<int64_t> order(static_cast<size_t>(batch));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return len[a] > len[b]; });
  std::vector<int64_t> inverse(static_cast<size_t>(batch));
  for (int64_t i = 0; i < batch; ++i) inverse[size_t(order[size_t(i)])] = i;
  for (int64_t t = 0; t < steps; ++t)
    active_[size_t(t)] = std::count_if(len, len + batch, [&](int64_t l) { return l > t; });
  order_ = from_vector(order, {batch});
  inverse_ = from_vector(inverse, {batch});
}

Tensor lengths_from_mask(const Tensor& mask) {
  DLT_CHECK(mask.defined() && mask.dim() == 2 && !is_floating(mask.dtype()),
            "lengths_from_mask: expected a padding mask (B, T) of bool or integers, got {}",
            mask.defined() ? mask.str() : "undefined");
  const int64_t B = mask.size(0), T = mask.size(1);
  const Tensor host = mask.to(Device::cpu()).to(DType::i64).contiguous();
  const int64_t* m = host.data_ptr<int64_t>();
  std::vector<int64_t> lengths(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) {
    const int64_t* row = m + b * T;
    const int64_t n = std::find(row, row + T, 0) - row;
    DLT_CHECK(std::all_of(row + n, row + T, [](int64_t v) { return v == 0; }),
              "lengths_from_mask: row {} of the mask has a valid step after padding (step {}); "
              "padding must come last",
              b, std::find_if(row + n, row + T, [](int64_t v) { return v != 0; }) - row);
    lengths[size_t(b)] = n;
  }
  return from_vector(lengths, {B});
}

std::vector<int64_t> step_order(int64_t steps, bool reverse) {
  std::vector<int64_t> order(static_cast<size_t>(steps));
  std::iota(order.begin(), order.end(), 0);
  if (reverse) std::reverse(order.begin(), order.end());
  return order;
}

void StepStack::set(int64_t t, const Tensor& rows) {
  if (rows.size(0) == batch_) {
    steps_[size_t(t)] = rows.to(dtype_);
    return;
  }
  Shape shape = rows.shape();
  shape[0] = batch_;
  Tensor padded = zeros(shape, TensorOptions(dtype_).device(rows.device()));
  padded.slice(0, 0, rows.size(0)).copy_(rows);
  steps_[size_t(t)] = padded;
}

Tensor StepStack::stacked() const { return stack(steps_, 1); }

Tensor with_rows(const Tensor& state, const Tensor& rows) {
  if (rows.size(0) == state.size(0)) return rows.to(state.dtype());
  Tensor next = state.clone();
  next.slice(0, 0, rows.size(0)).copy_(rows);
  return next;
}

StepWeights::StepWeights(const Tensor& w_hh, const Tensor& b_hh) : w(w_hh), b(b_hh) {
  if (const auto low = autocast_dtype(); low && w_hh.dtype() == DType::f32) {
    w = w_hh.to(*low);
    if (b.defined()) b = b_hh.to(*low);
  }
}

// ---- the layer stack -----------------------------------------------------------------

static int64_t feature_size(const Shape& input_shape) {
  DLT_LAYER_CHECK(input_shape.size() == 2,
                  "expected input [T, I] (a sequence of I features per step), got {}",
                  shape_str(input_shape));
  return input_shape[1];
}

Recurrent::Recurrent(RecurrentOptions o, const Shape& input_shape, BuildContext& ctx,
                     int64_t gates)
    : options(o), input_size(feature_size(input_shape)), gen_(ctx.gen) {
  DLT_LAYER_CHECK(o.hidden_size >= 1, "hidden_size must be at least 1, got {}", o.hidden_size);
  DLT_LAYER_CHECK(o.layers >= 1, "layers must be at least 1, got {}", o.layers);
  DLT_LAYER_CHECK(o.dropout >= 0 && o.dropout < 1, "dropout must be in [0, 1), got {}", o.dropout);
  const int64_t H = o.hidden_size, D = directions();
  // torch's reset_parameters: every weight and bias U(-1/sqrt(H), 1/sqrt(H)),
  // drawn in parameter order.
  const double bound = 1.0 / std::sqrt(double(H));
  auto param = [&](const std::string& name, const Shape& shape) {
    Tensor t = register_parameter(name, empty(shape, param_options(ctx)));
    init::uniform_(t, -bound, bound, ctx.gen);
    return t;
  };
  for (int64_t l = 0; l < o.layers; ++l)
    for (int64_t d = 0; d < D; ++d) {
      const std::string suffix = fmt::format("_l{}{}", l, d == 1 ? "_reverse" : "");
      const int64_t in = l == 0 ? input_size : D * H;
      DirectionParams p;
      p.w_ih = param("weight_ih" + suffix, {gates * H, in});
      p.w_hh = param("weight_hh" + suffix, {gates * H, H});
      if (o.bias) {
        p.b_ih = param("bias_ih" + suffix, {gates * H});
        p.b_hh = param("bias_hh" + suffix, {gates * H});
      }
      params_.push_back(p);
    }
  output_shape_ = o.returns == RecurrentOptions::Return::last ? Shape{D * H}
                                                              : Shape{input_shape[0], D * H};
}

Tensor Recurrent::forward(const Tensor& x) { return forward(x, Tensor()); }

Tensor Recurrent::forward(const Tensor& x, const Tensor& lengths) {
  const RecurrentOutput r = forward_with_state(x, lengths);
  if (options.returns == RecurrentOptions::Return::sequence) return r.output;
  // The last layer's final state of each direction, side by side: (B, D*H).
  const int64_t D = directions(), L = options.layers;
  return r.h_n.slice(0, (L - 1) * D, L * D).permute({1, 0, 2}).reshape({x.size(0), -1});
}

RecurrentOutput Recurrent::forward_with_state(const Tensor& x, const Tensor& lengths,
                                              const Tensor& h0, const Tensor& c0) {
  const int64_t H = options.hidden_size, D = directions(), L = options.layers;
  DLT_CHECK(x.defined() && x.dim() == 3 && x.size(2) == input_size,
            "{}: expected input (B, T, {}) (batch-first sequences of {} features), got {}",
            type(), input_size, input_size, x.defined() ? shape_str(x.shape()) : "undefined");
  DLT_CHECK(x.size(1) >= 1, "{}: expected at least one time step, got input {}", type(),
            shape_str(x.shape()));
  const int64_t B = x.size(0), T = x.size(1);
  const StepSchedule schedule(lengths, B, T, type());
  const Tensor order = schedule.sorted() ? schedule.order().to(x.device()) : Tensor();
  const Tensor inverse = schedule.sorted() ? schedule.inverse().to(x.device()) : Tensor();
  const Shape state_shape{L * D, B, H};
  const TensorOptions state_options = TensorOptions(params_[0].w_hh.dtype()).device(x.device());
  auto initial = [&](const Tensor& given, const char* name) {
    if (!given.defined()) return zeros(state_shape, state_options);
    DLT_CHECK(given.shape() == state_shape, "{}: expected {} of shape {} (layers * directions, B, H), got {}",
              type(), name, shape_str(state_shape), shape_str(given.shape()));
    return order.defined() ? index_select(given, 1, order) : given;
  };
  DLT_CHECK(has_cell_state() || !c0.defined(), "{}: has no cell state; c0 must be undefined", type());
  const Tensor h_init = initial(h0, "h0");
  const Tensor c_init = has_cell_state() ? initial(c0, "c0") : Tensor();

  Tensor layer_in = order.defined() ? index_select(x, 0, order) : x;
  std::vector<Tensor> h_n, c_n;
  for (int64_t l = 0; l < L; ++l) {
    std::vector<Tensor> outs;
    for (int64_t d = 0; d < D; ++d) {
      const DirectionParams& p = params(l, d);
      const int64_t k = l * D + d;
      // The input projection of every step in one GEMM: (B, T, G*H).
      const Tensor gx = linear(layer_in, p.w_ih, p.b_ih);
      DirectionOutput r = run_direction(gx, p, schedule, d == 1, h_init.select(0, k),
                                        c_init.defined() ? c_init.select(0, k) : Tensor());
      outs.push_back(std::move(r.out));
      h_n.push_back(std::move(r.h_n));
      if (r.c_n.defined()) c_n.push_back(std::move(r.c_n));
    }
    layer_in = D == 1 ? outs[0] : cat(outs, 2);  // (B, T, D*H)
    if (l + 1 < L && options.dropout > 0) layer_in = dropout(layer_in, options.dropout, training(), gen_);
  }
  RecurrentOutput r{layer_in, stack(h_n, 0), c_n.empty() ? Tensor() : stack(c_n, 0)};
  if (inverse.defined()) {
    r.output = index_select(r.output, 0, inverse);
    r.h_n = index_select(r.h_n, 1, inverse);
    if (r.c_n.defined()) r.c_n = index_select(r.c_n, 1, inverse);
  }
  return r;
}

std::string Recurrent::describe() const {
  return fmt::format("input_size={}, hidden_size={}, layers={}, bidirectional={}, dropout={}, "
                     "bias={}, return={}",
                     input_size, options.hidden_size, options.layers, options.bidirectional,
                     options.dropout, options.bias,
                     options.returns == RecurrentOptions::Return::last ? "last" : "sequence");
}

// ---- YAML ------------------------------------------------------------------------------

std::vector<LayerOption> recurrent_options() {
  return {{"hidden_size", "", "H, the width of the hidden state"},
          {"layers", "1", "stacked recurrent layers"},
          {"bidirectional", "false", "a second direction from the end; outputs side by side"},
          {"dropout", "0", "dropout between layers (needs layers >= 2)"},
          {"bias", "true", "bias_ih and bias_hh of every layer"},
          {"batch_first", "true", "inputs are (B, T, I); only true"},
          {"return", "sequence", "sequence: (B, T, D H); last: each direction's final state (D H)"}};
}

RecurrentOptions read_recurrent_options(const config::Node& spec, const LayerInfo& info) {
  check_options(spec, info);
  RecurrentOptions o;
  o.hidden_size = read_positive(spec, "hidden_size");
  o.layers = read_int(spec, "layers", 1, 1, 64);
  o.bidirectional = spec.get_or("bidirectional", false);
  o.dropout = read_double(spec, "dropout", 0, 0, 0.999999);
  o.bias = spec.get_or("bias", true);
  // dlt's batches are always batch-first: a model's input is (B, T, I).
  if (!spec.get_or("batch_first", true))
    spec.at("batch_first").fail("dlt's batches are batch-first (B, T, I): only true is supported");
  const std::string returns = spec.get_or<std::string>("return", "sequence");
  if (returns != "sequence" && returns != "last")
    spec.at("return").fail(fmt::format("expected 'sequence' or 'last', got '{}'", returns));
  o.returns = returns == "last" ? RecurrentOptions::Return::last : RecurrentOptions::Return::sequence;
  if (o.dropout > 0 && o.layers == 1)
    spec.at("dropout").fail(fmt::format(
        "dropout applies between layers; with layers: 1 it would never be used (got {})", o.dropout));
  return o;
}

}  // namespace dlt::nn
