// LSTM and GRU: parity with torch.nn.LSTM / torch.nn.GRU (strict state dict,
// output, h_n, c_n and every gradient; uni- and bidirectional, 1-2 layers,
// with and without bias, float64 and float32, padded batches against
// pack_padded_sequence), variable lengths, dropout between layers, torch's
// names and initialisation, and the errors a user can cause.
#include <set>

#include "dlt/autograd/node.h"
#include "dlt/core/grad_mode.h"
#include "dlt/nn/layers/gru.h"
#include "dlt/nn/layers/lstm.h"
#include "dlt/nn/registry.h"
#include "dlt/ops/autocast.h"
#include "tests/nn/torch_module_parity.h"
#include "tests/test_util.h"

namespace dlt::testing {
namespace {

using nn::BuildContext;
using nn::RecurrentOptions;

// The whole of a recurrent layer's result as one (B, *) tensor, so one
// upstream gradient reaches the output sequence, h_n and c_n: the output
// flattened per sample, then each state (L*D, B, H) as (B, L*D*H). Its torch
// twin is nn2.Recurrent (torch_nn2_models.py).
class RecurrentProbe : public nn::Module {
 public:
  RecurrentProbe(std::shared_ptr<nn::Recurrent> rnn, Tensor lengths)
      : rnn_(register_module("rnn", std::move(rnn))), lengths_(std::move(lengths)) {}
  Tensor forward(const Tensor& x) override {
    const nn::RecurrentOutput r = rnn_->forward_with_state(x, lengths_);
    const int64_t B = x.size(0);
    std::vector<Tensor> parts = {r.output.reshape({B, -1}),
                                 r.h_n.permute({1, 0, 2}).reshape({B, -1})};
    if (r.c_n.defined()) parts.push_back(r.c_n.permute({1, 0, 2}).reshape({B, -1}));
    return cat(parts, 1);
  }
  std::string type() const override { return "RecurrentProbe"; }

