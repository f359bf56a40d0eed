// dlt onnx info | run | test through the binary, on models written here.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "dlt/data/h5_writer.h"
#include "dlt/data/npy.h"
#include "dlt/ops/ops.h"
#include "tests/cli/run_dlt.h"
#include "tests/onnx/onnx_builder.h"
#include "tests/test_util.h"

namespace dlt {
namespace {

using ::testing::HasSubstr;
using onnx::TensorProto;
using testing::OnnxBuilder;
using testing::run_dlt;

// (batch, 4) -> relu(x W^T + b), (batch, 3); and a second model with two inputs.
struct Models {
  testing::TempDir tmp{"cli_onnx"};
  Tensor w, b;
  std::string mlp = tmp.path("mlp.onnx"), two_inputs = tmp.path("add.onnx"), fancy = tmp.path("fancy.onnx");
  Models() {
    manual_seed(5);
    w = randn({3, 4});
    b = randn({3});
    OnnxBuilder m;
    m.input("input", TensorProto::FLOAT, {"batch", "4"}).output("logits", TensorProto::FLOAT, {"batch", "3"});
    m.initializer("fc.weight", w).initializer("fc.bias", b);
    OnnxBuilder::add_int(m.node("Gemm", {"input", "fc.weight", "fc.bias"}, {"z"}, "fc"), "transB", 1);
    m.node("Relu", {"z"}, {"logits"}, "relu");
    onnx_io::save_model(m.model(), mlp);
    OnnxBuilder add;
    add.input("a", TensorProto::FLOAT, {"2"}).input("b", TensorProto::FLOAT, {"2"}).output("sum", TensorProto::FLOAT);
    add.node("Add", {"a", "b"}, {"sum"});
    onnx_io::save_model(add.model(), two_inputs);
    OnnxBuilder f;
    f.input("x", TensorProto::FLOAT, {"2"}).output("y", TensorProto::FLOAT);
    f.node("Relu", {"x"}, {"r"}, "relu");
    f.node("NonMaxSuppression", {"r"}, {"y"}, "nms");
    onnx_io::save_model(f.model(), fancy);
  }
};

TEST(CliOnnx, InfoListsInputsOutputsAndOps) {
  Models m;
  const auto r = run_dlt("onnx info " + m.mlp);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("IR version 8, opset 17, produced by dlt-tests"));
  EXPECT_THAT(r.output, HasSubstr("initializers: 2 (15 values)"));
  EXPECT_THAT(r.output, HasSubstr("input  input: FLOAT[batch, 4]"));
  EXPECT_THAT(r.output, HasSubstr("output logits: FLOAT[batch, 3]"));
  EXPECT_THAT(r.output, HasSubstr("dlt runs every node of this model"));
  const auto f = run_dlt("onnx info " + m.fancy);
  ASSERT_EQ(f.status, 0) << f.output;
  EXPECT_THAT(f.output, HasSubstr("NonMaxSuppression"));
  EXPECT_THAT(f.output, HasSubstr("not supported"));
  EXPECT_THAT(f.output, HasSubstr("dlt cannot run 1 op type(s) of this model"));
}

TEST(CliOnnx, RunReadsNpyAndHdf5AndWritesEachOutput) {
  Models m;
  const Tensor x = randn({5, 4});
  const Tensor want = relu(linear(x, m.w, m.b));
  data::write_npy(m.tmp.path("x.npy"), x);
  auto r = run_dlt("onnx run " + m.mlp + " --input " + m.tmp.path("x.npy") + " --out " + m.tmp.path("y.npy"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("logits: float32 [5, 3]"));
  EXPECT_TRUE(testing::compare_close(testing::to_vector<double>(data::read_npy(m.tmp.path("y.npy")).to(DType::f64)),
                                     testing::to_vector<double>(want.to(DType::f64)), 1e-6, 1e-7)
                  .empty());
  {
    data::H5Writer h5(m.tmp.path("in.h5"));
    h5.write("batch/x", DType::f32, {5, 4}, x.contiguous().raw_data());
    h5.write("other", DType::f32, {1}, x.contiguous().raw_data());
    h5.commit();
  }
  r = run_dlt("onnx run " + m.mlp + " --input input=" + m.tmp.path("in.h5") + ":batch/x --out " + m.tmp.path("y.h5"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("wrote 1 output(s) to"));
  // Several datasets and no key: the message lists them.
  r = run_dlt("onnx run " + m.mlp + " --input " + m.tmp.path("in.h5") + " --out " + m.tmp.path("z.h5"));
  EXPECT_EQ(r.status, 2);
  EXPECT_THAT(r.output, HasSubstr("the file has 2 datasets (batch/x, other)"));
}

TEST(CliOnnx, BadModelsAndInputsEndWithOneMessage) {
  Models m;
  data::write_npy(m.tmp.path("x.npy"), randn({5, 4}));
  data::write_npy(m.tmp.path("bad.npy"), randn({5, 7}));
  data::write_npy(m.tmp.path("v.npy"), randn({2}));
  const auto expect_error = [&](const std::string& args, const std::string& message) {
    const auto r = run_dlt(args);
    EXPECT_EQ(r.status, 2) << args << "\n" << r.output;
    EXPECT_THAT(r.output, HasSubstr(message)) << args;
    EXPECT_FALSE(std::filesystem::exists(m.tmp.path("out.h5"))) << args;
  };
  const std::string out = " --out " + m.tmp.path("out.h5");
  expect_error("onnx info " + m.tmp.path("none.onnx"), "none.onnx: cannot open the ONNX model (no such file)");
  expect_error("onnx info " + m.tmp.path("x.npy"), "x.npy: not an ONNX model");
  expect_error("onnx run " + m.mlp + " --input " + m.tmp.path("bad.npy") + out,
               "input 'input' must have shape FLOAT[batch, 4], got [5, 7]");
  expect_error("onnx run " + m.fancy + " --input " + m.tmp.path("x.npy") + out,
               "dlt cannot run NonMaxSuppression (1 node: nms)");
  expect_error("onnx run " + m.two_inputs + " --input " + m.tmp.path("x.npy") + out,
               "the model has 2 inputs; give each as NAME=FILE");
  expect_error("onnx run " + m.two_inputs + " --input a=" + m.tmp.path("v.npy") + out,
               "input 'b' is not given");
  expect_error("onnx run " + m.mlp + " --input " + m.tmp.path("x.txt") + out, "expected a .npy file or an HDF5 file");
}

TEST(CliOnnx, TestReportsAndGatesOnTheExpectedPasses) {
  Models m;
  const auto dir = m.tmp.root() / "suite" / "test_mlp";
  const onnx::ModelProto mlp = onnx_io::load_model(m.mlp);
  const Tensor x = randn({2, 4});
  testing::write_node_test(dir, mlp, x, relu(linear(x, m.w, m.b)));
  {
    std::ofstream list(m.tmp.path("expected.txt"));
    list << "# tests that must pass\ntest_mlp\n";
  }
  auto r = run_dlt("onnx test " + (m.tmp.root() / "suite").string() + " -v --expect-pass " + m.tmp.path("expected.txt"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("passed  test_mlp"));
  EXPECT_THAT(r.output, HasSubstr("1 passed, 0 failed, 0 skipped"));
  // A wrong expected output fails the gate.
  testing::write_node_test(dir, mlp, x, zeros({2, 3}));
  r = run_dlt("onnx test " + (m.tmp.root() / "suite").string() + " --expect-pass " + m.tmp.path("expected.txt"));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("0 passed, 1 failed, 0 skipped"));
  EXPECT_THAT(r.output, HasSubstr("1 test(s) of " + m.tmp.path("expected.txt") + " no longer pass: test_mlp"));
}

}  // namespace
}  // namespace dlt
