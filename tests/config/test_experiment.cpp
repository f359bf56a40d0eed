// The experiment spec: defaults, every section, --set overrides, every
// error (with its file:line:col or --set argument) and the resolved-config
// round trip.
#include <gtest/gtest.h>

#include <fstream>

#include "dlt/config/experiment.h"
#include "dlt/core/device_runtime.h"
#include "tests/data/fixtures.h"
#include "tests/test_util.h"

namespace dlt::config {
namespace {

// The message of the dlt::Error that f throws ("" if none).
template <class F> std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// A small valid experiment; tests append or override what they need.
const std::string kBase = R"(data:
  file: data/fashion.h5
  train: {x: train/images, y: train/labels}
  val: {x: test/images, y: test/labels}
model:
  - {type: Flatten}
  - {type: Linear, out: 64}
optim:
  name: sgd
  lr: 0.1
train:
  epochs: 2
)";

ExperimentSpec parse(const std::string& text, const std::vector<std::string>& sets = {}) {
  return load_experiment_string(text, "exp.yaml", sets);
}

std::string parse_error(const std::string& text, const std::vector<std::string>& sets = {}) {
  return error_of([&] { parse(text, sets); });
}

// kBase with `section:` replaced by `replacement` (a whole top-level block).
std::string with_section(const std::string& section, const std::string& replacement) {
  std::string text = "\n" + kBase;
  const size_t start = text.find("\n" + section + ":") + 1;
  size_t end = text.find('\n', start);
  while (end + 1 < text.size() && text[end + 1] == ' ') end = text.find('\n', end + 1);
  return text.replace(start, end + 1 - start, replacement).substr(1);
}

TEST(Experiment, DefaultsAreFilledIn) {
  const ExperimentSpec s = parse(kBase);
  EXPECT_EQ(s.source, "exp.yaml");
  EXPECT_EQ(s.name, "exp");  // the file's stem
  EXPECT_EQ(s.seed, 0);
  EXPECT_EQ(s.run_dir, "runs/exp");
  EXPECT_EQ(s.data.file, "data/fashion.h5");
  EXPECT_EQ(s.data.kind, DataKind::array);
  EXPECT_EQ(s.data.train, (SplitSpec{"train/images", "train/labels"}));
  ASSERT_TRUE(s.data.val.has_value());
  EXPECT_EQ(s.data.val->y, "test/labels");
  EXPECT_EQ(s.data.batch_size, 32);
  EXPECT_EQ(s.data.workers, 2);
  EXPECT_EQ(s.data.shuffle, ShuffleKind::full);
  EXPECT_TRUE(s.data.to_float);
  EXPECT_TRUE(s.data.mean.empty());
  EXPECT_EQ(s.data.augment, AugmentSpec{});
  EXPECT_TRUE(s.model.is_sequence());
  EXPECT_EQ(s.model.size(), 2u);
  EXPECT_EQ(s.model.at(1).path(), "model[1]");
  EXPECT_EQ(s.loss, LossSpec{});
  EXPECT_EQ(s.optim.name, OptimKind::sgd);
  EXPECT_DOUBLE_EQ(s.optim.lr, 0.1);
  EXPECT_EQ(s.optim.weight_decay, 0);
  EXPECT_EQ(s.schedule.name, ScheduleKind::constant);
  EXPECT_DOUBLE_EQ(s.schedule.max_lr, 0.1);
  EXPECT_EQ(s.train.epochs, 2);
  EXPECT_EQ(s.train.steps, 0);
  EXPECT_EQ(s.train.device, "auto");
  EXPECT_EQ(s.train.precision, Precision::f32);
  EXPECT_EQ(s.train.on_nonfinite, NonFinite::stop);
  EXPECT_EQ(s.train.grad_accum, 1);
  EXPECT_EQ(s.checkpoint.keep, 3);
  EXPECT_FALSE(s.checkpoint.best.has_value());
  EXPECT_EQ(s.checkpoint.dir, "runs/exp/checkpoints");
  EXPECT_TRUE(s.expect.is_null());
}

TEST(Experiment, ReadsEverySection) {
  const ExperimentSpec s = parse(R"(name: cnn-1
seed: 7
run_dir: /scratch/runs/cnn
data:
  file: f.h5
  train: {x: a, y: b}
  val: {x: c, y: d}
  batch_size: 64
  workers: 4
  prefetch: 3
  shuffle: chunked
  drop_last: true
  to_float: true
  mean: [0.5, 0.4, 0.3]
  std: 0.25
  augment: {crop_padding: 4, hflip: true}
model: {type: Linear, out: 10}
loss: {name: cross_entropy, label_smoothing: 0.1, ignore_index: 3}
optim:
  name: adamw
  lr: 3e-4
  betas: [0.8, 0.95]
  eps: 1e-6
  no_decay: [bias, norm]
schedule: {name: cosine, warmup_steps: 100, min_lr: 1e-5}
train:
  steps: 1000
  eval_every: 200
  log_every: 10
  device: cpu
  precision: tf32
  grad_clip: 1.0
  grad_accum: 4
  on_nonfinite: skip
  threads: 2
checkpoint:
  every: 500
  keep: 2
  best: {metric: val/loss}
expect:
  val/accuracy: {min: 0.85}
)");
  EXPECT_EQ(s.name, "cnn-1");
  EXPECT_EQ(s.seed, 7);
  EXPECT_EQ(s.run_dir, "/scratch/runs/cnn");
  EXPECT_EQ(s.data.batch_size, 64);
  EXPECT_EQ(s.data.workers, 4);
  EXPECT_EQ(s.data.prefetch, 3);
  EXPECT_EQ(s.data.shuffle, ShuffleKind::chunked);
  EXPECT_TRUE(s.data.drop_last);
  EXPECT_EQ(s.data.mean, (std::vector<double>{0.5, 0.4, 0.3}));
  EXPECT_EQ(s.data.std, (std::vector<double>{0.25}));
  EXPECT_EQ(s.data.augment, (AugmentSpec{4, true}));
  EXPECT_TRUE(s.model.is_map());
  EXPECT_EQ(s.loss, (LossSpec{LossKind::cross_entropy, 0.1, 3}));
  EXPECT_EQ(s.optim.name, OptimKind::adamw);
  EXPECT_DOUBLE_EQ(s.optim.lr, 3e-4);
  EXPECT_DOUBLE_EQ(s.optim.weight_decay, 0.01);  // AdamW's default
  EXPECT_DOUBLE_EQ(s.optim.beta1, 0.8);
  EXPECT_DOUBLE_EQ(s.optim.beta2, 0.95);
  EXPECT_DOUBLE_EQ(s.optim.eps, 1e-6);
  EXPECT_EQ(s.optim.no_decay, (std::vector<std::string>{"bias", "norm"}));
  EXPECT_EQ(s.schedule.name, ScheduleKind::cosine);
  EXPECT_EQ(s.schedule.warmup_steps, 100);
  EXPECT_DOUBLE_EQ(s.schedule.min_lr, 1e-5);
  EXPECT_EQ(s.train.steps, 1000);
  EXPECT_EQ(s.train.epochs, 0);
  EXPECT_EQ(s.train.eval_every, 200);
  EXPECT_EQ(s.train.device, "cpu");
  EXPECT_EQ(s.train.precision, Precision::tf32);
  EXPECT_DOUBLE_EQ(s.train.grad_clip, 1.0);
  EXPECT_EQ(s.train.grad_accum, 4);
  EXPECT_EQ(s.train.on_nonfinite, NonFinite::skip);
  EXPECT_EQ(s.train.threads, 2);
  EXPECT_EQ(s.checkpoint.every, 500);
  EXPECT_EQ(s.checkpoint.keep, 2);
  ASSERT_TRUE(s.checkpoint.best.has_value());
  EXPECT_EQ(*s.checkpoint.best, (BestSpec{"val/loss", BestMode::min}));  // min: a loss
  EXPECT_EQ(s.checkpoint.dir, "/scratch/runs/cnn/checkpoints");
  EXPECT_TRUE(s.expect.is_map());
}

TEST(Experiment, TokensAndShorthands) {
  const ExperimentSpec s = parse(R"(data:
  file: kjv.h5
  kind: tokens
  train: {x: train}
  val: {x: val}
  block_size: 128
  random_offsets: true
model: [{type: GPT}]
loss: cross_entropy
optim: {name: adam, lr: 0.001}
schedule: onecycle
train: {steps: 10}
checkpoint: {best: val/perplexity}
)");
  EXPECT_EQ(s.data.kind, DataKind::tokens);
  EXPECT_EQ(s.data.train.x, "train");
  EXPECT_EQ(s.data.train.y, "");
  EXPECT_EQ(s.data.block_size, 128);
  EXPECT_TRUE(s.data.random_offsets);
  EXPECT_FALSE(s.data.to_float);
  EXPECT_EQ(s.loss.name, LossKind::cross_entropy);
  EXPECT_EQ(s.schedule.name, ScheduleKind::onecycle);
  EXPECT_DOUBLE_EQ(s.schedule.max_lr, 0.001);
  EXPECT_EQ(*s.checkpoint.best, (BestSpec{"val/perplexity", BestMode::min}));
}

TEST(Experiment, OverridesReplaceAddAndIndex) {
  const ExperimentSpec s =
      parse(kBase, {"optim.lr=0.02", "train.epochs=3", "model[1].out=256", "data.augment.hflip=true",
                    "schedule={name: step, step_size: 10}", "optim.momentum=0.9",
                    "optim.momentum=0.5", "name=tuned", "data.val.y=test/y"});
  EXPECT_DOUBLE_EQ(s.optim.lr, 0.02);
  EXPECT_EQ(s.train.epochs, 3);
  EXPECT_EQ(s.model.at(1).get<int64_t>("out"), 256);
  EXPECT_TRUE(s.data.augment.hflip);  // `augment:` did not exist: created
  EXPECT_EQ(s.schedule.name, ScheduleKind::step);
  EXPECT_EQ(s.schedule.step_size, 10);
  EXPECT_DOUBLE_EQ(s.optim.momentum, 0.5);  // the last --set wins
  EXPECT_EQ(s.name, "tuned");
  EXPECT_EQ(s.run_dir, "runs/tuned");
  EXPECT_EQ(s.data.val->y, "test/y");

  // Indices into a list under a key; an empty value means "the default".
  const std::string layered = with_section("model", "model:\n  layers:\n    - {type: Linear, out: 8}\n");
  EXPECT_EQ(parse(layered, {"model.layers[0].out=16"}).model.at("layers").at(0).get<int64_t>("out"), 16);
  EXPECT_EQ(parse(kBase, {"data.batch_size=7", "data.batch_size="}).data.batch_size, 32);
  // The file's own text is untouched by an override elsewhere.
  EXPECT_EQ(parse(kBase, {"seed=3"}).model.at(1).get<int64_t>("out"), 64);
}

TEST(Experiment, OverrideErrorsNameTheArgument) {
  EXPECT_EQ(parse_error(kBase, {"optim.lr"}),
            "--set optim.lr: expected key.path=value (e.g. optim.lr=0.02 or model.layers[1].out=256)");
  EXPECT_EQ(parse_error(kBase, {"=3"}),
            "--set =3: expected key.path=value (e.g. optim.lr=0.02 or model.layers[1].out=256)");
  EXPECT_EQ(parse_error(kBase, {"optim..lr=3"}),
            "--set optim..lr=3: expected key.path=value (e.g. optim.lr=0.02 or model.layers[1].out=256)");
  EXPECT_EQ(parse_error(kBase, {"model[x].out=3"}),
            "--set model[x].out=3: expected key.path=value (e.g. optim.lr=0.02 or model.layers[1].out=256)");
  EXPECT_EQ(parse_error(kBase, {"optim.lrr=0.1"}),
            "--set optim.lrr=0.1: optim: unknown key 'lrr'; did you mean 'lr'?");
  EXPECT_EQ(parse_error(kBase, {"optm.lr=0.1"}),
            "--set optm.lr=0.1: unknown key 'optm'; did you mean 'optim'?");
  EXPECT_EQ(parse_error(kBase, {"optim.lr=fast"}),
            "--set optim.lr=fast: optim.lr: expected a number, got 'fast'");
  EXPECT_EQ(parse_error(kBase, {"optim.lr=-1"}), "--set optim.lr=-1: optim.lr: must be > 0, got -1");
  EXPECT_EQ(parse_error(kBase, {"optim.lr=[1"}),
            "--set optim.lr=[1: invalid YAML value: end of sequence flow not found");
  EXPECT_EQ(parse_error(kBase, {"model[5].out=3"}),
            "--set model[5].out=3: model[5]: index out of range (the list has 2 elements)");
  EXPECT_EQ(parse_error(kBase, {"optim.lr.x=3"}),
            "--set optim.lr.x=3: optim.lr is '0.1', not a map with key 'x'");
  EXPECT_EQ(parse_error(kBase, {"optim[0]=3"}), "--set optim[0]=3: optim is a map, not a list");
  EXPECT_EQ(parse_error("7\n", {"seed=3"}), "--set seed=3: the document is '7', not a map with key 'seed'");
  EXPECT_EQ(parse_error(kBase, {"loss.weights[0]=3"}),
            "--set loss.weights[0]=3: loss does not exist, so it has no element [0]");
  // A value that is fine in itself but breaks a rule with the file's values.
  EXPECT_EQ(parse_error(kBase, {"train.steps=10"}),
            "--set train.steps=10: train.steps: give either epochs or steps, not both");
}

TEST(Experiment, UnknownKeysSuggestTheClosest) {
  EXPECT_EQ(parse_error(kBase + "schedul: cosine\n"),
            "exp.yaml:13:1: unknown key 'schedul'; did you mean 'schedule'?");
  EXPECT_EQ(parse_error(with_section("optim", "optim: {name: sgd, lr: 0.1, momentun: 0.9}\n")),
            "exp.yaml:8:29: optim: unknown key 'momentun'; did you mean 'momentum'?");
  EXPECT_EQ(parse_error(with_section("train", "train: {epoch: 3}\n")),
            "exp.yaml:11:9: train: unknown key 'epoch'; did you mean 'epochs'?");
  EXPECT_EQ(parse_error(with_section("data", "data: {file: f, batchsize: 3, train: {x: a, y: b}}\n")),
            "exp.yaml:1:17: data: unknown key 'batchsize'; did you mean 'batch_size'?");
  EXPECT_EQ(parse_error(kBase + "checkpoint: {every: 1, bset: val/loss}\n"),
            "exp.yaml:13:24: checkpoint: unknown key 'bset'; did you mean 'best'?");
  EXPECT_EQ(parse_error(kBase + "zzz: 1\n"),
            "exp.yaml:13:1: unknown key 'zzz' (expected one of: name, seed, run_dir, data, model, "
            "loss, optim, schedule, train, checkpoint, logging, expect)");
}

TEST(Experiment, OptionsOfAnotherVariant) {
  EXPECT_EQ(parse_error(with_section("optim", "optim: {name: sgd, lr: 0.1, betas: [0.9, 0.99]}\n")),
            "exp.yaml:8:36: optim.betas: not an option of sgd (its options: name, lr, momentum, "
            "nesterov, weight_decay, no_decay)");
  EXPECT_EQ(parse_error(with_section("optim", "optim: {name: adam, lr: 0.1, momentum: 0.9}\n")),
            "exp.yaml:8:40: optim.momentum: not an option of adam (its options: name, lr, betas, "
            "eps, weight_decay, no_decay)");
  EXPECT_EQ(parse_error(kBase + "schedule: {name: onecycle, warmup_steps: 5}\n"),
            "exp.yaml:13:42: schedule.warmup_steps: not an option of onecycle (its options: name, "
            "max_lr, pct_start, div_factor, final_div_factor)");
  EXPECT_EQ(parse_error(kBase + "loss: {name: mse, label_smoothing: 0.1}\n"),
            "exp.yaml:13:36: loss.label_smoothing: not an option of mse (its options: name)");
  EXPECT_EQ(parse_error(with_section("data", "data: {file: f, block_size: 8, train: {x: a, y: b}}\n")),
            "exp.yaml:1:29: data.block_size: not an option of kind: array (its options: file, kind, "
            "train, val, batch_size, workers, prefetch, shuffle, drop_last, to_float, mean, std, "
            "augment)");
  EXPECT_EQ(parse_error(with_section(
                "data", "data: {file: f, kind: tokens, block_size: 8, train: {x: a}, hflip: 1}\n")),
            "exp.yaml:1:61: data: unknown key 'hflip' (expected one of: file, kind, train, val, "
            "batch_size, workers, prefetch, shuffle, drop_last, to_float, mean, std, augment, "
            "block_size, random_offsets)");
  EXPECT_EQ(parse_error(with_section(
                "data", "data: {file: f, kind: tokens, block_size: 8, train: {x: a, y: b}}\n")),
            "exp.yaml:1:63: data.train.y: tokens data has no y key: y is the token stream x "
            "shifted by one");
}

TEST(Experiment, WrongTypes) {
  EXPECT_EQ(parse_error(with_section("train", "train: {epochs: ten}\n")),
            "exp.yaml:11:17: train.epochs: expected an integer, got 'ten'");
  EXPECT_EQ(parse_error(with_section("optim", "optim: {name: sgd, lr: \"0.1\"}\n")),
            "exp.yaml:8:24: optim.lr: expected a number, got '0.1' (a quoted string)");
  EXPECT_EQ(parse_error(kBase + "seed: [1]\n"), "exp.yaml:13:7: seed: expected an integer, got a list");
  EXPECT_EQ(parse_error(with_section("optim", "optim: {name: sgd, lr: 0.1, nesterov: maybe}\n")),
            "exp.yaml:8:39: optim.nesterov: expected true or false, got 'maybe'");
  EXPECT_EQ(parse_error(with_section("optim", "optim: {name: adma, lr: 0.1}\n")),
            "exp.yaml:8:15: optim.name: expected one of sgd, adam, adamw, rmsprop, got 'adma'; "
            "did you mean 'adam'?");
  EXPECT_EQ(parse_error(with_section("optim", "optim: {name: adam, lr: 0.1, betas: 0.9}\n")),
            "exp.yaml:8:37: optim.betas: expected [beta1, beta2], e.g. [0.9, 0.999]");
  EXPECT_EQ(parse_error(with_section("optim", "optim: {name: sgd, lr: 0.1, no_decay: [bias, bn]}\n")),
            "exp.yaml:8:46: optim.no_decay[1]: expected one of bias, norm, got 'bn'");
  EXPECT_EQ(parse_error(with_section("train", "train: {epochs: 1, device: gpu}\n")),
            "exp.yaml:11:28: train.device: expected cpu, cuda, cuda:N or auto, got 'gpu'");
  EXPECT_EQ(parse_error(with_section("train", "train: {epochs: 1, device: \"cuda:\"}\n")),
            "exp.yaml:11:28: train.device: expected cpu, cuda, cuda:N or auto, got 'cuda:'");
  EXPECT_EQ(parse_error(with_section("train", "train: {epochs: 1, precision: f8}\n")),
            "exp.yaml:11:31: train.precision: expected one of f32, tf32, bf16, fp16, got 'f8'");
  EXPECT_EQ(parse_error(with_section("train", "train: {epochs: 1, device: cpu, precision: fp16}\n")),
            "exp.yaml:11:44: train.precision: fp16 needs a GPU (train.device cpu runs on the CPU, where oneDNN "
            "has no fp16 matrix products); use bf16 on the CPU");
  EXPECT_EQ(parse_error(with_section("train", "train: 5\n")), "exp.yaml:11:8: train: expected a map, got '5'");
  EXPECT_EQ(parse_error(with_section("model", "model: Linear\n")),
            "exp.yaml:5:8: model: expected a list of layers or one layer map (with type:), got "
            "'Linear'");
  EXPECT_EQ(parse_error(with_section("model", "model: []\n")), "exp.yaml:5:8: model: the model has no layers");
  EXPECT_EQ(parse_error("- 1\n"), "exp.yaml:1:1: expected a map, got a list");
  EXPECT_EQ(parse_error(""), "exp.yaml: the experiment is empty (expected a map with data, model, "
                             "optim and train)");
  EXPECT_EQ(parse_error(kBase + "name: my run\n"),
            "exp.yaml:13:7: name: 'my run' may only use letters, digits, '.', '_' and '-' (it "
            "names the run folder)");
  EXPECT_EQ(error_of([] { load_experiment_string(kBase, "my exp.yaml"); }),
            "my exp.yaml:1:1: the file name 'my exp' cannot name the run folder: set name: explicitly");
}

// An explicit GPU must be usable where the file is read; auto falls back to
// the CPU without one.
TEST(Experiment, DeviceMustBeUsable) {
  const int gpus = dlt::device_count(dlt::DeviceType::cuda);
  const std::string reason = gpus == 0 ? dlt::device_unavailable_reason(dlt::DeviceType::cuda)
                                       : fmt::format("this machine has {} CUDA device{} (cuda:0 to cuda:{})",
                                                     gpus, gpus == 1 ? "" : "s", gpus - 1);
  EXPECT_EQ(parse_error(with_section("train", "train: {epochs: 1, device: \"cuda:9\"}\n")),
            "exp.yaml:11:28: train.device: cuda:9 is not usable: " + reason);
  if (gpus == 0) {
    EXPECT_EQ(parse_error(with_section("train", "train: {epochs: 1, device: cuda}\n")),
              "exp.yaml:11:28: train.device: cuda is not usable: " + reason);
    EXPECT_EQ(parse_error(kBase, {"train.device=cuda:0"}),
              "--set train.device=cuda:0: train.device: cuda:0 is not usable: " + reason);
  } else {
    EXPECT_EQ(parse(with_section("train", "train: {epochs: 1, device: cuda}\n")).train.device, "cuda");
  }
  EXPECT_EQ(parse(with_section("train", "train: {epochs: 1, device: auto}\n")).train.device, "auto");
  EXPECT_EQ(train_device("auto"), gpus > 0 ? dlt::Device::cuda(0) : dlt::Device::cpu());
  EXPECT_EQ(train_device("cpu"), dlt::Device::cpu());
  EXPECT_EQ(train_device("cuda:0"), dlt::Device::cuda(0));
}

TEST(Experiment, OutOfRangeValues) {
  EXPECT_EQ(parse_error(kBase, {"optim.lr=0"}), "--set optim.lr=0: optim.lr: must be > 0, got 0");
  EXPECT_EQ(parse_error(with_section("optim", "optim: {name: sgd, lr: .nan}\n")),
            "exp.yaml:8:24: optim.lr: must be > 0, got nan");
  EXPECT_EQ(parse_error(kBase, {"data.batch_size=0"}),
            "--set data.batch_size=0: data.batch_size: must be >= 1, got 0");
  EXPECT_EQ(parse_error(kBase, {"data.workers=0"}), "--set data.workers=0: data.workers: must be >= 1, got 0");
  EXPECT_EQ(parse_error(kBase, {"loss.label_smoothing=1"}),
            "--set loss.label_smoothing=1: loss.label_smoothing: must be in [0, 1), got 1");
  EXPECT_EQ(parse_error(kBase, {"optim.momentum=1.5"}),
            "--set optim.momentum=1.5: optim.momentum: must be in [0, 1), got 1.5");
  EXPECT_EQ(parse_error(kBase, {"optim.weight_decay=-0.1"}),
            "--set optim.weight_decay=-0.1: optim.weight_decay: must be >= 0, got -0.1");
  EXPECT_EQ(parse_error(kBase, {"optim.nesterov=true"}),
            "--set optim.nesterov=true: optim.nesterov: needs momentum > 0");
  EXPECT_EQ(parse_error(kBase, {"optim={name: adam, lr: 1, betas: [0.9, 1]}"}),
            "--set optim={name: adam, lr: 1, betas: [0.9, 1]}: optim.betas[1]: must be in [0, 1), got 1");
  EXPECT_EQ(parse_error(kBase, {"optim={name: rmsprop, lr: 1, eps: 0}"}),
            "--set optim={name: rmsprop, lr: 1, eps: 0}: optim.eps: must be > 0, got 0");
  EXPECT_EQ(parse_error(kBase, {"schedule={name: cosine, min_lr: 0.5}"}),
            "--set schedule={name: cosine, min_lr: 0.5}: schedule.min_lr: must be in [0, 0.1], got 0.5");
  EXPECT_EQ(parse_error(kBase, {"schedule={name: onecycle, pct_start: 1}"}),
            "--set schedule={name: onecycle, pct_start: 1}: schedule.pct_start: must be in (0, 1), got 1");
  EXPECT_EQ(parse_error(kBase, {"schedule={name: step, step_size: 0}"}),
            "--set schedule={name: step, step_size: 0}: schedule.step_size: must be >= 1, got 0");
  EXPECT_EQ(parse_error(kBase, {"train.epochs=0"}), "--set train.epochs=0: train.epochs: must be >= 1, got 0");
  EXPECT_EQ(parse_error(kBase, {"train.grad_clip=-1"}),
            "--set train.grad_clip=-1: train.grad_clip: must be >= 0, got -1");
  EXPECT_EQ(parse_error(kBase, {"train.grad_accum=0"}),
            "--set train.grad_accum=0: train.grad_accum: must be >= 1, got 0");
  EXPECT_EQ(parse_error(kBase, {"checkpoint.keep=0"}),
            "--set checkpoint.keep=0: checkpoint.keep: must be >= 1, got 0");
  EXPECT_EQ(parse_error(kBase, {"seed=-1"}), "--set seed=-1: seed: must be >= 0, got -1");
  EXPECT_EQ(parse_error(kBase, {"data.std=[0.5, 0]"}),
            "--set data.std=[0.5, 0]: data.std[1]: must be > 0, got 0");
  EXPECT_EQ(parse_error(kBase, {"data.mean=[1, 2, 3]", "data.std=[1, 2]"}),
            "--set data.std=[1, 2]: data.std: has 2 values but mean has 3 (give one per channel, or "
            "one for all)");
  EXPECT_EQ(parse_error(kBase, {"data.augment.crop_padding=-2"}),
            "--set data.augment.crop_padding=-2: data.augment.crop_padding: must be >= 0, got -2");
}

TEST(Experiment, EpochsOrStepsExactlyOne) {
  EXPECT_EQ(parse_error(with_section("train", "train:\n  epochs: 2\n  steps: 100\n")),
            "exp.yaml:13:10: train.steps: give either epochs or steps, not both");
  EXPECT_EQ(parse_error(with_section("train", "train:\n  log_every: 2\n")),
            "exp.yaml:12:3: train: missing 'epochs' or 'steps' (give exactly one)");
  EXPECT_EQ(parse_error(with_section("train", "train:\n")),
            "exp.yaml:11:1: train: expected a map with epochs or steps, got nothing");
  // Unsetting one of them from the command line switches to the other.
  const ExperimentSpec s = parse(kBase, {"train.epochs=", "train.steps=50"});
  EXPECT_EQ(s.train.steps, 50);
  EXPECT_EQ(s.train.epochs, 0);
}

TEST(Experiment, MissingRequiredKeys) {
  EXPECT_EQ(parse_error(with_section("data", "")), "exp.yaml:1:1: missing required key 'data'");
  EXPECT_EQ(parse_error(with_section("model", "")), "exp.yaml:1:1: missing required key 'model'");
  EXPECT_EQ(parse_error(with_section("optim", "")), "exp.yaml:1:1: missing required key 'optim'");
  EXPECT_EQ(parse_error(with_section("train", "")), "exp.yaml:1:1: missing required key 'train'");
  EXPECT_EQ(parse_error(with_section("data", "data: {train: {x: a, y: b}}\n")),
            "exp.yaml:1:7: data: missing required key 'file'");
  EXPECT_EQ(parse_error(with_section("data", "data: {file: f}\n")),
            "exp.yaml:1:7: data: missing required key 'train'");
  EXPECT_EQ(parse_error(with_section("data", "data: {file: f, train: {x: a}}\n")),
            "exp.yaml:1:24: data.train: missing required key 'y'");
  EXPECT_EQ(parse_error(with_section("data", "data: {file: \"\", train: {x: a, y: b}}\n")),
            "exp.yaml:1:14: data.file: must not be empty");
  EXPECT_EQ(parse_error(with_section("data", "data: {file: f, kind: tokens, train: {x: a}}\n")),
            "exp.yaml:1:7: data: missing required key 'block_size'");
  EXPECT_EQ(parse_error(with_section("optim", "optim: {name: sgd}\n")),
            "exp.yaml:8:8: optim: missing required key 'lr'");
  EXPECT_EQ(parse_error(with_section("optim", "optim: {lr: 0.1}\n")),
            "exp.yaml:8:8: optim: missing required key 'name'");
  EXPECT_EQ(parse_error(kBase + "schedule: {name: step}\n"),
            "exp.yaml:13:11: schedule: missing required key 'step_size'");
}

TEST(Experiment, RulesAcrossSections) {
  const std::string no_val = with_section("data", "data: {file: f, train: {x: a, y: b}}\n");
  EXPECT_EQ(parse_error(no_val + "checkpoint: {best: {metric: val/accuracy}}\n"),
            "exp.yaml:10:29: checkpoint.best.metric: 'val/accuracy' needs data.val (a validation split)");
  EXPECT_EQ(parse_error(no_val + "checkpoint: {best: {}}\n"),
            "exp.yaml:10:20: checkpoint.best: 'val/accuracy' needs data.val (a validation split)");
  EXPECT_EQ(parse(no_val + "checkpoint: {best: train/loss}\n").checkpoint.best->mode, BestMode::min);
  EXPECT_EQ(parse_error(no_val, {"train.eval_every=100"}),
            "--set train.eval_every=100: train.eval_every: evaluation needs data.val (a validation split)");
  EXPECT_EQ(parse_error(kBase + "checkpoint: {best: val/acc}\n"),
            "exp.yaml:13:20: checkpoint.best: expected one of val/loss, val/accuracy, val/perplexity, "
            "train/loss, got 'val/acc'");
  EXPECT_EQ(parse(kBase + "checkpoint: {best: {metric: val/loss, mode: max}}\n").checkpoint.best->mode,
            BestMode::max);
}

// A YAML tree as text that ignores flow or block style but keeps quoting.
std::string canonical(const YAML::Node& n) {
  std::string out;
  if (n.IsMap()) {
    for (const auto& kv : n) out += kv.first.Scalar() + ": " + canonical(kv.second) + ", ";
    return "{" + out + "}";
  }
  if (n.IsSequence()) {
    for (const auto& e : n) out += canonical(e) + ", ";
    return "[" + out + "]";
  }
  if (n.IsNull()) return "~";
  return (n.Tag() == "!" ? "\"" : "") + n.Scalar();
}

// Everything a resolved file holds reads back to the same spec.
void expect_same(const ExperimentSpec& a, const ExperimentSpec& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.seed, b.seed);
  EXPECT_EQ(a.run_dir, b.run_dir);
  EXPECT_EQ(a.data, b.data);
  EXPECT_EQ(canonical(a.model.yaml()), canonical(b.model.yaml()));
  EXPECT_EQ(a.loss, b.loss);
  EXPECT_EQ(a.optim, b.optim);
  EXPECT_EQ(a.schedule, b.schedule);
  EXPECT_EQ(a.train, b.train);
  EXPECT_EQ(a.checkpoint, b.checkpoint);
  EXPECT_EQ(canonical(a.expect.yaml()), canonical(b.expect.yaml()));
  EXPECT_EQ(resolved_yaml(a), resolved_yaml(b));
}

