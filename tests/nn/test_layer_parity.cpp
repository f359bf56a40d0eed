// Every layer of lib/dlt/nn/layers against torch 1.13 with the same weights:
// output, input gradient, parameter gradients and buffers after the forward.
// Modules are float64 so the two agree to rounding. Loading dlt's state dict
// strictly into the torch module also checks that the parameter names are
// torch's (Sequential MLP and CNN included).
#include <algorithm>

#include "dlt/core/grad_mode.h"
#include "dlt/nn/layers/activation.h"
#include "dlt/nn/layers/adaptive_avg_pool2d.h"
#include "dlt/nn/layers/avg_pool2d.h"
#include "dlt/nn/layers/batch_norm.h"
#include "dlt/nn/layers/conv1d.h"
#include "dlt/nn/layers/conv2d.h"
#include "dlt/nn/layers/conv_transpose2d.h"
#include "dlt/nn/layers/dropout.h"
#include "dlt/nn/layers/embedding.h"
#include "dlt/nn/layers/flatten.h"
#include "dlt/nn/layers/group_norm.h"
#include "dlt/nn/layers/identity.h"
#include "dlt/nn/layers/leaky_relu.h"
#include "dlt/nn/layers/layer_norm.h"
#include "dlt/nn/layers/linear.h"
#include "dlt/nn/layers/max_pool2d.h"
#include "dlt/nn/layers/reshape.h"
#include "dlt/nn/layers/residual.h"
#include "dlt/nn/layers/sequential.h"
#include "dlt/nn/layers/softmax.h"
#include "dlt/nn/layers/upsample.h"
#include "tests/nn/torch_module_parity.h"

