// train.precision bf16 / fp16 and train.loss_scale end to end through the
// dlt binary: a bf16 run trains, says how, and resumes bit for bit; fp16 on
// the CPU is refused at its line; loss scaling skips the steps whose scaled
// gradients overflow, logs the scale and the skipped steps, and its state
// resumes exactly.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "dlt/train/file_io.h"
#include "dlt/train/metrics_log.h"
#include "tests/cli/run_dlt.h"
#include "tests/cli/run_metrics.h"
#include "tests/data/fixtures.h"

namespace dlt::train {
namespace {

namespace fs = std::filesystem;
using data::testing::TempDir;
using dlt::testing::CliResult;
using dlt::testing::run_dlt;
using dlt::testing::train_losses;
using ::testing::HasSubstr;

std::string write_config(const TempDir& tmp, const std::string& name, const std::string& train_extra) {
  const std::string path = tmp.path(name + ".yaml");
  data::testing::write_file(path, fmt::format(R"(name: {0}
seed: 5
data:
  file: {1}
  train: {{x: train/x, y: train/y}}
  val: {{x: val/x, y: val/y}}
  batch_size: 8
  workers: 2
model:
  - {{type: Linear, out: 32}}
  - {{type: GELU}}
  - {{type: Dropout, p: 0.1}}
  - {{type: Linear, out: 3}}
optim: {{name: adamw, lr: 0.01}}
train:
  steps: 24
  log_every: 1
  eval_every: 12
  grad_clip: 1.0
{2}
checkpoint: {{every: 5, keep: 20}}
)",
                                              name, tmp.path("data.h5"), train_extra));
  return path;
}

// Runs `cfg` into a, then into b from a's step-10 checkpoint; both must log
// the same losses (and extra metrics) and end with the same files.
void expect_bitwise_resume(const TempDir& tmp, const std::string& cfg, const std::vector<std::string>& also) {
  const fs::path a = tmp.path("a"), b = tmp.path("b");
  const CliResult first = run_dlt(fmt::format("train {} --run-dir {}", cfg, a.string()));
  ASSERT_EQ(first.status, 0) << first.output;
  fs::create_directories(b / "checkpoints");
  fs::copy(a / "checkpoints" / "step-10", b / "checkpoints" / "step-10", fs::copy_options::recursive);
  const CliResult r = run_dlt(fmt::format("train {} --run-dir {} --resume", cfg, b.string()));
  ASSERT_EQ(r.status, 0) << r.output;
  auto after_10 = train_losses(a);
  std::erase_if(after_10, [](const auto& p) { return p.first <= 10; });
  EXPECT_EQ(train_losses(b), after_10);
  const auto ra = read_metrics(a / "metrics.jsonl"), rb = read_metrics(b / "metrics.jsonl");
  for (const std::string& key : also) {
    std::vector<double> va, vb;
    for (const Json& j : ra)
      if (j.at("step").as_int("step") > 10 && j.find(key)) va.push_back(j.at(key).as_double(key));
    for (const Json& j : rb)
      if (j.find(key)) vb.push_back(j.at(key).as_double(key));
    EXPECT_FALSE(va.empty()) << key;
    EXPECT_EQ(va, vb) << key;
  }
  EXPECT_EQ(read_file(b / "checkpoints/step-24/model.safetensors"), read_file(a / "checkpoints/step-24/model.safetensors"));
  EXPECT_EQ(read_file(b / "checkpoints/step-24/optimizer.safetensors"),
            read_file(a / "checkpoints/step-24/optimizer.safetensors"));
  EXPECT_EQ(read_file(b / "checkpoints/step-24/state.json"), read_file(a / "checkpoints/step-24/state.json"));
}

TEST(CliMixedPrecision, Bf16TrainsSaysHowAndResumesBitForBit) {
  TempDir tmp;
  data::testing::write_classification(tmp.path("data.h5"), 96, 32, 6, 3);
  const std::string cfg = write_config(tmp, "bf16", "  precision: bf16");
  const CliResult r = run_dlt(fmt::format("train {} --run-dir {}", cfg, tmp.path("run")));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("mixed precision: bfloat16 autocast, f32 weights and their bfloat16 copies written "
                                  "in the optimizer's pass; bfloat16 matrix products"));
  const auto losses = train_losses(tmp.path("run"));
  ASSERT_EQ(losses.size(), 24u);
  EXPECT_LT(losses.back().second, losses.front().second);
  EXPECT_THAT(read_file(tmp.path("run/config.resolved.yaml")), HasSubstr("precision: bf16"));
  // Checkpoints hold f32 weights and say how they were trained.
  EXPECT_THAT(read_file(tmp.path("run/checkpoints/step-24/state.json")), HasSubstr("\"precision\":\"bf16\""));
  expect_bitwise_resume(tmp, cfg, {});
}

TEST(CliMixedPrecision, Bf16EndsCloseToF32) {
  TempDir tmp;
  data::testing::write_classification(tmp.path("data.h5"), 96, 32, 6, 3);
  const CliResult f32 =
      run_dlt(fmt::format("train {} --run-dir {}", write_config(tmp, "f32", "  precision: f32"), tmp.path("f32")));
  const CliResult bf16 =
      run_dlt(fmt::format("train {} --run-dir {}", write_config(tmp, "bf16", "  precision: bf16"), tmp.path("bf16")));
  ASSERT_EQ(f32.status, 0) << f32.output;
  ASSERT_EQ(bf16.status, 0) << bf16.output;
  const auto a = train_losses(tmp.path("f32")), b = train_losses(tmp.path("bf16"));
  double first_a = 0, first_b = 0, last_a = 0, last_b = 0;
  for (int i = 0; i < 4; ++i) {
    first_a += a[size_t(i)].second, first_b += b[size_t(i)].second;
    last_a += a[a.size() - 1 - size_t(i)].second, last_b += b[b.size() - 1 - size_t(i)].second;
  }
  EXPECT_NEAR(first_b, first_a, 0.02 * first_a);  // the same start, to bf16 rounding
  EXPECT_NEAR(last_b, last_a, 0.05 * last_a);     // and the same course
}

