// Training end to end through the dlt binary: configs/fashion_mlp.yaml and
// configs/kjv_gpt.yaml run 50 steps on cuda and on cpu from the same seed,
// on synthetic data of the configs' shapes (the GPU machine has no data/*.h5),
// and the per-step training losses of metrics.jsonl must agree.
//
// Tolerances, relative to the cpu loss:
//   - step 1 (before any update): 1e-5 for both; only summation order differs.
//   - all 50 steps: 1e-4 for the MLP: two f32 matmuls and a cross entropy per
//     step; AdamW carries the per-step rounding differences (~1e-7) forward,
//     and over 50 steps they stay well under 1e-5 of the loss.
//   - all 50 steps: 1e-3 for the GPT: 4 blocks of layer norm, attention (fused
//     online softmax on cuda against the unfused reference on cpu) and GELU,
//     then AdamW, whose update g / sqrt(v) turns rounding differences of
//     near-zero gradients into full-size differences in the update.
// TF32 stays off (DLT_ALLOW_TF32 unset or 0): f32 matmuls are full f32.
// KjvGptInBf16AndFp16FollowsF32 trains the GPT in bf16 and fp16 on cuda
// against its f32 run there.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <numeric>
#include <vector>

#include "dlt/data/h5_writer.h"
#include "dlt/train/metrics_log.h"
#include "tests/cli/run_dlt.h"
#include "tests/cuda/cuda_harness.h"
#include "tests/test_util.h"

