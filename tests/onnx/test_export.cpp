// The ONNX exporter over every registered layer: each layer's example, and
// more cases for the options that change the mapping, exports at opset 17
// and 13, passes Debian's checker (onnx_io::check_model, with strict shape
// inference) and has the structure exporter.h promises; then onnx's Python
// checker and ONNX Runtime run every export against dlt's eval forward at two
// batch sizes (and, for token models, two sequence lengths), within 1e-4.
// Also: the errors (opset, a layer with no mapping, float64, the checker's
// rejection, an unwritable file) and the facts of tied weights, eval mode
// and the opset-13 LayerNorm.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <set>

#include "dlt/config/yaml_reader.h"
#include "dlt/core/grad_mode.h"
#include "dlt/nn/init.h"
#include "dlt/nn/layers/embedding.h"
#include "dlt/nn/layers/gpt.h"
#include "dlt/nn/layers/linear.h"
#include "dlt/nn/layers/llama.h"
#include "dlt/nn/layers/sequential.h"
#include "dlt/nn/registry.h"
#include "dlt/onnx/check.h"
#include "dlt/onnx/export/context.h"
#include "dlt/onnx/export/export_file.h"
#include "dlt/onnx/import/model.h"
#include "dlt/onnx/proto.h"
#include "dlt/ops/ops.h"
#include "dlt/train/safetensors.h"
#include "tests/data/fixtures.h"
#include "tests/onnx/export_test_util.h"
#include "tests/test_util.h"