namespace dlt::testing {
namespace {

using namespace dlt::nn;

// A float64 build context with its own seed; the generator outlives the cases.
BuildContext f64_context() {
  static Generator gen(2024);
  return BuildContext{.gen = &gen, .dtype = DType::f64};
}

Tensor input(const Shape& shape, uint64_t seed) {
  Generator gen(seed);
  return randn(shape, DType::f64, &gen);
}

// Layers whose default init is constant (norms) get random values, so the
// parity also covers how weight and bias enter.
void randomize(Module& m, uint64_t seed) {
  Generator gen(seed);
  NoGradGuard no_grad;
  for (auto& [name, t] : m.state_dict())
    if (is_floating(t.dtype())) {
      Tensor dst = t;
      dst.copy_(name == "running_var" ? uniform(t.shape(), 0.5, 2.0, t.dtype(), &gen)
                                      : randn(t.shape(), t.dtype(), &gen));
    }
}

// Sequential built layer by layer from a sample shape.
struct Chain {
  BuildContext ctx = f64_context();
  std::shared_ptr<Sequential> seq;
  explicit Chain(const Shape& input_shape) : seq(std::make_shared<Sequential>(input_shape)) {}
  template <class L, class O> Chain& add(O options) {
    seq->push_back(make_layer<L>(std::move(options), seq->output_shape(), ctx));
    return *this;
  }
};

template <class L, class O> std::shared_ptr<Module> layer(O options, const Shape& input_shape) {
  BuildContext ctx = f64_context();
  return make_layer<L>(std::move(options), input_shape, ctx).module;
}

std::vector<ModuleCase> cases() {
  std::vector<ModuleCase> c;
  c.push_back({"linear", layer<Linear>(LinearOptions{.out = 3}, {5}), input({4, 5}, 1),
               "nn.Linear(5, 3)"});
  c.push_back({"linear_no_bias_3d", layer<Linear>(LinearOptions{.out = 6, .bias = false}, {7, 5}),
               input({2, 7, 5}, 2), "nn.Linear(5, 6, bias=False)"});
  c.push_back({"conv2d", layer<Conv2d>(Conv2dOptions{.out_channels = 4, .kernel_size = {3, 3},
                                                     .stride = {2, 2}, .padding = {1, 1}},
                                       {3, 9, 8}),
               input({2, 3, 9, 8}, 3), "nn.Conv2d(3, 4, 3, stride=2, padding=1)"});
  c.push_back({"conv2d_groups_dilation",
               layer<Conv2d>(Conv2dOptions{.out_channels = 6, .kernel_size = {3, 2},
                                           .dilation = {2, 1}, .groups = 2, .bias = false},
                             {4, 9, 7}),
               input({2, 4, 9, 7}, 4),
               "nn.Conv2d(4, 6, (3, 2), dilation=(2, 1), groups=2, bias=False)"});
  c.push_back({"max_pool2d", layer<MaxPool2d>(MaxPool2dOptions{.kernel_size = {2, 2}}, {3, 8, 6}),
               input({2, 3, 8, 6}, 5), "nn.MaxPool2d(2)"});
  c.push_back({"max_pool2d_ceil_padding",
               layer<MaxPool2d>(MaxPool2dOptions{.kernel_size = {3, 3}, .stride = {2, 2},
                                                 .padding = {1, 1}, .ceil_mode = true},
                                {2, 7, 8}),
               input({2, 2, 7, 8}, 6), "nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)"});
  c.push_back({"avg_pool2d",
               layer<AvgPool2d>(AvgPool2dOptions{.kernel_size = {3, 3}, .stride = {2, 2},
                                                 .padding = {1, 1}, .ceil_mode = true,
                                                 .count_include_pad = false},
                                {2, 7, 8}),
               input({2, 2, 7, 8}, 7),
               "nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)"});
  c.push_back({"adaptive_avg_pool2d",
               layer<AdaptiveAvgPool2d>(AdaptiveAvgPool2dOptions{.output_size = {2, 3}}, {3, 5, 7}),
               input({2, 3, 5, 7}, 8), "nn.AdaptiveAvgPool2d((2, 3))"});

  auto bn1 = layer<BatchNorm1d>(BatchNormOptions{}, {4});
  randomize(*bn1, 9);
  c.push_back({"batch_norm1d_train", bn1, input({6, 4}, 10), "nn.BatchNorm1d(4)"});
  auto bn1_seq = layer<BatchNorm1d>(BatchNormOptions{.momentum = std::nullopt}, {3, 5});
  randomize(*bn1_seq, 11);
  c.push_back({"batch_norm1d_cumulative_3d", bn1_seq, input({4, 3, 5}, 12),
               "nn.BatchNorm1d(3, momentum=None)"});
  auto bn2 = layer<BatchNorm2d>(BatchNormOptions{.momentum = 0.3, .eps = 1e-3}, {3, 4, 5});
  randomize(*bn2, 13);
  c.push_back({"batch_norm2d_train", bn2, input({2, 3, 4, 5}, 14),
               "nn.BatchNorm2d(3, momentum=0.3, eps=1e-3)"});
  auto bn2_eval = layer<BatchNorm2d>(BatchNormOptions{}, {3, 4, 5});
  randomize(*bn2_eval, 15);
  c.push_back({.name = "batch_norm2d_eval", .module = bn2_eval, .input = input({2, 3, 4, 5}, 16),
               .torch = "nn.BatchNorm2d(3)", .training = false});
  c.push_back({"batch_norm2d_no_affine", layer<BatchNorm2d>(BatchNormOptions{.affine = false}, {3, 2, 2}),
               input({3, 3, 2, 2}, 17), "nn.BatchNorm2d(3, affine=False)"});

  auto ln = layer<LayerNorm>(LayerNormOptions{}, {3, 6});
  randomize(*ln, 18);
  c.push_back({"layer_norm", ln, input({2, 3, 6}, 19), "nn.LayerNorm(6)"});
  auto ln2 = layer<LayerNorm>(LayerNormOptions{.shape = Shape{3, 6}, .eps = 1e-6}, {2, 3, 6});
  randomize(*ln2, 20);
  c.push_back({"layer_norm_two_dims", ln2, input({2, 2, 3, 6}, 21), "nn.LayerNorm((3, 6), eps=1e-6)"});
  c.push_back({"layer_norm_no_affine",
               layer<LayerNorm>(LayerNormOptions{.elementwise_affine = false}, {5}),
               input({3, 5}, 22), "nn.LayerNorm(5, elementwise_affine=False)"});

  c.push_back({.name = "dropout_eval", .module = layer<Dropout>(DropoutOptions{.p = 0.5}, {7}),
               .input = input({3, 7}, 23), .torch = "nn.Dropout(0.5)", .training = false});
  c.push_back({"dropout_p0_train", layer<Dropout>(DropoutOptions{.p = 0}, {7}), input({3, 7}, 24),
               "nn.Dropout(0.0)"});

  Generator index_gen(25);
  c.push_back({"embedding",
               layer<Embedding>(EmbeddingOptions{.num_embeddings = 10, .dim = 4, .padding_idx = -1}, {5}),
               randint(0, 10, {3, 5}, DType::i64, &index_gen),
               "nn.Embedding(10, 4, padding_idx=9)"});

  const std::pair<ActivationKind, const char*> activations[] = {
      {ActivationKind::relu, "nn.ReLU()"},
      {ActivationKind::gelu, "nn.GELU()"},
      {ActivationKind::gelu_tanh, "nn.GELU(approximate='tanh')"},
      {ActivationKind::silu, "nn.SiLU()"},
      {ActivationKind::tanh, "nn.Tanh()"},
      {ActivationKind::sigmoid, "nn.Sigmoid()"}};
  int k = 0;
  for (const auto& [kind, torch] : activations) {
    c.push_back({fmt::format("activation_{}", k), layer<Activation>(kind, {3, 4}),
                 input({2, 3, 4}, uint64_t(30 + k)), torch});
    ++k;
  }

  c.push_back({"flatten", layer<Flatten>(FlattenOptions{}, {2, 3, 4}), input({2, 2, 3, 4}, 40),
               "nn.Flatten()"});
  c.push_back({"flatten_middle",
               layer<Flatten>(FlattenOptions{.start_dim = 2, .end_dim = -2}, {2, 3, 4, 5}),
               input({2, 2, 3, 4, 5}, 41), "nn.Flatten(2, -2)"});
  c.push_back({"reshape", layer<Reshape>(ReshapeOptions{.shape = {-1, 4}}, {2, 6}),
               input({3, 2, 6}, 42), "Reshape(-1, 4)"});

  Chain mlp({1, 6, 6});
  mlp.add<Flatten>(FlattenOptions{})
      .add<Linear>(LinearOptions{.out = 16})
      .add<Activation>(ActivationKind::relu)
      .add<Dropout>(DropoutOptions{.p = 0.2})
      .add<Linear>(LinearOptions{.out = 10});
  c.push_back({.name = "mlp", .module = mlp.seq, .input = input({4, 1, 6, 6}, 43),
               .torch = "nn.Sequential(nn.Flatten(), nn.Linear(36, 16), nn.ReLU(), "
                        "nn.Dropout(0.2), nn.Linear(16, 10))",
               .training = false});

  // float32: the module runs in the context's dtype; torch follows the state dict's.
  {
    Generator gen(47);
    BuildContext ctx{.gen = &gen, .dtype = DType::f32};
    auto conv = make_layer<Conv2d>(Conv2dOptions{.out_channels = 4, .kernel_size = {3, 3}},
                                   {2, 6, 6}, ctx);
    c.push_back({.name = "conv2d_f32", .module = conv.module,
                 .input = input({2, 2, 6, 6}, 48).to(DType::f32),
                 .torch = "nn.Conv2d(2, 4, 3)", .rtol = 1e-5, .atol = 1e-6});
  }

  Chain cnn({1, 8, 8});
  cnn.add<Conv2d>(Conv2dOptions{.out_channels = 4, .kernel_size = {3, 3}, .padding = {1, 1}})
      .add<BatchNorm2d>(BatchNormOptions{})
      .add<Activation>(ActivationKind::relu)
      .add<MaxPool2d>(MaxPool2dOptions{.kernel_size = {2, 2}})
      .add<Conv2d>(Conv2dOptions{.out_channels = 6, .kernel_size = {3, 3}})
      .add<Activation>(ActivationKind::gelu)
      .add<AdaptiveAvgPool2d>(AdaptiveAvgPool2dOptions{.output_size = {1, 1}})
      .add<Flatten>(FlattenOptions{})
      .add<LayerNorm>(LayerNormOptions{})
      .add<Linear>(LinearOptions{.out = 5});
  c.push_back({"cnn", cnn.seq, input({3, 1, 8, 8}, 44),
               "nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), "
               "nn.MaxPool2d(2), nn.Conv2d(4, 6, 3), nn.GELU(), nn.AdaptiveAvgPool2d(1), "
               "nn.Flatten(), nn.LayerNorm(6), nn.Linear(6, 5))"});

  // Residual with an identity skip and with a strided 1x1 projection.
  {
    BuildContext ctx = f64_context();
    Chain body({6});
    body.add<Linear>(LinearOptions{.out = 6}).add<Activation>(ActivationKind::tanh);
    auto res = make_layer<Residual>(ResidualParts{.body = {body.seq, body.seq->output_shape()}},
                                    {6}, ctx);
    c.push_back({"residual_identity", res.module, input({3, 6}, 45),
                 "Residual(nn.Sequential(nn.Linear(6, 6), nn.Tanh()))"});
  }
  {
    BuildContext ctx = f64_context();
    Chain body({3, 6, 6});
    body.add<Conv2d>(Conv2dOptions{.out_channels = 5, .kernel_size = {3, 3}, .stride = {2, 2},
                                   .padding = {1, 1}})
        .add<Activation>(ActivationKind::relu);
    const Built projection = make_layer<Conv2d>(
        Conv2dOptions{.out_channels = 5, .kernel_size = {1, 1}, .stride = {2, 2}}, {3, 6, 6}, ctx);
    auto res = make_layer<Residual>(
        ResidualParts{.body = {body.seq, body.seq->output_shape()}, .projection = projection},
        {3, 6, 6}, ctx);
    c.push_back({"residual_projection", res.module, input({2, 3, 6, 6}, 46),
                 "Residual(nn.Sequential(nn.Conv2d(3, 5, 3, stride=2, padding=1), nn.ReLU()), "
                 "nn.Conv2d(3, 5, 1, stride=2))"});
  }

  // ---- Conv1d, ConvTranspose2d, GroupNorm, LeakyReLU, Identity, Softmax, Upsample ----
  c.push_back({"conv1d", layer<Conv1d>(Conv1dOptions{.out_channels = 4, .kernel_size = 3,
                                                     .stride = 2, .padding = 1},
                                       {3, 9}),
               input({2, 3, 9}, 50), "nn.Conv1d(3, 4, 3, stride=2, padding=1)"});
  c.push_back({"conv1d_groups_dilation",
               layer<Conv1d>(Conv1dOptions{.out_channels = 6, .kernel_size = 3, .dilation = 2,
                                           .groups = 2, .bias = false},
                             {4, 10}),
               input({2, 4, 10}, 51), "nn.Conv1d(4, 6, 3, dilation=2, groups=2, bias=False)"});
  c.push_back({"conv_transpose2d",
               layer<ConvTranspose2d>(
                   ConvTranspose2dOptions{.out_channels = 4, .kernel_size = {3, 3},
                                          .stride = {2, 2}, .padding = {1, 1},
                                          .output_padding = {1, 1}},
                   {3, 4, 5}),
               input({2, 3, 4, 5}, 52),
               "nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1)"});
  c.push_back({"conv_transpose2d_groups_dilation",
               layer<ConvTranspose2d>(
                   ConvTranspose2dOptions{.out_channels = 6, .kernel_size = {3, 2},
                                          .stride = {2, 1}, .dilation = {1, 2}, .groups = 2,
                                          .bias = false},
                   {4, 3, 4}),
               input({2, 4, 3, 4}, 53),
               "nn.ConvTranspose2d(4, 6, (3, 2), stride=(2, 1), dilation=(1, 2), groups=2, "
               "bias=False)"});
  auto gn = layer<GroupNorm>(GroupNormOptions{.num_groups = 2}, {4, 3, 5});
  randomize(*gn, 54);
  c.push_back({"group_norm", gn, input({2, 4, 3, 5}, 55), "nn.GroupNorm(2, 4)"});
  c.push_back({"group_norm_no_affine",
               layer<GroupNorm>(GroupNormOptions{.num_groups = 3, .eps = 1e-3, .affine = false},
                                {6, 7}),
               input({2, 6, 7}, 56), "nn.GroupNorm(3, 6, eps=1e-3, affine=False)"});
  c.push_back({"leaky_relu", layer<LeakyReLU>(LeakyReLUOptions{.negative_slope = 0.2}, {3, 4}),
               input({2, 3, 4}, 57), "nn.LeakyReLU(0.2)"});
  {
    BuildContext ctx = f64_context();
    c.push_back({"identity", std::make_shared<Identity>(Shape{3, 4}, ctx), input({2, 3, 4}, 58),
                 "nn.Identity()"});
  }
  c.push_back({"softmax_dim1", layer<Softmax>(SoftmaxOptions{.dim = 1}, {3, 4}),
               input({2, 3, 4}, 59), "nn.Softmax(dim=1)"});
  c.push_back({"log_softmax", layer<Softmax>(SoftmaxOptions{.dim = -1, .log = true}, {3, 4}),
               input({2, 3, 4}, 60), "nn.LogSoftmax(dim=-1)"});
  c.push_back({"upsample_nearest_scale2",
               layer<Upsample>(UpsampleOptions{.scale_factor = std::array<double, 2>{2, 2}},
                               {3, 4, 5}),
               input({2, 3, 4, 5}, 61), "nn.Upsample(scale_factor=2, mode='nearest')"});
  c.push_back({"upsample_nearest_size",
               layer<Upsample>(UpsampleOptions{.size = std::array<int64_t, 2>{7, 3}}, {2, 5, 4}),
               input({2, 2, 5, 4}, 62), "nn.Upsample(size=(7, 3), mode='nearest')"});
  c.push_back({"upsample_bilinear_scale1_5",
               layer<Upsample>(UpsampleOptions{.scale_factor = std::array<double, 2>{1.5, 1.5},
                                               .mode = UpsampleMode::bilinear},
                               {2, 4, 6}),
               input({2, 2, 4, 6}, 63), "nn.Upsample(scale_factor=1.5, mode='bilinear')"});
  c.push_back({"upsample_bilinear_align_corners",
               layer<Upsample>(UpsampleOptions{.size = std::array<int64_t, 2>{7, 3},
                                               .mode = UpsampleMode::bilinear,
                                               .align_corners = true},
                               {2, 5, 4}),
               input({2, 2, 5, 4}, 64),
               "nn.Upsample(size=(7, 3), mode='bilinear', align_corners=True)"});
  {  // float32: oneDNN's backward-data convolution against torch's.
    Generator gen(65);
    BuildContext ctx{.gen = &gen, .dtype = DType::f32};
    auto up = make_layer<ConvTranspose2d>(
        ConvTranspose2dOptions{.out_channels = 4, .kernel_size = {2, 2}, .stride = {2, 2}},
        {2, 5, 5}, ctx);
    c.push_back({.name = "conv_transpose2d_f32", .module = up.module,
                 .input = input({2, 2, 5, 5}, 66).to(DType::f32),
                 .torch = "nn.ConvTranspose2d(2, 4, 2, stride=2)", .rtol = 1e-5, .atol = 1e-6});
  }
  return c;
}

const TorchModuleParity& parity() {
  static TorchModuleParity p(cases());
  return p;
}

class LayerParity : public ::testing::TestWithParam<std::string> {};

TEST_P(LayerParity, MatchesTorch) {
  DLT_REQUIRE_TORCH();
  parity().expect_match(GetParam());
}

std::vector<std::string> case_names() {
  return {"linear", "linear_no_bias_3d", "conv2d", "conv2d_groups_dilation", "max_pool2d",
          "max_pool2d_ceil_padding", "avg_pool2d", "adaptive_avg_pool2d", "conv2d_f32", "batch_norm1d_train",
          "batch_norm1d_cumulative_3d", "batch_norm2d_train", "batch_norm2d_eval",
          "batch_norm2d_no_affine", "layer_norm", "layer_norm_two_dims", "layer_norm_no_affine",
          "dropout_eval", "dropout_p0_train", "embedding", "activation_0", "activation_1",
          "activation_2", "activation_3", "activation_4", "activation_5", "flatten",
          "flatten_middle", "reshape", "mlp", "cnn", "residual_identity", "residual_projection", "conv1d", "conv1d_groups_dilation",
          "conv_transpose2d", "conv_transpose2d_groups_dilation", "conv_transpose2d_f32",
          "group_norm", "group_norm_no_affine", "leaky_relu", "identity", "softmax_dim1",
          "log_softmax", "upsample_nearest_scale2", "upsample_nearest_size",
          "upsample_bilinear_scale1_5", "upsample_bilinear_align_corners"};
}

// The parameterised list above is written out (gtest needs it before main);
// this keeps it equal to the cases.
TEST(LayerParityCases, EveryCaseIsInstantiated) {
  std::vector<std::string> listed = case_names();
  std::sort(listed.begin(), listed.end());
  EXPECT_EQ(listed, parity().names());
}

INSTANTIATE_TEST_SUITE_P(Nn, LayerParity, ::testing::ValuesIn(case_names()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace dlt::testing