 private:
  std::shared_ptr<nn::Recurrent> rnn_;
  Tensor lengths_;
};

struct Variant {
  bool lstm, bidirectional, bias;
  int64_t layers;
  std::vector<int64_t> lengths;  // empty: every sequence has T steps
};

std::shared_ptr<nn::Recurrent> make_rnn(bool lstm, RecurrentOptions o, const Shape& input,
                                        BuildContext& ctx) {
  if (lstm) return std::make_shared<nn::LSTM>(o, input, ctx);
  return std::make_shared<nn::GRU>(o, input, ctx);
}

constexpr int64_t kB = 3, kT = 5, kI = 4, kH = 6;

ModuleCase recurrent_case(const Variant& v, DType dtype, Generator& gen) {
  BuildContext ctx{&gen, dtype};
  const RecurrentOptions o{.hidden_size = kH, .layers = v.layers, .bidirectional = v.bidirectional,
                           .bias = v.bias};
  const Tensor lengths =
      v.lengths.empty() ? Tensor() : from_vector(v.lengths, {int64_t(v.lengths.size())});
  const std::string torch_lengths =
      v.lengths.empty() ? "None" : fmt::format("[{}]", fmt::join(v.lengths, ", "));
  const char* py_bool[] = {"False", "True"};
  ModuleCase c{
      .name = fmt::format("{}_{}_l{}{}{}_{}", v.lstm ? "lstm" : "gru",
                          v.bidirectional ? "bi" : "uni", v.layers, v.bias ? "" : "_nobias",
                          v.lengths.empty() ? "" : "_lengths", dtype_name(dtype)),
      .module = std::make_shared<RecurrentProbe>(make_rnn(v.lstm, o, {kT, kI}, ctx), lengths),
      .input = randn({kB, kT, kI}, dtype, &gen),
      .torch = fmt::format("nn2.Recurrent(nn.{}({}, {}, num_layers={}, bias={}, batch_first=True, "
                           "bidirectional={}), {})",
                           v.lstm ? "LSTM" : "GRU", kI, kH, v.layers, py_bool[v.bias],
                           py_bool[v.bidirectional], torch_lengths)};
  // float32: torch's CPU kernels and dlt's differ in exp/tanh ulps and GEMM
  // summation order, over 5 steps and 2 layers of backward.
  if (dtype == DType::f32) c.rtol = 1e-4, c.atol = 2e-5;
  return c;
}

TEST(NN2Recurrent, MatchesTorch) {
  Generator gen(11);
  std::vector<ModuleCase> cases;
  const std::vector<int64_t> lengths = {3, 5, 1};  // unsorted, one full, one of a single step
  for (const bool lstm : {true, false}) {
    for (const Variant& v : {Variant{lstm, false, true, 1, {}}, Variant{lstm, true, true, 2, {}},
                             Variant{lstm, true, false, 1, {}}, Variant{lstm, false, true, 2, lengths},
                             Variant{lstm, true, true, 2, lengths}})
      cases.push_back(recurrent_case(v, DType::f64, gen));
    cases.push_back(recurrent_case({lstm, true, true, 2, lengths}, DType::f32, gen));
  }
  const TorchModuleParity parity(std::move(cases));
  DLT_REQUIRE_TORCH();
  for (const std::string& name : parity.names()) {
    SCOPED_TRACE(name);
    parity.expect_match(name);
  }
}

TEST(NN2Recurrent, TorchsParameterNamesShapesAndInitialisation) {
  Generator gen(2);
  BuildContext ctx{&gen};
  nn::LSTM lstm({.hidden_size = 20, .layers = 2, .bidirectional = true}, {7, 3}, ctx);
  std::vector<std::string> names;
  for (const auto& [name, p] : lstm.named_parameters()) names.push_back(name);
  const std::vector<std::string> expected = {
      "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
      "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse",
      "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1",
      "weight_ih_l1_reverse", "weight_hh_l1_reverse", "bias_ih_l1_reverse", "bias_hh_l1_reverse"};
  EXPECT_EQ(names, expected);
  const auto state = lstm.state_dict();
  EXPECT_EQ(state.at("weight_ih_l0").shape(), (Shape{80, 3}));
  EXPECT_EQ(state.at("weight_ih_l1").shape(), (Shape{80, 40}));  // the previous layer's D * H
  EXPECT_EQ(state.at("weight_hh_l1_reverse").shape(), (Shape{80, 20}));
  EXPECT_EQ(lstm.output_shape(), (Shape{7, 40}));
  // U(-1/sqrt(H), 1/sqrt(H)) for every tensor: the bound is reached, never passed.
  const double bound = 1 / std::sqrt(20.0);
  for (const auto& [name, p] : state) {
    const std::vector<double> v = to_vector<double>(p);
    const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    EXPECT_GE(*lo, -bound) << name;
    EXPECT_LE(*hi, bound) << name;
    if (v.size() >= 80) {
      EXPECT_GT(*hi - *lo, bound) << name;
    }
  }
  nn::GRU gru({.hidden_size = 5, .bias = false}, {4, 3}, ctx);
  names.clear();
  for (const auto& [name, p] : gru.named_parameters()) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"weight_ih_l0", "weight_hh_l0"}));
  EXPECT_EQ(gru.state_dict().at("weight_hh_l0").shape(), (Shape{15, 5}));
}

// Steps past a sequence's length give zeros and leave its state alone: the
// padded batch equals each sequence run on its own.
TEST(NN2Recurrent, APaddedBatchEqualsEachSequenceAlone) {
  Generator gen(5);
  BuildContext ctx{&gen, DType::f64};
  for (const bool lstm : {true, false}) {
    SCOPED_TRACE(lstm ? "LSTM" : "GRU");
    auto rnn = make_rnn(lstm, {.hidden_size = 4, .layers = 2, .bidirectional = true}, {6, 3}, ctx);
    const Tensor x = randn({3, 6, 3}, DType::f64, &gen);
    const std::vector<int64_t> len = {2, 6, 4};
    const nn::RecurrentOutput padded = rnn->forward_with_state(x, from_vector(len, {3}));
    for (int64_t b = 0; b < 3; ++b) {
      const int64_t n = len[size_t(b)];
      const nn::RecurrentOutput alone =
          rnn->forward_with_state(x.slice(0, b, b + 1).slice(1, 0, n).contiguous());
      const Tensor out = padded.output.slice(0, b, b + 1);
      EXPECT_EQ(compare_close(to_vector<double>(out.slice(1, 0, n)), to_vector<double>(alone.output),
                              1e-12, 1e-12), "");
      EXPECT_EQ(to_vector<double>(out.slice(1, n, 6)), std::vector<double>(size_t(8 * (6 - n)), 0.0));
      EXPECT_EQ(compare_close(to_vector<double>(padded.h_n.slice(1, b, b + 1)),
                              to_vector<double>(alone.h_n), 1e-12, 1e-12), "");
    }
    // Full lengths are the same as none.
    const Tensor full = rnn->forward(x, from_vector(std::vector<int64_t>{6, 6, 6}, {3}));
    EXPECT_TRUE(bitwise_equal(full, rnn->forward(x)));
  }
}

