// The ONNX importer: graphs written here run and match dlt's own ops; the
// opset-dependent signatures; the errors of bad models and feeds; the
// node-test runner on test folders written here.
#include <gtest/gtest.h>


#include "dlt/onnx/import/model.h"
#include "dlt/onnx/import/node_tests.h"
#include "dlt/onnx/import/op_registry.h"
#include "dlt/ops/ops.h"
#include "tests/onnx/onnx_builder.h"
#include "tests/test_util.h"

namespace dlt {
namespace {

using onnx::TensorProto;
using onnx_import::Model;
using testing::OnnxBuilder;
using testing::write_node_test;

Tensor run_one(const OnnxBuilder& b, const std::map<std::string, Tensor>& feeds) {
  const Model model(b.model(), "test.onnx");
  return model.run(feeds, Device::cpu()).at(0).second;
}

TEST(OnnxImport, AnMlpGraphMatchesDltsOps) {
  manual_seed(3);
  const Tensor w1 = randn({8, 4}), b1 = randn({8}), w2 = randn({3, 8}), b2 = randn({3});
  OnnxBuilder b;
  b.input("input", TensorProto::FLOAT, {"batch", "4"}).output("probs", TensorProto::FLOAT, {"batch", "3"});
  b.initializer("fc1.weight", w1).initializer("fc1.bias", b1).initializer("fc2.weight", w2).initializer("fc2.bias", b2);
  OnnxBuilder::add_int(b.node("Gemm", {"input", "fc1.weight", "fc1.bias"}, {"h"}), "transB", 1);
  b.node("Relu", {"h"}, {"r"});
  OnnxBuilder::add_int(b.node("Gemm", {"r", "fc2.weight", "fc2.bias"}, {"z"}), "transB", 1);
  b.node("Softmax", {"z"}, {"probs"});
  for (int64_t batch : {1, 5}) {
    const Tensor x = randn({batch, 4});
    const Tensor want = softmax(linear(relu(linear(x, w1, b1)), w2, b2), -1);
    const Tensor got = run_one(b, {{"input", x}});
    EXPECT_EQ(testing::compare_close(testing::to_vector<double>(got.to(DType::f64)),
                                     testing::to_vector<double>(want.to(DType::f64)), 1e-6, 1e-7),
              "");
  }
}

TEST(OnnxImport, AxesMoveFromAttributeToInputAtTheirOpset) {
  const Tensor x = arange(24, DType::f32).reshape({2, 3, 4});
  const Tensor want = sum(x, {1}, true);
  OnnxBuilder old_style(11);
  old_style.input("x", TensorProto::FLOAT, {"2", "3", "4"}).output("y", TensorProto::FLOAT);
  OnnxBuilder::add_ints(old_style.node("ReduceSum", {"x"}, {"y"}), "axes", {1});
  OnnxBuilder new_style(13);
  new_style.input("x", TensorProto::FLOAT, {"2", "3", "4"}).output("y", TensorProto::FLOAT);
  new_style.initializer("axes", from_blob(std::vector<int64_t>{1}.data(), {1}, DType::i64));
  new_style.node("ReduceSum", {"x", "axes"}, {"y"});
  EXPECT_TRUE(testing::bitwise_equal(run_one(old_style, {{"x", x}}), want));
  EXPECT_TRUE(testing::bitwise_equal(run_one(new_style, {{"x", x}}), want));
}

TEST(OnnxImport, SoftmaxBeforeOpset13FlattensTheTrailingDims) {
  const Tensor x = randn({2, 3, 4});
  OnnxBuilder b(11);
  b.input("x", TensorProto::FLOAT, {"2", "3", "4"}).output("y", TensorProto::FLOAT);
  OnnxBuilder::add_int(b.node("Softmax", {"x"}, {"y"}), "axis", 1);
  const Tensor want = softmax(x.reshape({2, 12}), 1).reshape({2, 3, 4});
  EXPECT_EQ(testing::compare_close(testing::to_vector<double>(run_one(b, {{"x", x}}).to(DType::f64)),
                                   testing::to_vector<double>(want.to(DType::f64)), 1e-6, 1e-7),
            "");
}

TEST(OnnxImport, AsymmetricConvolutionPadsMatchPaddingFirst) {
  const Tensor x = randn({1, 2, 5, 6}), w = randn({3, 2, 3, 3});
  OnnxBuilder b;
  b.input("x", TensorProto::FLOAT, {"1", "2", "5", "6"}).output("y", TensorProto::FLOAT);
  b.initializer("w", w);
  OnnxBuilder::add_ints(b.node("Conv", {"x", "w"}, {"y"}), "pads", {0, 1, 2, 0});  // H: 0/2, W: 1/0
  const Tensor padded = zeros({1, 2, 7, 7});
  padded.narrow(2, 0, 5).narrow(3, 1, 6).copy_(x);
  const Tensor want = conv2d(padded, w);
  const Tensor got = run_one(b, {{"x", x}});
  ASSERT_EQ(got.shape(), want.shape());
  EXPECT_EQ(testing::compare_close(testing::to_vector<double>(got.to(DType::f64)),
                                   testing::to_vector<double>(want.to(DType::f64)), 1e-5, 1e-6),
            "");
}

TEST(OnnxImport, UnsupportedOpsAreListedByNameAndNode) {
  OnnxBuilder b;
  b.input("x", TensorProto::FLOAT, {"2"}).output("y", TensorProto::FLOAT);
  b.node("Relu", {"x"}, {"r"});
  b.node("FancyOp", {"r"}, {"f"}, "fancy_1");
  b.node("FancyOp", {"f"}, {"y"}, "fancy_2");
  const Model model(b.model(), "m.onnx");
  ASSERT_EQ(model.unsupported().size(), 1u);
  EXPECT_EQ(model.unsupported()[0].op_type, "FancyOp");
  EXPECT_EQ(model.unsupported()[0].nodes, (std::vector<std::string>{"fancy_1", "fancy_2"}));
  try {
    model.run({{"x", ones({2})}}, Device::cpu());
    FAIL() << "expected UnsupportedError";
  } catch (const onnx_import::UnsupportedError& e) {
    EXPECT_STREQ(e.what(), "m.onnx: dlt cannot run FancyOp (2 nodes: fancy_1, fancy_2)");
  }
}

TEST(OnnxImport, FeedsAreCheckedAgainstTheDeclaredInputs) {
  OnnxBuilder b;
  b.input("x", TensorProto::FLOAT, {"batch", "3"}).output("y", TensorProto::FLOAT);
  b.node("Relu", {"x"}, {"y"});
  const Model model(b.model(), "m.onnx");
  testing::expect_error([&] { model.run({}, Device::cpu()); },
                        {"m.onnx: input 'x' is not given", "x: FLOAT[batch, 3]"});
  testing::expect_error([&] { model.run({{"x", ones({2, 4})}}, Device::cpu()); },
                        {"input 'x' must have shape FLOAT[batch, 3], got [2, 4]"});
  testing::expect_error([&] { model.run({{"x", ones({2, 3}, DType::f64)}}, Device::cpu()); },
                        {"input 'x' must be FLOAT[batch, 3], got float64"});
  testing::expect_error([&] { model.run({{"x", ones({2, 3})}, {"z", ones({1})}}, Device::cpu()); },
                        {"the model has no input 'z'"});
}

TEST(OnnxImport, AFailingNodeIsNamed) {
  OnnxBuilder b;
  b.input("x", TensorProto::FLOAT, {"6"}).output("y", TensorProto::FLOAT);
  b.initializer("shape", from_blob(std::vector<int64_t>{4, 2}.data(), {2}, DType::i64));
  b.node("Reshape", {"x", "shape"}, {"y"}, "reshape_7");
  testing::expect_error([&] { run_one(b, {{"x", ones({6})}}); }, {"test.onnx: node 'reshape_7' (Reshape): shape [4, 2] is invalid for input of size 6"});
  OnnxBuilder dangling;
  dangling.input("x", TensorProto::FLOAT, {"6"}).output("y", TensorProto::FLOAT);
  dangling.node("Relu", {"nowhere"}, {"y"}, "relu_1");
  testing::expect_error([&] { run_one(dangling, {{"x", ones({6})}}); },
                        {"node 'relu_1' (Relu) reads 'nowhere', which no earlier node produces"});
}

TEST(OnnxNodeTests, RightOutputsPassWrongOnesFailUnsupportedOpsSkip) {
  testing::TempDir tmp("onnx_node");
  OnnxBuilder relu_model;
  relu_model.input("x", TensorProto::FLOAT, {"3"}).output("y", TensorProto::FLOAT, {"3"});
  relu_model.node("Relu", {"x"}, {"y"});
  const Tensor x = from_blob(std::vector<float>{-1, 0.5f, 2}.data(), {3}, DType::f32);
  write_node_test(tmp.root() / "test_relu_right", relu_model.model(), x, relu(x));
  write_node_test(tmp.root() / "test_relu_wrong", relu_model.model(), x, x);
  OnnxBuilder fancy;
  fancy.input("x", TensorProto::FLOAT, {"3"}).output("y", TensorProto::FLOAT, {"3"});
  fancy.node("FancyOp", {"x"}, {"y"});
  write_node_test(tmp.root() / "test_fancy", fancy.model(), x, x);

  const auto tests = onnx_import::find_node_tests(tmp.root());
  ASSERT_EQ(tests.size(), 3u);
  using Status = onnx_import::NodeTestResult::Status;
  const auto fancy_result = onnx_import::run_node_test(tests[0], Device::cpu());
  EXPECT_EQ(fancy_result.status, Status::skipped);
  EXPECT_NE(fancy_result.reason.find("dlt cannot run FancyOp"), std::string::npos);
  EXPECT_EQ(onnx_import::run_node_test(tests[1], Device::cpu()).status, Status::passed);
  const auto wrong = onnx_import::run_node_test(tests[2], Device::cpu());
  EXPECT_EQ(wrong.status, Status::failed);
  EXPECT_EQ(wrong.reason, "test_data_set_0: output 'y' element 0: 0 vs expected -1");
}

}  // namespace
}  // namespace dlt