namespace dlt::testing {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kSteps = 50;

// Fashion-MNIST's layout: train/images uint8 (N, 28, 28), train/labels i64 (N).
// Each class brightens its own band of rows over a fixed pseudo-random
// background, so the loss falls over the 50 steps.
void write_fashion_like(const std::string& path, int64_t n) {
  std::vector<uint8_t> images(static_cast<size_t>(n * 28 * 28));
  std::vector<int64_t> labels(static_cast<size_t>(n));
  uint32_t state = 12345;
  for (int64_t s = 0; s < n; ++s) {
    labels[size_t(s)] = s % 10;
    for (int64_t i = 0; i < 28 * 28; ++i) {
      state = state * 1664525u + 1013904223u;  // LCG: the same bytes everywhere
      const bool band = (i / 28) / 3 == labels[size_t(s)];
      images[size_t(s * 784 + i)] = uint8_t((state >> 24) / 2 + (band ? 120 : 0));
    }
  }
  data::H5Writer w(path);
  w.write("train/images", DType::u8, {n, 28, 28}, images.data());
  w.write("train/labels", DType::i64, {n}, labels.data());
  w.commit();
}

// A token stream over `vocab` ids: train/tokens i32 (n), a repeating phrase
// with pseudo-random substitutions, so there is structure to learn.
void write_tokens(const std::string& path, int64_t n, int32_t vocab) {
  std::vector<int32_t> tokens(static_cast<size_t>(n));
  uint32_t state = 777;
  for (int64_t i = 0; i < n; ++i) {
    state = state * 1664525u + 1013904223u;
    tokens[size_t(i)] = (state >> 28) == 0 ? int32_t((state >> 8) % uint32_t(vocab)) : int32_t((i * 7) % 41);
  }
  data::H5Writer w(path);
  w.write("train/tokens", DType::i32, {n}, tokens.data());
  w.commit();
}

// Runs `config` for kSteps on `device` into tmp/<device>; returns the per-step
// training losses from metrics.jsonl.
std::vector<double> train_losses(const TempDir& tmp, const std::string& config, const std::string& device,
                                 const std::string& overrides, const std::string& tag = "") {
  const fs::path run = tmp.path("run_" + device + tag);
  const CliResult r = run_dlt(fmt::format(
      "train {}/{} --run-dir {} --set data.val=null --set checkpoint.every=0 --set checkpoint.best=null "
      "--set schedule.warmup_steps=10 "
      "--set train.epochs=null --set train.steps={} --set train.log_every=1 --set train.eval_every=0 "
      "--set train.device={} {}",
      source_dir(), config, run.string(), kSteps, device, overrides));
  EXPECT_EQ(r.status, 0) << r.output;
  std::vector<double> losses;
  if (r.status != 0) return losses;
  for (const train::Json& m : train::read_metrics(run / "metrics.jsonl"))
    if (m.at("split").as_string("split") == "train") losses.push_back(m.at("loss").as_double("loss"));
  return losses;
}

void expect_losses_match(const std::vector<double>& gpu, const std::vector<double>& cpu, double rtol) {
  ASSERT_EQ(cpu.size(), size_t(kSteps));
  ASSERT_EQ(gpu.size(), size_t(kSteps));
  EXPECT_NEAR(gpu[0], cpu[0], 1e-5 * std::abs(cpu[0])) << "step 1, before any update";
  double worst = 0;
  size_t worst_step = 0;
  for (size_t i = 0; i < cpu.size(); ++i) {
    const double rel = std::abs(gpu[i] - cpu[i]) / std::abs(cpu[i]);
    if (rel > worst) worst = rel, worst_step = i + 1;
  }
  EXPECT_LE(worst, rtol) << "step " << worst_step << ": cuda " << gpu[worst_step - 1] << ", cpu "
                         << cpu[worst_step - 1];
  // The comparison means something only if training moves the loss.
  const auto mean = [](auto first, auto last) { return std::accumulate(first, last, 0.0) / double(last - first); };
  EXPECT_LT(mean(cpu.end() - 10, cpu.end()), mean(cpu.begin(), cpu.begin() + 10)) << "the loss did not fall";
}

TEST(CudaTrain, FashionMlpLossesMatchTheCpu) {
  DLT_SKIP_WITHOUT_CUDA();
  TempDir tmp("cuda_train");
  write_fashion_like(tmp.path("fashion.h5"), 2048);
  const std::string data = fmt::format("--set data.file={} --set 'data.train={{x: train/images, y: train/labels}}'",
                                       tmp.path("fashion.h5"));
  const auto cpu = train_losses(tmp, "configs/fashion_mlp.yaml", "cpu", data);
  const auto gpu = train_losses(tmp, "configs/fashion_mlp.yaml", "cuda", data);
  expect_losses_match(gpu, cpu, 1e-4);
}

TEST(CudaTrain, KjvGptLossesMatchTheCpu) {
  DLT_SKIP_WITHOUT_CUDA();
  TempDir tmp("cuda_train");
  write_tokens(tmp.path("tokens.h5"), 1 << 16, 73);  // vocab_size 73, as the config's
  const std::string data =
      fmt::format("--set data.file={} --set 'data.train={{x: train/tokens}}' --set model.dropout=0",
                  tmp.path("tokens.h5"));
  const auto cpu = train_losses(tmp, "configs/kjv_gpt.yaml", "cpu", data);
  const auto gpu = train_losses(tmp, "configs/kjv_gpt.yaml", "cuda", data);
  expect_losses_match(gpu, cpu, 1e-3);
}

// Mixed precision on the GPU: bf16 autocast, and fp16 with dynamic loss
// scaling, follow the f32 run of the GPT (the same start to bf16/fp16
// rounding, the same course to 3%), and fp16's scale settles within a few
// skipped steps from 65536.
TEST(CudaTrain, KjvGptInBf16AndFp16FollowsF32) {
  DLT_SKIP_WITHOUT_CUDA();
  TempDir tmp("cuda_train");
  write_tokens(tmp.path("tokens.h5"), 1 << 16, 73);
  const std::string data =
      fmt::format("--set data.file={} --set 'data.train={{x: train/tokens}}' --set model.dropout=0",
                  tmp.path("tokens.h5"));
  const auto f32 = train_losses(tmp, "configs/kjv_gpt.yaml", "cuda", data, "_f32");
  const auto mean_last = [](const std::vector<double>& v) { return std::accumulate(v.end() - 10, v.end(), 0.0) / 10; };
  for (const std::string precision : {"bf16", "fp16"}) {
    SCOPED_TRACE(precision);
    const auto low = train_losses(tmp, "configs/kjv_gpt.yaml", "cuda", data + " --set train.precision=" + precision,
                                  "_" + precision);
    ASSERT_EQ(low.size(), f32.size());
    EXPECT_NEAR(low[0], f32[0], 1e-2 * f32[0]);
    EXPECT_NEAR(mean_last(low), mean_last(f32), 3e-2 * mean_last(f32));
  }
  double skipped = 0;
  for (const train::Json& m : train::read_metrics(fs::path(tmp.path("run_cuda_fp16")) / "metrics.jsonl"))
    if (m.at("split").as_string("split") == "train") skipped += m.at("skipped_steps").as_double("skipped_steps");
  EXPECT_LE(skipped, 5);
}

}  // namespace
}  // namespace dlt::testing