TEST(Experiment, ResolvedYamlReadsBackTheSameSpec) {
  const std::vector<std::vector<std::string>> variants = {
      {},
      {"optim={name: adamw, lr: 3e-4, betas: [0.85, 0.975], no_decay: [bias]}",
       "schedule={name: cosine, warmup_steps: 10, min_lr: 1e-7}", "train.epochs=", "train.steps=9",
       "checkpoint.best=val/loss", "expect={val/accuracy: {min: 0.8}}", "data.mean=[0.1, 0.2]",
       "data.std=0.3", "loss={name: cross_entropy, label_smoothing: 0.05}"},
      {"optim={name: rmsprop, lr: 0.01, momentum: 0.5}", "schedule={name: onecycle, max_lr: 0.1}",
       "loss=mse", "name=007", "model[0].note=\"12\"", "data.file=\"a: b.h5\""},
      {"optim={name: sgd, lr: 0.1, momentum: 0.9, nesterov: true}",
       "schedule={name: step, step_size: 3, gamma: 0.5}", "train.device=cpu",
       "train.on_nonfinite=skip", "checkpoint.dir=/tmp/ck"},
  };
  for (const auto& sets : variants) {
    SCOPED_TRACE(::testing::PrintToString(sets));
    const ExperimentSpec spec = parse(kBase, sets);
    const std::string text = resolved_yaml(spec);
    const ExperimentSpec again = load_experiment_string(text, "exp.yaml");
    EXPECT_NE(canonical(spec.model.yaml()), "");
    expect_same(spec, again);
    EXPECT_EQ(config_hash(spec), config_hash(again));
  }
  // Quoted model values stay strings.
  const ExperimentSpec quoted = parse(kBase, {"model[0].note=\"12\""});
  const ExperimentSpec back = load_experiment_string(resolved_yaml(quoted), "exp.yaml");
  EXPECT_EQ(error_of([&] { back.model.at(0).get<int64_t>("note"); }),
            "exp.yaml:27:11: model[0].note: expected an integer, got '12' (a quoted string)");
}