TEST(NN2Recurrent, LengthsFromAPaddingMask) {
  const Tensor mask = from_vector(std::vector<uint8_t>{1, 1, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0}, {3, 4})
                          .to(DType::boolean);
  EXPECT_EQ(to_vector<int64_t>(nn::lengths_from_mask(mask)), (std::vector<int64_t>{2, 4, 1}));
  const Tensor holes = from_vector(std::vector<int64_t>{1, 0, 1, 1}, {1, 4});
  expect_error([&] { nn::lengths_from_mask(holes); }, {"row 0", "step 2", "padding must come last"});
  expect_error([] { nn::lengths_from_mask(zeros({2, 3})); }, {"bool or integers", "float32"});
}

TEST(NN2Recurrent, ReturnLastIsTheFinalStateOfEachDirection) {
  Generator gen(6);
  BuildContext ctx{&gen, DType::f64};
  nn::LSTM lstm({.hidden_size = 4, .layers = 2, .bidirectional = true,
                 .returns = RecurrentOptions::Return::last},
                {5, 3}, ctx);
  EXPECT_EQ(lstm.output_shape(), (Shape{8}));
  const Tensor x = randn({2, 5, 3}, DType::f64, &gen);
  const Tensor lengths = from_vector(std::vector<int64_t>{5, 3}, {2});
  const Tensor last = lstm.forward(x, lengths);
  ASSERT_EQ(last.shape(), (Shape{2, 8}));
  const nn::RecurrentOutput r = lstm.forward_with_state(x, lengths);
  // Forward direction: the output at each sequence's last step; reverse: at step 0.
  EXPECT_TRUE(bitwise_equal(last.slice(1, 0, 4), r.h_n.select(0, 2)));
  EXPECT_TRUE(bitwise_equal(last.slice(1, 4, 8), r.h_n.select(0, 3)));
  EXPECT_TRUE(bitwise_equal(r.h_n.select(0, 2).select(0, 1), r.output.select(0, 1).select(0, 2).slice(0, 0, 4)));
  EXPECT_TRUE(bitwise_equal(r.h_n.select(0, 3), r.output.select(1, 0).slice(1, 4, 8)));
}

TEST(NN2Recurrent, DropoutActsBetweenLayersInTrainingOnly) {
  Generator gen(7);
  BuildContext ctx{&gen};
  nn::GRU gru({.hidden_size = 8, .layers = 2, .dropout = 0.5}, {4, 3}, ctx);
  nn::GRU plain({.hidden_size = 8, .layers = 2}, {4, 3}, ctx);
  {
    NoGradGuard no_grad;
    for (auto& [name, p] : plain.named_parameters()) p.copy_(gru.state_dict().at(name));
  }
  const Tensor x = randn({2, 4, 3}, DType::f32, &gen);
  EXPECT_FALSE(bitwise_equal(gru.forward(x), plain.forward(x)));
  gru.eval();
  EXPECT_TRUE(bitwise_equal(gru.forward(x), plain.forward(x)));
}

TEST(NN2Recurrent, GradientsReachInitialStates) {
  Generator gen(8);
  BuildContext ctx{&gen, DType::f64};
  nn::LSTM lstm({.hidden_size = 3}, {4, 2}, ctx);
  const Tensor x = randn({2, 4, 2}, DType::f64, &gen);
  Tensor h0 = randn({1, 2, 3}, DType::f64, &gen).requires_grad_(true);
  Tensor c0 = randn({1, 2, 3}, DType::f64, &gen).requires_grad_(true);
  const nn::RecurrentOutput r = lstm.forward_with_state(x, Tensor(), h0, c0);
  (r.output.sum() + r.c_n.sum()).backward();
  ASSERT_TRUE(h0.grad().defined() && c0.grad().defined());
  // A nudge of h0 moves the loss by its gradient (first order).
  const double eps = 1e-6;
  NoGradGuard no_grad;
  std::vector<double> h = to_vector<double>(h0);
  h[5] += eps;  // h0[0, 1, 2]
  const Tensor nudged = from_vector(h, {1, 2, 3});
  const nn::RecurrentOutput r2 = lstm.forward_with_state(x, Tensor(), nudged, c0.detach());
  const double delta = ((r2.output.sum() + r2.c_n.sum()) - (r.output.sum() + r.c_n.sum())).item<double>();
  EXPECT_NEAR(delta / eps, to_vector<double>(h0.grad())[5], 1e-5);
}

