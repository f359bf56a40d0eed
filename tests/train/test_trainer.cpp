// The Trainer on a hand-written linear classifier and plain SGD, so the loop
// is tested apart from the layer registry, optimizers and config: resume is
// bit-exact, evaluation and metrics land where they should, non-finite
// losses stop or are skipped, signals checkpoint.
#include <gtest/gtest.h>

#include <signal.h>

#include <cmath>
#include <filesystem>

#include "dlt/core/grad_mode.h"
#include "dlt/data/array_dataset.h"
#include "dlt/data/h5_writer.h"
#include "dlt/ops/ops.h"
#include "dlt/train/file_io.h"
#include "dlt/train/trainer.h"
#include "tests/data/fixtures.h"
#include "tests/test_util.h"
#include "tests/train/signal_testing.h"

namespace dlt::train {
namespace {

namespace fs = std::filesystem;
using data::testing::TempDir;
using dlt::testing::expect_error;

// x (B, 4) -> dropout -> logits (B, 3); dropout draws from the model's generator.
class TinyModel : public nn::Module {
 public:
  explicit TinyModel(Generator* gen) : gen_(gen) {
    w_ = register_parameter("weight", uniform({3, 4}, -0.5, 0.5, {}, gen));
    b_ = register_parameter("bias", zeros({3}));
  }
  Tensor forward(const Tensor& x) override { return linear(dropout(x, 0.1, training(), gen_), w_, b_); }
  std::string type() const override { return "Tiny"; }

 private:
  Generator* gen_;
  Tensor w_, b_;
};

// p -= lr * (grad + momentum buffer), with a step counter as state.
class TinySgd : public optim::Optimizer {
 public:
  using Optimizer::Optimizer;
  void step() override {
    NoGradGuard no_grad;
    ++steps_;
    for (auto& g : groups_)
      for (auto& [name, p] : g.params) {
        if (!p.grad().defined()) continue;
        Tensor& buf = momentum_[name];
        buf = buf.defined() ? buf * Scalar(0.5) + p.grad() : p.grad().clone();
        Tensor param = p;
        param.sub_(buf * Scalar(g.lr));
      }
  }
  std::map<std::string, Tensor> state_dict() const override {
    std::map<std::string, Tensor> out = {{"steps", scalar_tensor(steps_, DType::i64)}};
    for (const auto& [name, t] : momentum_) out["momentum." + name] = t;
    return out;
  }
  void load_state_dict(const std::map<std::string, Tensor>& state) override {
    DLT_CHECK(state.count("steps"), "optimizer state has no \"steps\"");
    steps_ = state.at("steps").item<int64_t>();
    momentum_.clear();
    for (const auto& [name, t] : state)
      if (name.rfind("momentum.", 0) == 0) momentum_[name.substr(9)] = t.clone();
  }

