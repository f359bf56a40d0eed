// Building models from YAML: every layer is registered, shapes are inferred
// from the sample shape, names are torch's, and mistakes give errors that
// point at the file, the layer path and both shapes.
#include "dlt/nn/registry.h"
#include "dlt/nn/summary.h"
#include "tests/test_util.h"

namespace dlt::testing {
namespace {

using namespace dlt::nn;

// Builds `model:` from YAML text (file name "m.yaml") on the given sample shape.
Built build(const std::string& yaml, const Shape& input_shape,
            std::vector<SummaryRow>* rows = nullptr) {
  static Generator gen(7);
  BuildContext ctx{.gen = &gen, .summary = rows};
  return build_model(config::load_string(yaml, "m.yaml").at("model"), input_shape, ctx);
}

void expect_build_error(const std::string& yaml, const Shape& input_shape,
                        std::initializer_list<std::string> pieces) {
  expect_error([&] { build(yaml, input_shape); }, pieces);
}

TEST(NnRegistry, EveryLayerIsRegistered) {
  const std::vector<std::string> known = registered_layers();
  for (const char* type :
       {"Linear", "Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "BatchNorm1d",
        "BatchNorm2d", "LayerNorm", "Dropout", "Embedding", "ReLU", "GELU", "SiLU", "Tanh",
        "Sigmoid", "Flatten", "Reshape", "Sequential", "Residual"})
    EXPECT_NE(std::find(known.begin(), known.end(), type), known.end()) << type;
  EXPECT_TRUE(std::is_sorted(known.begin(), known.end()));
}

TEST(NnRegistry, MlpInfersShapesAndUsesTorchNames) {
  const Built mlp = build(R"(
model:
  - type: Flatten
  - type: Linear
    out: 512
  - type: ReLU
  - type: Dropout
    p: 0.1
  - type: Linear
    out: 10
    bias: false
)",
                          {1, 28, 28});
  EXPECT_EQ(mlp.output_shape, Shape{10});
  EXPECT_EQ(mlp.module->type(), "Sequential");
  std::vector<std::string> names;
  for (const auto& [name, t] : mlp.module->state_dict()) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"1.bias", "1.weight", "4.weight"}));
  EXPECT_EQ(mlp.module->num_parameters(), 784 * 512 + 512 + 512 * 10);
  const Tensor y = mlp.module->forward(zeros({3, 1, 28, 28}));
  EXPECT_EQ(y.shape(), (Shape{3, 10}));
}

TEST(NnRegistry, CnnNamesIncludeBatchNormBuffers) {
  const Built cnn = build(R"(
model:
  - {type: Conv2d, out_channels: 8, kernel_size: 3, padding: 1}
  - {type: BatchNorm2d}
  - {type: ReLU}
  - {type: MaxPool2d, kernel_size: 2}
  - {type: Residual, body: [{type: Conv2d, out_channels: 8, kernel_size: [3, 3], padding: 1}, {type: GELU, approximate: tanh}]}
  - {type: Residual, body: {type: Conv2d, out_channels: 16, kernel_size: 3, stride: 2, padding: 1},
     projection: {type: Conv2d, out_channels: 16, kernel_size: 1, stride: 2, bias: false}}
  - {type: AdaptiveAvgPool2d, output_size: 1}
  - {type: Flatten}
  - {type: LayerNorm}
  - {type: Linear, out: 10}
)",
                          {1, 28, 28});
  EXPECT_EQ(cnn.output_shape, Shape{10});
  std::vector<std::string> names;
  for (const auto& [name, t] : cnn.module->state_dict()) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{
                       "0.bias", "0.weight", "1.bias", "1.num_batches_tracked", "1.running_mean",
                       "1.running_var", "1.weight", "4.body.0.bias", "4.body.0.weight",
                       "5.body.bias", "5.body.weight", "5.projection.weight", "8.bias",
                       "8.weight", "9.bias", "9.weight"}));
  EXPECT_EQ(cnn.module->forward(zeros({2, 1, 28, 28})).shape(), (Shape{2, 10}));
}

TEST(NnRegistry, EmbeddingReshapeAndSequentialType) {
  const Built m = build(R"(
model:
  type: Sequential
  layers:
    - {type: Embedding, num_embeddings: 65, dim: 8}
    - {type: Reshape, shape: [-1]}
    - {type: Linear, out: 65}
)",
                        {16});
  EXPECT_EQ(m.output_shape, Shape{65});
  const Tensor y = m.module->forward(zeros({2, 16}, DType::i64));
  EXPECT_EQ(y.shape(), (Shape{2, 65}));
}