// Under bf16 autocast the step GEMMs, forward and backward, run in bf16 (as
// torch's autocast LSTM and GRU); the gradients stay within bf16's error of
// the float32 run, padded rows included.
TEST(NN2Recurrent, Bf16AutocastGradientsFollowFloat32) {
  for (const bool lstm : {true, false}) {
    Generator gen(12);
    BuildContext ctx{&gen, DType::f32};
    const RecurrentOptions o{.hidden_size = 16, .layers = 2};
    const auto rnn = make_rnn(lstm, o, {12, 8}, ctx);
    const Tensor x = randn({4, 12, 8}, DType::f32, &gen);
    const Tensor lengths = from_vector<int64_t>({12, 9, 12, 5}, {4});
    auto grads = [&](bool bf16) {
      rnn->zero_grad();
      Tensor xg = x.detach().requires_grad_(true);
      Tensor loss;
      {
        const AutocastGuard autocast(bf16 ? std::optional(DType::bf16) : std::nullopt);
        const Tensor out = rnn->forward(xg, lengths).to(DType::f32);
        loss = (out * out).sum();
      }
      loss.backward();  // outside the region, as the trainer runs it
      std::vector<Tensor> g = {xg.grad()};
      for (const Tensor& p : rnn->parameters()) g.push_back(p.grad().clone());
      return g;
    };
    const std::vector<Tensor> f32 = grads(false), bf16 = grads(true);
    ASSERT_EQ(f32.size(), bf16.size());
    for (size_t i = 0; i < f32.size(); ++i) {
      ASSERT_EQ(bf16[i].dtype(), DType::f32);
      const double scale = amax(abs(f32[i])).item<double>();
      const double err = amax(abs(bf16[i] - f32[i])).item<double>();
      EXPECT_LE(err, 0.05 * scale) << (lstm ? "LSTM" : "GRU") << " gradient " << i;
      EXPECT_GT(err, 0.0) << "bf16 autocast changed nothing";
    }
  }
}

// The backward node keeps what the steps saved, never the outputs it is the
// grad_fn of: a forward pass without a backward must free the whole graph.
TEST(NN2Recurrent, AForwardWithoutBackwardFreesItsGraph) {
  for (const bool lstm : {true, false}) {
    Generator gen(13);
    BuildContext ctx{&gen, DType::f32};
    const auto rnn = make_rnn(lstm, {.hidden_size = 5, .layers = 2, .bidirectional = true}, {6, 3}, ctx);
    const std::string step_node = lstm ? "LstmBackward" : "GruBackward";
    std::vector<std::weak_ptr<autograd::Node>> steps;  // every direction's node, found from the outputs
    {
      const nn::RecurrentOutput r = rnn->forward_with_state(randn({2, 6, 3}, DType::f32, &gen));
      std::vector<std::shared_ptr<autograd::Node>> todo = {r.output.grad_fn(), r.h_n.grad_fn()};
      if (lstm) todo.push_back(r.c_n.grad_fn());
      std::set<autograd::Node*> seen;
      while (!todo.empty()) {
        const std::shared_ptr<autograd::Node> n = todo.back();
        todo.pop_back();
        if (!n || !seen.insert(n.get()).second) continue;
        if (n->name() == step_node) steps.push_back(n);
        for (const autograd::Edge& e : n->next_edges) todo.push_back(e.fn);
      }
    }
    EXPECT_EQ(steps.size(), 4u);  // 2 layers x 2 directions
    for (const auto& n : steps)
      EXPECT_TRUE(n.expired()) << step_node << " outlived the outputs it made";
  }
}

TEST(NN2Recurrent, ShapeAndLengthErrorsNameTheLayerAndShapes) {
  Generator gen(9);
  BuildContext ctx{&gen};
  nn::LSTM lstm({.hidden_size = 4}, {5, 3}, ctx);
  expect_error([&] { lstm.forward(zeros({2, 5, 7})); },
               {"LSTM", "expected input (B, T, 3)", "[2, 5, 7]"});
  expect_error([&] { lstm.forward(zeros({5, 3})); }, {"LSTM", "[5, 3]"});
  expect_error([&] { lstm.forward(zeros({2, 5, 3}), from_vector(std::vector<int64_t>{5}, {1})); },
               {"LSTM", "lengths of shape [2]", "[1]"});
  expect_error([&] { lstm.forward(zeros({2, 5, 3}), from_vector(std::vector<int64_t>{5, 6}, {2})); },
               {"LSTM", "lengths[1] = 6", "[1, T]", "T = 5"});
  expect_error([&] { lstm.forward(zeros({2, 5, 3}), from_vector(std::vector<int64_t>{0, 2}, {2})); },
               {"lengths[0] = 0"});
  expect_error([&] { lstm.forward_with_state(zeros({2, 5, 3}), Tensor(), zeros({2, 2, 4})); },
               {"LSTM", "h0 of shape [1, 2, 4]", "[2, 2, 4]"});
  nn::GRU gru({.hidden_size = 4}, {5, 3}, ctx);
  expect_error([&] { gru.forward_with_state(zeros({2, 5, 3}), Tensor(), Tensor(), zeros({1, 2, 4})); },
               {"GRU", "no cell state"});
}