namespace dlt::onnx_export {
namespace {

namespace fs = std::filesystem;
using dlt::testing::expect_error;
using dlt::testing::TempDir;
using testing::expect_export_structure;
using ::testing::HasSubstr;

struct Case {
  std::string name, yaml;
  Shape input;
  bool fixed_seq = false;  // token ids whose length the model folds into its features
};

// Each registered layer's example, then the options whose mapping differs.
std::vector<Case> layer_cases() {
  std::vector<Case> cases;
  for (const std::string& type : nn::registered_layers()) {
    const nn::LayerInfo* info = nn::layer_info(type);
    cases.push_back({type, std::string(info->example), info->example_input});
  }
  const std::vector<Case> more = {
      {"AvgPool2d_pad_ceil_no_count_pad",
       "{type: AvgPool2d, kernel_size: 3, stride: 2, padding: 1, ceil_mode: true, "
       "count_include_pad: false}",
       {2, 7, 7}},
      {"AvgPool2d_pad_count_pad",
       "{type: AvgPool2d, kernel_size: 3, stride: 2, padding: 1}",
       {2, 6, 7}},
      {"AvgPool2d_pad_ceil_count_pad",
       "{type: AvgPool2d, kernel_size: 3, stride: 2, padding: 1, ceil_mode: true}",
       {2, 6, 6}},
      {"MaxPool2d_pad_dilation_ceil",
       "{type: MaxPool2d, kernel_size: 3, stride: 2, padding: 1, dilation: 2, ceil_mode: true}",
       {2, 9, 10}},
      {"AdaptiveAvgPool2d_uneven", "{type: AdaptiveAvgPool2d, output_size: [3, 2]}", {2, 7, 5}},
      {"AdaptiveAvgPool2d_global", "{type: AdaptiveAvgPool2d, output_size: 1}", {2, 5, 5}},
      {"Conv2d_groups_dilation",
       "{type: Conv2d, out_channels: 4, kernel_size: [3, 2], stride: [2, 1], padding: [1, 2], "
       "dilation: [1, 2], "
       "groups: 2, bias: false}",
       {2, 7, 8}},
      {"Conv1d_strided_groups",
       "{type: Conv1d, out_channels: 6, kernel_size: 3, stride: 2, padding: 1, dilation: 2, "
       "groups: 3}",
       {3, 11}},
      {"ConvTranspose2d_output_padding",
       "{type: ConvTranspose2d, out_channels: 4, kernel_size: 3, stride: 2, padding: 1, "
       "output_padding: 1, "
       "dilation: 2, groups: 2}",
       {2, 4, 5}},
      {"Upsample_nearest_size", "{type: Upsample, size: [7, 5]}", {2, 3, 4}},
      {"Upsample_nearest_fractional", "{type: Upsample, scale_factor: [1.5, 2.5]}", {2, 3, 4}},
      {"Upsample_bilinear", "{type: Upsample, scale_factor: 2, mode: bilinear}", {2, 3, 4}},
      {"Upsample_bilinear_size_corners",
       "{type: Upsample, size: [5, 7], mode: bilinear, align_corners: true}",
       {2, 3, 4}},
      {"BatchNorm1d_length_no_affine", "{type: BatchNorm1d, affine: false, eps: 0.001}", {3, 5}},
      {"LayerNorm_two_dims_no_affine",
       "{type: LayerNorm, shape: [3, 4], elementwise_affine: false}",
       {2, 3, 4}},
      {"RMSNorm_two_dims", "{type: RMSNorm, shape: [3, 4], eps: 0.001}", {2, 3, 4}},
      {"GroupNorm_image", "{type: GroupNorm, num_groups: 3}", {6, 2, 3}},
      {"GroupNorm_channels_no_affine", "{type: GroupNorm, num_groups: 2, affine: false}", {4}},
      {"Softmax_dim_1", "{type: Softmax, dim: 1}", {3, 4}},
      {"LogSoftmax_dim_-2", "{type: LogSoftmax, dim: -2}", {3, 4}},
      {"GELU_tanh", "{type: GELU, approximate: tanh}", {5}},
      {"LeakyReLU_0.2", "{type: LeakyReLU, negative_slope: 0.2}", {5}},
      {"Flatten_from_2", "{type: Flatten, start_dim: 2}", {2, 3, 4}},
      {"Reshape_inferred", "{type: Reshape, shape: [-1, 2]}", {2, 3, 2}},
      {"Residual_projection",
       "{type: Residual, body: [{type: Linear, out: 4}, {type: GELU}], projection: {type: Linear, "
       "out: 4}}",
       {3}},
      {"LSTM_two_layers_bidirectional",
       "{type: LSTM, hidden_size: 5, layers: 2, bidirectional: true}",
       {6, 3}},
      {"LSTM_last_no_bias", "{type: LSTM, hidden_size: 4, bias: false, return: last}", {5, 3}},
      {"GRU_two_layers_bidirectional_last",
       "{type: GRU, hidden_size: 4, layers: 2, bidirectional: true, return: last}",
       {6, 3}},
      {"GRU_no_bias", "{type: GRU, hidden_size: 3, bias: false}", {4, 2}},
      {"MultiHeadAttention_encoder",
       "{type: MultiHeadAttention, heads: 4, causal: false, bias: false}",
       {5, 8}},
      {"TransformerBlock_tanh",
       "{type: TransformerBlock, heads: 2, gelu_approximate: tanh, mlp_ratio: 2}",
       {4, 6}},
      {"GPT_untied_erf",
       "{type: GPT, vocab_size: 13, block_size: 8, embed_dim: 8, heads: 2, layers: 2, "
       "weight_tying: false, "
       "gelu_approximate: none}",
       {6}},
      {"Llama_grouped_tied",
       "{type: Llama, vocab_size: 13, block_size: 8, embed_dim: 16, heads: 4, kv_heads: 2, layers: "
       "2, "
       "multiple_of: 8, weight_tying: true}",
       {8}},
      {"ResNet_rgb_three_stages",
       "{type: ResNet, classes: 4, widths: [4, 6, 8], blocks: [2, 1, 1]}",
       {3, 9, 9}},
      {"ViT_rgb",
       "{type: ViT, patch_size: 3, embed_dim: 12, heads: 3, layers: 2, mlp_ratio: 2, classes: 5}",
       {3, 6, 9}},
      {"Embedding_LSTM_Linear",
       "{type: Sequential, layers: [{type: Embedding, num_embeddings: 9, dim: 4}, {type: LSTM, "
       "hidden_size: 5}, "
       "{type: Linear, out: 9}]}",
       {7}},
      {"Embedding_Flatten_Linear_fixed_length",
       "{type: Sequential, layers: [{type: Embedding, num_embeddings: 9, dim: 3}, {type: Flatten}, "
       "{type: Linear, out: 2}]}",
       {5},
       true},
      {"Embedding_TransformerBlock_Linear",
       "{type: Sequential, layers: [{type: Embedding, num_embeddings: 9, dim: 8}, {type: "
       "TransformerBlock, heads: 2}, "
       "{type: Linear, out: 9}]}",
       {6}},
  };
  cases.insert(cases.end(), more.begin(), more.end());
  return cases;
}

// The number of token ids a model that starts with an embedding takes; 0
// for a model of float inputs.
int64_t vocabulary(const nn::Module& m) {
  if (const auto* e = dynamic_cast<const nn::Embedding*>(&m)) return e->options.num_embeddings;
  if (const auto* g = dynamic_cast<const nn::GPT*>(&m)) return g->options.vocab_size;
  if (const auto* l = dynamic_cast<const nn::Llama*>(&m)) return l->options.vocab_size;
  if (const auto* s = dynamic_cast<const nn::Sequential*>(&m); s && s->size() > 0)
    return vocabulary(*(*s)[0]);
  return 0;
}

struct Model {
  std::unique_ptr<Generator> gen = std::make_unique<Generator>(11);
  std::shared_ptr<nn::Module> module;
  int64_t vocab = 0;
};

// The case's layer in eval mode, with every parameter and buffer moved off
// its initial values (LayerNorm's ones, BatchNorm's zero means), so that a
// wrong use of any of them shows in the outputs.
Model build(const Case& c) {
  Model m;
  nn::BuildContext ctx{.gen = m.gen.get(), .dtype = DType::f32};
  m.module = nn::build_layer(config::load_string(c.yaml, c.name + ".yaml"), c.input, ctx).module;
  m.vocab = vocabulary(*m.module);
  NoGradGuard no_grad;
  for (auto& [name, p] : m.module->named_parameters())
    p.add_(randn(p.shape(), {}, m.gen.get()), 0.1);
  for (auto& [name, b] : m.module->named_buffers()) {
    if (name.ends_with("running_mean")) nn::init::normal_(b, 0, 0.5, m.gen.get());
    if (name.ends_with("running_var")) nn::init::uniform_(b, 0.5, 1.5, m.gen.get());
  }
  m.module->eval();
  return m;
}

// Whether the export's token ids have a dynamic length.
bool dynamic_seq(const Model& m, const Case& c) {
  return m.vocab && c.input.size() == 1 && !c.fixed_seq;
}

// Inputs for runs at two batch sizes, and for token models a shorter sequence too.
std::vector<Tensor> inputs(const Model& m, const Case& c) {
  const Shape& sample = c.input;
  std::vector<Shape> shapes;
  for (int64_t b : {1, 3}) {
    Shape s{b};
    s.insert(s.end(), sample.begin(), sample.end());
    shapes.push_back(s);
  }
  if (dynamic_seq(m, c) && sample[0] > 2) shapes.push_back({2, sample[0] - 2});
  std::vector<Tensor> xs;
  for (const Shape& s : shapes)
    xs.push_back(m.vocab ? randint(0, m.vocab, s, DType::i64, m.gen.get())
                         : randn(s, {}, m.gen.get()));
  return xs;
}

std::string file_name(const std::string& name) {
  return std::regex_replace(name, std::regex("[^A-Za-z0-9_.-]"), "_");
}

TEST(OnnxExport, EveryRegisteredLayerHasAnExportFunction) {
  for (const std::string& type : nn::registered_layers())
    EXPECT_NE(find_layer_export(type), nullptr) << type << " has no ONNX export function";
}

// Every case at opsets 17 and 13: Debian's checker, the structure, then
// check_export_ort.py over all of them at once.
TEST(OnnxExport, EveryLayerExportsChecksAndMatchesOnnxRuntime) {
  TempDir tmp("onnx_layers");
  nlohmann::json manifest = nlohmann::json::array();
  for (const Case& c : layer_cases()) {
    SCOPED_TRACE(c.name + ": " + c.yaml);
    Model m = build(c);
    const DType input_dtype = m.vocab ? DType::i64 : DType::f32;
    const std::string base = file_name(c.name);
    train::TensorMap io;
    {
      NoGradGuard no_grad;
      const std::vector<Tensor> xs = inputs(m, c);
      for (size_t k = 0; k < xs.size(); ++k) {
        io[fmt::format("input.{}", k)] = xs[k];
        io[fmt::format("output.{}", k)] = (*m.module)(xs[k]);
      }
    }
    train::save_safetensors(tmp.path(base + "_io.safetensors"), io);
    train::save_safetensors(tmp.path(base + "_state.safetensors"), m.module->state_dict());
    for (int64_t opset : {17, 13}) {
      SCOPED_TRACE(fmt::format("opset {}", opset));
      onnx::ModelProto model;
      ASSERT_NO_THROW(model = export_model(*m.module, c.input, input_dtype, {.opset = opset}));
      EXPECT_NO_THROW(onnx_io::check_model(model, c.name));
      expect_export_structure(model, *m.module, dynamic_seq(m, c));
      const std::string onnx_file = fmt::format("{}_opset{}.onnx", base, opset);
      onnx_io::save_model(model, tmp.path(onnx_file));
      manifest.push_back({{"name", fmt::format("{} (opset {})", c.name, opset)},
                          {"onnx", onnx_file},
                          {"io", base + "_io.safetensors"},
                          {"state", base + "_state.safetensors"},
                          {"opset", opset},
                          {"seq", dynamic_seq(m, c)},
                          {"atol", 1e-4}});
    }
  }
  testing::run_ort_check(tmp.path("manifest.json"), manifest);
}

// dlt's own importer runs every export (both opsets) and gives dlt's
// forward back: the exporter's graphs use only ops it runs, with the
// semantics it gives them.
TEST(OnnxExport, EveryLayerRoundTripsThroughTheImporter) {
  for (const Case& c : layer_cases()) {
    SCOPED_TRACE(c.name + ": " + c.yaml);
    Model m = build(c);
    NoGradGuard no_grad;
    for (int64_t opset : {17, 13}) {
      SCOPED_TRACE(fmt::format("opset {}", opset));
      const onnx::ModelProto model =
          export_model(*m.module, c.input, m.vocab ? DType::i64 : DType::f32, {.opset = opset});
      const onnx_import::Model imported(model, c.name);
      for (const Tensor& x : inputs(m, c)) {
        const Tensor expected = (*m.module)(x);
        const auto outputs = imported.run({{model.graph().input(0).name(), x}}, Device::cpu());
        ASSERT_EQ(outputs.size(), 1u);
        const Tensor& got = outputs[0].second;
        ASSERT_EQ(got.shape(), expected.shape());
        const double diff =
            expected.numel()
                ? amax(abs(got.to(DType::f64) - expected.to(DType::f64))).item<double>()
                : 0;
        EXPECT_LE(diff, 1e-5) << "input " << shape_str(x.shape());
      }
    }
  }
}

// A tied weight is one initializer, used by the Gather and, through a
// Transpose node, by the head's MatMul; the file holds little besides the
// parameters.
TEST(OnnxExport, TiedWeightsAreStoredOnce) {
  for (const char* yaml :
       {"{type: GPT, vocab_size: 50, block_size: 16, embed_dim: 64, heads: 2, layers: 2}",
        "{type: Llama, vocab_size: 50, block_size: 16, embed_dim: 128, heads: 4, kv_heads: 2, "
        "multiple_of: 16, weight_tying: true}"}) {
    SCOPED_TRACE(yaml);
    Model m = build({"tied", yaml, {16}});
    const onnx::ModelProto model = export_model(*m.module, {16}, DType::i64);
    const std::string tied =
        dynamic_cast<nn::GPT*>(m.module.get()) ? "tok_emb.weight" : "tok_embeddings.weight";
    const std::string alias =
        dynamic_cast<nn::GPT*>(m.module.get()) ? "head.weight" : "output.weight";
    int64_t params = 0, stored = 0;
    for (const onnx::TensorProto& t : model.graph().initializer()) {
      EXPECT_NE(t.name(), alias);
      stored += t.name() == tied;
      if (m.module->state_dict().count(t.name())) params += int64_t(t.raw_data().size());
    }
    EXPECT_EQ(stored, 1);
    int transposes = 0;
    for (const onnx::NodeProto& n : model.graph().node())
      transposes += n.op_type() == "Transpose" && n.input(0) == tied;
    EXPECT_EQ(transposes, 1);
    EXPECT_LE(double(model.ByteSizeLong()), 1.05 * double(params));
  }
}

// Eval mode: no Dropout node, BatchNorm from its running statistics; the
// model's own mode is back afterwards.
TEST(OnnxExport, ExportsInEvalModeAndRestoresTheModelsMode) {
  Model m = build({"cnn",
                   "{type: Sequential, layers: [{type: Conv2d, out_channels: 2, kernel_size: 1}, "
                   "{type: BatchNorm2d}, "
                   "{type: Dropout, p: 0.5}]}",
                   {1, 3, 3}});
  m.module->train();
  const onnx::ModelProto model = export_model(*m.module, {1, 3, 3}, DType::f32);
  EXPECT_TRUE(m.module->training());
  std::vector<std::string> ops;
  for (const onnx::NodeProto& n : model.graph().node()) ops.push_back(n.op_type());
  EXPECT_THAT(ops, ::testing::ElementsAre("Conv", "BatchNormalization"));
  EXPECT_EQ(model.graph().output(0).name(), "output");
}

// LayerNormalization at opset 17; below, its decomposition.
TEST(OnnxExport, LayerNormIsNativeAtOpset17AndDecomposedBelow) {
  Model m = build({"ln", "{type: LayerNorm}", {4}});
  const auto ops = [&](int64_t opset) {
    const onnx::ModelProto model = export_model(*m.module, {4}, DType::f32, {.opset = opset});
    std::set<std::string> s;
    for (const onnx::NodeProto& n : model.graph().node()) s.insert(n.op_type());
    return s;
  };
  EXPECT_EQ(ops(17), std::set<std::string>{"LayerNormalization"});
  EXPECT_EQ(ops(13), (std::set<std::string>{"ReduceMean", "Sub", "Mul", "Add", "Sqrt", "Div"}));
}

TEST(OnnxExport, OpsetsOutsideThirteenToSeventeenAreRefused) {
  Model m = build({"linear", "{type: Linear, out: 2}", {3}});
  for (int64_t opset : {12, 18, 21}) {
    expect_error([&] { export_model(*m.module, {3}, DType::f32, {.opset = opset}); },
                 {fmt::format("opset {} is not one dlt exports: use 13 to 17", opset), "checker"});
  }
}

// A layer type without an export function: the error names its path and type.
class Mystery : public nn::Module {
 public:
  Tensor forward(const Tensor& x) override { return x; }
  std::string type() const override { return "Mystery"; }
};

TEST(OnnxExport, ALayerWithoutAMappingIsNamedWithItsPath) {
  Generator gen(1);
  nn::BuildContext ctx{.gen = &gen};
  auto inner = std::make_shared<nn::Sequential>(Shape{3});
  inner->push_back(
      nn::build_layer(config::load_string("{type: Linear, out: 3}", "x.yaml"), {3}, ctx));
  inner->push_back({std::make_shared<Mystery>(), {3}});
  nn::Sequential model(Shape{3});
  model.push_back(nn::build_layer(config::load_string("{type: ReLU}", "x.yaml"), {3}, ctx));
  model.push_back({inner, {3}});
  expect_error([&] { export_model(model, {3}, DType::f32); },
               {"cannot export layer 1.1 (Mystery) to ONNX: no ONNX mapping for layer type Mystery",
                "layers that export: AdaptiveAvgPool2d"});
}

TEST(OnnxExport, Float64ModelsAreRefused) {
  Generator gen(1);
  nn::BuildContext ctx{.gen = &gen, .dtype = DType::f64};
  const auto layer =
      nn::build_layer(config::load_string("{type: Linear, out: 2}", "x.yaml"), {3}, ctx);
  expect_error([&] { export_model(*layer.module, {3}, DType::f32); },
               {"is float64, and dlt exports float32 models only"});
}

// The checker program's rejection becomes an error naming the model.
TEST(OnnxExport, TheCheckerRejectsABrokenGraphNamingIt) {
  Model m = build({"linear", "{type: Linear, out: 2}", {3}});
  onnx::ModelProto model = export_model(*m.module, {3}, DType::f32);
  onnx::NodeProto* n = model.mutable_graph()->add_node();
  n->set_op_type("NoSuchOp");
  n->add_input("output");
  n->add_output("y");
  expect_error([&] { onnx_io::check_model(model, "broken.onnx"); },
               {"the ONNX checker rejects broken.onnx", "NoSuchOp"});
  // Strict shape inference (full) catches what the checker lets through: a
  // MatMul whose operands do not fit (a Linear over (B, 2, 3) fed (B, 2, 5)).
  Model seq = build({"linear", "{type: Linear, out: 2}", {2, 3}});
  onnx::ModelProto mismatched = export_model(*seq.module, {2, 3}, DType::f32);
  mismatched.mutable_graph()
      ->mutable_input(0)
      ->mutable_type()
      ->mutable_tensor_type()
      ->mutable_shape()
      ->mutable_dim(2)
      ->set_dim_value(5);
  EXPECT_NO_THROW(onnx_io::check_model(mismatched, "matmul.onnx", /*full=*/false));
  expect_error([&] { onnx_io::check_model(mismatched, "matmul.onnx"); },
               {"the ONNX checker rejects matmul.onnx", "MatMul"});
}

// A file that cannot be written leaves nothing behind; a written one is the
// exported model.
TEST(OnnxExport, ExportFileWritesACheckedModelOrNothing) {
  TempDir tmp("onnx_file");
  Model m = build({"linear", "{type: Linear, out: 2}", {3}});
  const std::string missing = tmp.path("no/such/folder/model.onnx");
  EXPECT_THROW(export_onnx_file(*m.module, {3}, DType::f32, {}, missing), Error);
  EXPECT_FALSE(fs::exists(tmp.path("no")));
  const ExportReport r =
      export_onnx_file(*m.module, {3}, DType::f32, {.output_name = "logits"}, tmp.path("m.onnx"));
  EXPECT_EQ(r.input, "input");
  EXPECT_EQ(r.output, "logits");
  EXPECT_EQ(r.nodes, 1);  // one Gemm
  EXPECT_EQ(r.initializers, 2);
  EXPECT_EQ(r.file_bytes, int64_t(fs::file_size(tmp.path("m.onnx"))));
  EXPECT_EQ(data::testing::dir_entries(tmp.dir()), std::vector<std::string>{"m.onnx"});
  EXPECT_EQ(onnx_io::load_model(tmp.path("m.onnx")).graph().node(0).op_type(), "Gemm");
}

}  // namespace
}  // namespace dlt::onnx_export
