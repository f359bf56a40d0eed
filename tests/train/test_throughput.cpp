// FLOPs counted from the ops that ran, the GPU peak table, and MFU in a
// run's metrics.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dlt/ops/flops.h"
#include "dlt/ops/ops.h"
#include "dlt/train/metrics_log.h"
#include "dlt/train/peak_flops.h"
#include "tests/cli/run_dlt.h"
#include "tests/data/fixtures.h"

namespace dlt::train {
namespace {

using data::testing::TempDir;

// Counts the FLOPs of `f` alone.
template <class F> int64_t flops_of(F&& f) {
  ops::enable_flop_count(true);
  const int64_t before = ops::flops_counted();
  f();
  ops::enable_flop_count(false);
  return ops::flops_counted() - before;
}

TEST(Flops, ProductsConvolutionsAndAttentionCountTwoPerMultiplyAdd) {
  const Tensor a = randn({3, 4, 5}), b = randn({3, 5, 6});
  EXPECT_EQ(flops_of([&] { (void)matmul(a, b); }), 2 * 3 * 4 * 6 * 5);
  const Tensor x = randn({8, 6}), w = randn({16, 6});
  EXPECT_EQ(flops_of([&] { (void)linear(x, w); }), 2 * 8 * 16 * 6);
  const Tensor img = randn({2, 3, 10, 10}), k = randn({4, 3, 3, 3});  // out (2, 4, 8, 8)
  EXPECT_EQ(flops_of([&] { (void)conv2d(img, k); }), 2 * (2 * 4 * 8 * 8) * (3 * 3 * 3));
  const Tensor q = randn({2, 3, 7, 4});  // causal: half of q k^T and of p v
  EXPECT_EQ(flops_of([&] { (void)causal_attention(q, q, q); }), 2 * (2 * 3 * 7 * 4) * 7);
  EXPECT_EQ(flops_of([&] { (void)relu(x + x).sum(); }), 0);  // memory-bound ops count nothing
}

// A linear layer's step: forward, and the weight's gradient (x needs none).
TEST(Flops, ABackwardPassCountsThroughTheOpsItRuns) {
  const Tensor x = randn({8, 6}), w = randn({16, 6}).requires_grad_();
  EXPECT_EQ(flops_of([&] { linear(x, w).sum().backward(); }), 2 * (2 * 8 * 16 * 6));
  EXPECT_EQ(flops_of([] {}), 0);
  ops::enable_flop_count(false);
  const int64_t before = ops::flops_counted();
  (void)linear(x, w);
  EXPECT_EQ(ops::flops_counted(), before);  // off: nothing counted
}

TEST(PeakFlops, GpusByNameAndPrecision) {
  EXPECT_EQ(gpu_peak_flops("NVIDIA H100 80GB HBM3", "tf32")->flops_per_s, 494.7e12);
  EXPECT_EQ(gpu_peak_flops("NVIDIA H100 80GB HBM3", "bf16")->flops_per_s, 989.4e12);
  EXPECT_EQ(gpu_peak_flops("NVIDIA H100 PCIe", "f32")->flops_per_s, 51e12);
  EXPECT_EQ(gpu_peak_flops("NVIDIA H100 PCIe", "fp16")->flops_per_s, 756e12);
  EXPECT_EQ(gpu_peak_flops("NVIDIA A100-SXM4-40GB", "tf32")->source, "NVIDIA A100, tf32 dense");
  EXPECT_FALSE(gpu_peak_flops("Some Future GPU", "tf32"));
  const auto cpu = peak_flops(Device::cpu(), "f32");
  ASSERT_TRUE(cpu);
  EXPECT_GT(cpu->flops_per_s, 1e9);
  EXPECT_THAT(cpu->source, ::testing::HasSubstr("measured: f32 GEMM 1024^3"));
}

TEST(PeakFlops, ARunLogsFlopsAndMfu) {
  TempDir tmp;
  data::testing::write_classification(tmp.path("data.h5"), 96, 32, 6, 3);
  data::testing::write_file(tmp.path("m.yaml"), fmt::format(R"(name: m
data: {{file: {}, train: {{x: train/x, y: train/y}}, batch_size: 8, workers: 1}}
model: [{{type: Linear, out: 16}}, {{type: ReLU}}, {{type: Linear, out: 3}}]
optim: {{name: sgd, lr: 0.01}}
train: {{steps: 20, log_every: 10}}
)",
                                                           tmp.path("data.h5")));
  const auto r = dlt::testing::run_dlt(fmt::format("train {} --run-dir {}", tmp.path("m.yaml"), tmp.path("run")));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, ::testing::HasSubstr("MFU against a peak of"));
  int records = 0;
  for (const Json& j : read_metrics(tmp.path("run") + "/metrics.jsonl")) {
    if (j.at("split").as_string("s") != "train") continue;
    ++records;
    EXPECT_GT(j.at("tflops").as_double("tflops"), 0);
    const double mfu = j.at("mfu").as_double("mfu");
    EXPECT_GT(mfu, 0);
    EXPECT_LT(mfu, 1.5);  // a measured peak, not a theoretical one: small models stay far below
  }
  EXPECT_EQ(records, 2);
}

}  // namespace
}  // namespace dlt::train