nn::Built build(const std::string& yaml, const Shape& input_shape) {
  static Generator gen(17);
  BuildContext ctx{.gen = &gen};
  return nn::build_model(config::load_string(yaml, "m.yaml").at("model"), input_shape, ctx);
}

TEST(NN2Recurrent, FromYaml) {
  // A character model: token ids -> Embedding -> LSTM -> Linear over the vocabulary.
  const nn::Built lm = build(R"(
model:
  - {type: Embedding, num_embeddings: 11, dim: 8}
  - {type: LSTM, hidden_size: 16, layers: 2, dropout: 0.1}
  - {type: Linear, out: 11}
)",
                             {12});
  EXPECT_EQ(lm.output_shape, (Shape{12, 11}));
  EXPECT_EQ(lm.module->state_dict().at("1.weight_hh_l1").shape(), (Shape{64, 16}));
  EXPECT_EQ(lm.module->forward(zeros({2, 12}, DType::i64)).shape(), (Shape{2, 12, 11}));
  // A classifier over the final states of both directions.
  const nn::Built cls = build(R"(
model:
  - {type: GRU, hidden_size: 5, bidirectional: true, return: last, bias: false}
  - {type: Linear, out: 3}
)",
                              {9, 4});
  EXPECT_EQ(cls.output_shape, (Shape{3}));
  EXPECT_EQ(cls.module->forward(zeros({2, 9, 4})).shape(), (Shape{2, 3}));
  const nn::Built one = build("model:\n  type: LSTM\n  hidden_size: 3\n  batch_first: true\n", {4, 2});
  EXPECT_EQ(one.module->describe(),
            "input_size=2, hidden_size=3, layers=1, bidirectional=false, dropout=0, bias=true, "
            "return=sequence");
}

TEST(NN2Recurrent, YamlMistakesPointAtTheirLine) {
  const auto lstm = [](const std::string& extra, const Shape& input) {
    build("model:\n  type: LSTM\n" + extra, input);
  };
  expect_error([&] { lstm("  hidden_size: 0\n", {4, 2}); }, {"m.yaml:3:16", "at least 1", "0"});
  expect_error([&] { lstm("  layers: 2\n", {4, 2}); }, {"m.yaml", "hidden_size"});
  expect_error([&] { lstm("  hidden_size: 3\n  hiden: 2\n", {4, 2}); },
               {"m.yaml:4:3", "hiden", "hidden_size"});
  expect_error([&] { lstm("  hidden_size: 3\n  batch_first: false\n", {4, 2}); },
               {"m.yaml:4:16", "batch-first", "only true"});
  expect_error([&] { lstm("  hidden_size: 3\n  return: first\n", {4, 2}); },
               {"m.yaml:4:11", "'sequence' or 'last'", "first"});
  expect_error([&] { lstm("  hidden_size: 3\n  dropout: 0.2\n", {4, 2}); },
               {"m.yaml:4:12", "between layers", "layers: 1"});
  expect_error([&] { lstm("  hidden_size: 3\n", {8}); },
               {"m.yaml:2:3", "(LSTM)", "expected input [T, I]", "[8]"});
  // Inside a layer list the error names the layer's path.
  expect_error([] { build("model:\n  - {type: Flatten}\n  - {type: GRU, hidden_size: 2}\n", {4, 3}); },
               {"m.yaml:3:5", "model[1] (GRU)", "expected input [T, I]", "[12]"});
  expect_error([] { build("model:\n  - {type: Embedding, num_embeddings: 5, dim: 4}\n  - {type: GRU, hidden_size: 2}\n  - {type: GRU, hidden_size: 2, bias: 3}\n", {6}); },
               {"m.yaml:4"});
}

}  // namespace
}  // namespace dlt::testing