TEST(NnRegistry, OptionsReachTheLayers) {
  std::vector<SummaryRow> rows;
  build(R"(
model:
  - {type: BatchNorm2d, momentum: null, eps: 0.001, affine: false}
  - {type: MaxPool2d, kernel_size: [3, 2], stride: 1, padding: [1, 0], ceil_mode: true}
  - {type: AvgPool2d, kernel_size: 2, count_include_pad: false}
  - {type: Conv2d, out_channels: 4, kernel_size: 3, stride: [2, 1], dilation: 2, groups: 2, bias: false}
  - {type: Flatten, start_dim: 2}
  - {type: LayerNorm, shape: [21], eps: 1.0e-6, elementwise_affine: false}
  - {type: Dropout, p: 0.3}
  - {type: GELU}
)",
        {2, 20, 24}, &rows);
  ASSERT_EQ(rows.size(), 8u);
  EXPECT_EQ(rows[0].options, "features=2, eps=0.001, momentum=cumulative, affine=false");
  EXPECT_EQ(rows[0].parameters, 0);
  EXPECT_EQ(rows[1].options, "kernel=(3, 2), stride=1, padding=(1, 0), ceil_mode=true");
  EXPECT_EQ(rows[1].output_shape, (Shape{2, 20, 23}));
  EXPECT_EQ(rows[2].options, "kernel=2, stride=2, count_include_pad=false");
  EXPECT_EQ(rows[2].output_shape, (Shape{2, 10, 11}));
  EXPECT_EQ(rows[3].options, "in=2, out=4, kernel=3, stride=(2, 1), dilation=2, groups=2, bias=false");
  EXPECT_EQ(rows[3].output_shape, (Shape{4, 3, 7}));  // dilated kernel 5: (10-5)/2+1, 11-5+1
  EXPECT_EQ(rows[3].parameters, 4 * 1 * 3 * 3);
  EXPECT_EQ(rows[4].output_shape, (Shape{4, 21}));
  EXPECT_EQ(rows[5].options, "shape=[21], eps=1e-06, elementwise_affine=false");
  EXPECT_EQ(rows[6].options, "p=0.3");
  EXPECT_EQ(rows[7].options, "");
}

TEST(NnRegistry, UnknownTypeListsKnownTypesAndTheClosest) {
  expect_build_error("model:\n  - type: Flatten\n  - type: Linaer\n    out: 3\n", {1, 4},
                     {"m.yaml:3:11", "model[1].type", "unknown layer type 'Linaer'",
                      "did you mean 'Linear'?", "known types:", "AdaptiveAvgPool2d", "Sigmoid"});
}

TEST(NnRegistry, UnknownOptionNamesTheClosestValidOne) {
  expect_build_error("model:\n  - type: Linear\n    outt: 3\n", {4},
                     {"m.yaml:3:5", "model[0]", "unknown key 'outt'", "did you mean 'out'?"});
  expect_build_error("model:\n  - {type: Conv2d, out_channels: 3, kernel_sise: 3}\n", {1, 8, 8},
                     {"model[0]", "unknown key 'kernel_sise'", "did you mean 'kernel_size'?"});
  // Far from every option: the valid ones are listed (or the closest named).
  expect_build_error("model:\n  - {type: Linear, out: 3, bais: false}\n", {4},
                     {"model[0]", "unknown key 'bais'", "bias"});
}

TEST(NnRegistry, MissingAndOutOfRangeOptions) {
  expect_build_error("model:\n  - type: Linear\n", {4},
                     {"m.yaml:2:5", "model[0]", "missing required key 'out'"});
  expect_build_error("model:\n  - type: Linear\n    out: 0\n", {4},
                     {"m.yaml:3:10", "model[0].out", "must be at least 1, got 0"});
  expect_build_error("model:\n  - {type: Dropout, p: 1.5}\n", {4},
                     {"model[0].p", "must be between 0 and 1, got 1.5"});
  expect_build_error("model:\n  - {type: Conv2d, out_channels: 2, kernel_size: [3, 3, 3]}\n",
                     {1, 8, 8}, {"model[0].kernel_size", "an integer or a list of two integers"});
  expect_build_error("model:\n  - {type: GELU, approximate: fast}\n", {4},
                     {"model[0].approximate", "expected 'none' or 'tanh', got 'fast'"});
  expect_build_error("model:\n  - {type: Linear, out: many}\n", {4},
                     {"model[0].out", "expected an integer"});
}