TEST(Experiment, ResolvedYamlSpellsOutDefaults) {
  const std::string text = resolved_yaml(parse(kBase));
  for (const char* piece : {"name: exp\n", "run_dir: runs/exp\n", "batch_size: 32\n", "shuffle: full\n",
                            "momentum: 0\n", "nesterov: false\n", "warmup_steps: 0\n", "device: auto\n",
                            "on_nonfinite: stop\n", "dir: runs/exp/checkpoints\n", "epochs: 2\n",
                            "  - type: Linear\n    out: 64\n"})
    EXPECT_NE(text.find(piece), std::string::npos) << piece << " not in:\n" << text;
  EXPECT_EQ(text.find("betas"), std::string::npos) << "sgd has no betas:\n" << text;
  EXPECT_EQ(text.find("expect"), std::string::npos);
}

TEST(Experiment, ConfigHashIsStableAndSensitive) {
  const uint64_t h = config_hash(parse(kBase));
  EXPECT_EQ(h, config_hash(parse(kBase)));
  // Writing a default out explicitly is the same configuration.
  EXPECT_EQ(h, config_hash(parse(kBase, {"data.batch_size=32"})));
  EXPECT_NE(h, config_hash(parse(kBase, {"optim.lr=0.2"})));
  EXPECT_NE(h, config_hash(parse(kBase, {"model[1].out=65"})));
}

TEST(Experiment, LoadsFilesWithOverrides) {
  data::testing::TempDir dir;
  const std::string path = dir.path("fashion_mlp.yaml");
  std::ofstream(path) << kBase;
  const ExperimentSpec s = load_experiment(path, {"optim.lr=0.02"});
  EXPECT_EQ(s.name, "fashion_mlp");
  EXPECT_EQ(s.source, path);
  EXPECT_DOUBLE_EQ(s.optim.lr, 0.02);

  std::ofstream(dir.path("bad.yaml")) << kBase << "optim: {name: sgd, lr: 1}\n";
  EXPECT_EQ(error_of([&] { load_experiment(dir.path("bad.yaml")); }),
            dir.path("bad.yaml") + ":13:1: duplicate key 'optim'");
  EXPECT_EQ(error_of([&] { load_experiment(dir.path("missing.yaml")); }),
            "cannot open '" + dir.path("missing.yaml") + "': No such file or directory");
  std::ofstream(dir.path("syntax.yaml")) << "data: {file: f\n";
  dlt::testing::expect_error([&] { load_experiment(dir.path("syntax.yaml")); },
                             {dir.path("syntax.yaml") + ":", ": invalid YAML: "});
}

}  // namespace
}  // namespace dlt::config