 private:
  int64_t steps_ = 0;
  std::map<std::string, Tensor> momentum_;
};

std::string write_data(const TempDir& tmp) {
  const std::string path = tmp.path("data.h5");
  data::H5Writer w(path);
  constexpr int64_t N = 40;
  std::vector<float> x(N * 4);
  std::vector<int64_t> y(N);
  for (int64_t i = 0; i < N; ++i) {
    for (int64_t f = 0; f < 4; ++f) x[size_t(i * 4 + f)] = float((i * 13 + f * 29) % 17) / 8.0f - 1;
    y[size_t(i)] = x[size_t(i * 4)] > x[size_t(i * 4 + 1)] ? 0 : (x[size_t(i * 4 + 2)] > 0 ? 1 : 2);
  }
  w.write("x", DType::f32, {N, 4}, x.data());
  w.write("y", DType::i64, {N}, y.data());
  w.commit();
  return path;
}

struct TinyRun {
  std::unique_ptr<Generator> gen = std::make_unique<Generator>(11);
  std::shared_ptr<TinyModel> model = std::make_shared<TinyModel>(gen.get());
  std::unique_ptr<Trainer> trainer;
};

TinyRun make_run(const std::string& data_file, const fs::path& dir, TrainerOptions o, double lr = 0.1) {
  TinyRun r;
  TrainerParts p;
  p.model = r.model;
  p.optimizer = std::make_unique<TinySgd>(std::vector<optim::ParamGroup>{
      {.params = r.model->named_parameters(), .lr = lr, .base_lr = lr}});
  p.lr_factor = [](int64_t step) { return 1.0 / (1.0 + 0.1 * double(step)); };
  p.generators = {{"model", r.gen.get()}};
  auto ds = std::make_shared<data::ArrayDataset>(data_file, std::vector<std::string>{"x", "y"});
  p.train_data = ds;
  p.train_loader.batch_size = 6;  // 7 batches per epoch, the last one short
  p.train_loader.workers = 2;
  p.train_loader.sampler.seed = 5;
  p.val_data = ds;
  p.val_loader.batch_size = 16;
  p.val_loader.sampler.shuffle = data::Shuffle::none;
  r.trainer = std::make_unique<Trainer>(std::move(p), o, dir, dir / "checkpoints", CheckpointPolicy{.keep = 10},
                                        stderr);
  return r;
}

TrainerOptions options(int64_t steps) {
  TrainerOptions o;
  o.total_steps = steps;
  o.grad_accum = 2;
  o.clip_grad_norm = 1.0;
  o.log_every = 1;
  o.checkpoint_every = 4;
  o.eval_every = 5;
  o.seed = 9;
  o.config_hash = "h1";
  o.progress_interval_s = 0;
  return o;
}

std::vector<std::string> losses(const fs::path& dir) {
  std::vector<std::string> out;
  for (const Json& j : read_metrics(dir / "metrics.jsonl"))
    if (j.at("split").as_string("split") == "train")
      out.push_back(fmt::format("{} {}", j.at("step").as_int("step"), j.at("loss").dump()));
  return out;
}

TEST(Trainer, ResumeRepeatsTheUninterruptedRunBitForBit) {
  TempDir tmp;
  const std::string data = write_data(tmp);
  const fs::path a = tmp.path("a"), b = tmp.path("b");
  TinyRun ra = make_run(data, a, options(13));
  const TrainResult done = ra.trainer->run();
  EXPECT_EQ(done.step, 13);
  ASSERT_TRUE(done.last_eval);
  EXPECT_EQ(losses(a).size(), 13u);

  // b: a's checkpoint of step 8 (mid-epoch: 16 batches of 7 per epoch), with
  // metrics up to step 9 that the resumed run must replace.
  fs::create_directories(b / "checkpoints");
  fs::copy(a / "checkpoints/step-8", b / "checkpoints/step-8", fs::copy_options::recursive);
  std::string kept;
  for (const Json& j : read_metrics(a / "metrics.jsonl"))
    if (j.at("step").as_int("step") <= 9) kept += j.dump() + "\n";
  data::testing::write_file((b / "metrics.jsonl").string(), kept);
  TinyRun rb = make_run(data, b, options(13));
  rb.trainer->resume();
  EXPECT_EQ(rb.trainer->step(), 8);
  rb.trainer->run();
  EXPECT_EQ(losses(b), losses(a));
  EXPECT_EQ(read_file(b / "checkpoints/step-13/model.safetensors"), read_file(a / "checkpoints/step-13/model.safetensors"));
  EXPECT_EQ(read_file(b / "checkpoints/step-13/optimizer.safetensors"),
            read_file(a / "checkpoints/step-13/optimizer.safetensors"));
  const Checkpoint last = load_checkpoint(b / "checkpoints/step-13");
  EXPECT_EQ(last.state, load_checkpoint(a / "checkpoints/step-13").state);
  EXPECT_TRUE(last.state.metrics.count("val/accuracy"));
  EXPECT_TRUE(last.state.rngs.count("model"));
}

TEST(Trainer, EvaluatesAtEveryIntervalAndEpochEnd) {
  TempDir tmp;
  const std::string data = write_data(tmp);
  TinyRun r = make_run(data, tmp.path("run"), options(8));  // an epoch is 3.5 steps: ends after steps 4 and 7
  r.trainer->run();
  std::vector<int64_t> val_steps;
  for (const Json& j : read_metrics(tmp.path("run/metrics.jsonl")))
    if (j.at("split").as_string("split") == "val") {
      val_steps.push_back(j.at("step").as_int("step"));
      EXPECT_GE(j.at("accuracy").as_double("accuracy"), 0.0);
    }
  EXPECT_EQ(val_steps, (std::vector<int64_t>{4, 5, 7, 8}));
}

TEST(Trainer, ANonFiniteLossStopsNamingTheStepOrIsSkipped) {
  TempDir tmp;
  const std::string data = write_data(tmp);
  TrainerOptions o = options(6);
  o.clip_grad_norm = 0;
  TinyRun r = make_run(data, tmp.path("stop"), o, 1e39);
  expect_error([&] { r.trainer->run(); }, {"step ", "is nan", "on_nonfinite: skip"});
  o.skip_nonfinite = true;
  TinyRun s = make_run(data, tmp.path("skip"), o, 1e39);
  EXPECT_EQ(s.trainer->run().step, 6);
}

TEST(Trainer, ASignalFinishesTheStepAndCheckpoints) {
  TempDir tmp;
  const std::string data = write_data(tmp);
  TrainerOptions o = options(50);
  o.checkpoint_every = 0;
  TinyRun r = make_run(data, tmp.path("run"), o);
  install_stop_handlers();
  ASSERT_EQ(testing::send_stop_signal(SIGTERM), StopRequest::terminate);  // arrives before the first step ends
  const TrainResult res = r.trainer->run();
  restore_default_handlers();
  clear_stop_request();
  EXPECT_EQ(res.stopped, StopRequest::terminate);
  EXPECT_EQ(res.step, 1);
  EXPECT_EQ(CheckpointStore(tmp.path("run/checkpoints")).steps(), (std::vector<int64_t>{1}));
}

TEST(TrainerBadInput, RefusesAnotherConfigModelOrAFreshRunOverCheckpoints) {
  TempDir tmp;
  const std::string data = write_data(tmp);
  const fs::path dir = tmp.path("run");
  make_run(data, dir, options(4)).trainer->run();
  expect_error([&] { make_run(data, dir, options(4)).trainer->run(); },
               {"already has checkpoints (step-4)", "--resume"});
  TrainerOptions other = options(4);
  other.config_hash = "h2";
  expect_error([&] { make_run(data, dir, other).trainer->resume(); },
               {"step-4 was made with a different configuration (config hash h1, this run h2)"});
  expect_error([&] { make_run(data, tmp.path("none"), options(4)).trainer->resume(); }, {"--resume: no checkpoint in"});
  data::testing::write_file(tmp.path("file"), "");
  expect_error([&] { make_run(data, tmp.path("file/run"), options(4)); }, {"cannot create the run folder"});

  // Another model: the tiny model's tensors under another name.
  TensorMap wrong = {{"weight", zeros({3, 5})}, {"bias", zeros({3})}};
  save_safetensors(tmp.path("wrong.safetensors"), wrong);
  fs::create_directories(tmp.path("other"));
  fs::copy(tmp.path("wrong.safetensors"), tmp.path("other/model.safetensors"));
  TinyRun r = make_run(data, tmp.path("x"), options(4));
  expect_error([&] { Trainer::load_model(*r.model, tmp.path("other")); },
               {"other/model.safetensors does not match the model: different weight (saved [3, 5] float32, expected [3, 4]"});
}

}  // namespace
}  // namespace dlt::train