TEST(NnRegistry, ShapeMismatchNamesTheLayerPathAndBothShapes) {
  expect_build_error("model:\n  - type: Flatten\n  - type: Linear\n    out: 10\n"
                     "  - type: Conv2d\n    out_channels: 4\n    kernel_size: 3\n",
                     {1, 28, 28},
                     {"m.yaml:5:5", "model[2] (Conv2d): expected input [C, H, W], got [10]"});
  expect_build_error("model:\n  - {type: Linear, out: 3}\n", {},
                     {"model[0] (Linear): expected input with at least 1 dimension, got []"});
  expect_build_error("model:\n  - {type: Conv2d, out_channels: 4, kernel_size: 5}\n", {1, 3, 3},
                     {"model[0] (Conv2d)", "kernel 5", "larger than the padded input [1, 3, 3]"});
  expect_build_error("model:\n  - {type: Reshape, shape: [5, -1]}\n", {12},
                     {"model[0] (Reshape): cannot reshape input [12]", "to [5, -1]"});
  expect_build_error("model:\n  - {type: LayerNorm, shape: [4, 5]}\n", {3, 5},
                     {"model[0] (LayerNorm)", "[4, 5]", "[3, 5]"});
}

TEST(NnRegistry, ResidualShapeMismatchNamesBodyAndSkipShapes) {
  expect_build_error("model:\n  - type: Flatten\n  - type: Residual\n    body:\n"
                     "      - {type: Linear, out: 5}\n",
                     {2, 3},
                     {"m.yaml:3:5", "model[1] (Residual)", "body's output [5]",
                      "skip path's [6]"});
  // A nested error keeps its own, deeper path.
  expect_build_error("model:\n  - type: Residual\n    body:\n      - {type: ReLU}\n"
                     "      - {type: Conv2d, out_channels: 2, kernel_size: 1}\n",
                     {6}, {"model[0].body[1] (Conv2d): expected input [C, H, W], got [6]"});
  expect_build_error("model:\n  - {type: Residual, body: [{type: Relu}]}\n", {6},
                     {"model[0].body[0].type", "did you mean 'ReLU'?"});
}

TEST(NnRegistry, ALayerMustBeAMapWithAType) {
  expect_build_error("model:\n  - Linear\n", {4}, {"model[0]", "expected a layer"});
  expect_build_error("model:\n  - {out: 3}\n", {4}, {"model[0]", "missing required key 'type'"});
  expect_build_error("model: 3\n", {4}, {"model", "expected a list of layers"});
}

TEST(NnRegistry, SummaryHasOneRowPerLayerWithShapesAndParameters) {
  std::vector<SummaryRow> rows;
  const Built m = build(R"(
model:
  - type: Flatten
  - type: Residual
    body: [{type: Linear, out: 12}, {type: ReLU}]
  - {type: Linear, out: 10}
)",
                        {3, 4}, &rows);
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[0].path, "model[0]");
  EXPECT_EQ(rows[0].output_shape, Shape{12});
  EXPECT_EQ(rows[1].path, "model[1]");
  EXPECT_EQ(rows[1].type, "Residual");
  EXPECT_EQ(rows[1].parameters, 12 * 12 + 12);
  EXPECT_EQ(rows[2].path, "model[1].body[0]");
  EXPECT_EQ(rows[2].depth, 1);
  EXPECT_EQ(rows[2].options, "in=12, out=12, bias=true");
  EXPECT_EQ(rows[4].output_shape, Shape{10});
  const std::string text = summarize(rows, {3, 4}, *m.module);
  EXPECT_THAT(text, ::testing::HasSubstr("input"));
  EXPECT_THAT(text, ::testing::HasSubstr("[3, 4]"));
  EXPECT_THAT(text, ::testing::HasSubstr("  model[1].body[0]"));
  EXPECT_THAT(text, ::testing::HasSubstr("total parameters: 286\n"));  // 156 + 130
  EXPECT_EQ(thousands(535818), "535,818");
  EXPECT_EQ(thousands(12), "12");
}

}  // namespace
}  // namespace dlt::testing