TEST(CliMixedPrecision, Fp16OnTheCpuIsRefusedAtItsLine) {
  TempDir tmp;
  data::testing::write_classification(tmp.path("data.h5"), 96, 32, 6, 3);
  const std::string cfg = write_config(tmp, "fp16", "  device: cpu\n  precision: fp16");
  const CliResult r = run_dlt(fmt::format("train {} --run-dir {}", cfg, tmp.path("run")));
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr(cfg + ":21"));
  EXPECT_THAT(r.output, HasSubstr("train.precision"));
  EXPECT_THAT(r.output, HasSubstr("fp16 needs a GPU"));
  EXPECT_FALSE(fs::exists(tmp.path("run/checkpoints")));
  const CliResult off = run_dlt(fmt::format("train {} --run-dir {} --set train.precision=bf16 --set train.loss_scale=none "
                                            "--set train.steps=2", cfg, tmp.path("run2")));
  EXPECT_EQ(off.status, 0) << off.output;
}

TEST(CliMixedPrecision, BadLossScaleSettingsNameTheirKey) {
  TempDir tmp;
  data::testing::write_classification(tmp.path("data.h5"), 96, 32, 6, 3);
  const std::string cfg = write_config(tmp, "ls", "  loss_scale: {init: 1024, growth_factor: 1}");
  const CliResult r = run_dlt(fmt::format("validate {}", cfg));
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("train.loss_scale.growth_factor"));
  const CliResult s = run_dlt(fmt::format("validate {} --set train.loss_scale=sometimes", cfg));
  EXPECT_EQ(s.status, 2) << s.output;
  EXPECT_THAT(s.output, HasSubstr("expected dynamic, none or a map of options, got 'sometimes'"));
}

// Feature 0 of training rows 0-5 is large (1e4): their gradients fit in f32
// easily, but not once multiplied by a loss scale of 1e36. Every step whose
// batch holds one overflows until the scale has backed off far enough.
void write_poisoned(const std::string& path) {
  data::testing::write_classification_with_large_rows(path, 96, 32, 6, 3, 6, 1e4f);
}

TEST(CliMixedPrecision, LossScalingSkipsOverflowingStepsAndLogsTheScale) {
  TempDir tmp;
  write_poisoned(tmp.path("data.h5"));
  const std::string cfg = write_config(tmp, "scaled", "  loss_scale: {init: 1e36, growth_interval: 4}");
  const CliResult r = run_dlt(fmt::format("train {} --run-dir {}", cfg, tmp.path("run")));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("dynamic loss scaling from 1e+36"));
  double skipped = 0;
  std::vector<double> scales;
  for (const Json& j : read_metrics(tmp.path("run/metrics.jsonl"))) {
    if (j.at("split").as_string("split") != "train") continue;
    skipped += j.at("skipped_steps").as_double("skipped_steps");
    scales.push_back(j.at("loss_scale").as_double("loss_scale"));
  }
  ASSERT_EQ(scales.size(), 24u);
  EXPECT_GT(skipped, 0) << r.output;
  EXPECT_LT(*std::min_element(scales.begin(), scales.end()), 1e36);  // backed off
  for (size_t i = 1; i < scales.size(); ++i) {
    const double ratio = scales[i] / scales[i - 1];
    EXPECT_TRUE(ratio == 1 || ratio == 2 || ratio == 0.5) << "step " << i + 1 << ": " << ratio;
  }
  // The same run without scaling takes those steps (nothing overflows), so
  // the skips came from the scale, not from the data alone.
  const CliResult plain = run_dlt(fmt::format("train {} --run-dir {} --set train.loss_scale=none", cfg, tmp.path("plain")));
  ASSERT_EQ(plain.status, 0) << plain.output;
  EXPECT_EQ(read_metrics(tmp.path("plain/metrics.jsonl")).front().find("skipped_steps"), nullptr);
}

TEST(CliMixedPrecision, LossScaleStateResumesExactly) {
  TempDir tmp;
  write_poisoned(tmp.path("data.h5"));
  const std::string cfg =
      write_config(tmp, "scaled", "  precision: bf16\n  loss_scale: {init: 1e36, growth_interval: 3}");
  expect_bitwise_resume(tmp, cfg, {"loss_scale", "skipped_steps"});
}

TEST(CliMixedPrecision, ChangingPrecisionOnResumeIsAllowedAndSaid) {
  TempDir tmp;
  data::testing::write_classification(tmp.path("data.h5"), 96, 32, 6, 3);
  const std::string cfg = write_config(tmp, "p", "  precision: f32");
  const fs::path a = tmp.path("a"), b = tmp.path("b");
  ASSERT_EQ(run_dlt(fmt::format("train {} --run-dir {}", cfg, a.string())).status, 0);
  fs::create_directories(b / "checkpoints");
  fs::copy(a / "checkpoints" / "step-10", b / "checkpoints" / "step-10", fs::copy_options::recursive);
  const CliResult r = run_dlt(fmt::format("train {} --run-dir {} --resume --set train.precision=bf16", cfg, b.string()));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("was trained in f32; continuing in bf16"));
}

}  // namespace
}  // namespace dlt::train
