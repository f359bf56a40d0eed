// The experiment spec: one YAML file (plus --set overrides) read into plain
// structs, validated, with every default filled in. Errors point at
// file:line:col (or name the --set argument a value came from).
//
//   name: fashion_mlp
//   seed: 0
//   data:
//     file: data/fashion_mnist.h5
//     train: {x: train/images, y: train/labels}
//     val: {x: test/images, y: test/labels}
//     batch_size: 128
//   model:
//     - {type: Flatten}
//     - {type: Linear, out: 256}
//     - {type: ReLU}
//     - {type: Linear, out: 10}
//   optim: {name: adamw, lr: 0.001}
//   schedule: {name: cosine, warmup_steps: 100}
//   train: {epochs: 5, eval_every: 500}
//   checkpoint: {every: 1000, keep: 3, best: {metric: val/accuracy}}
//
// The model stays a config::Node: the layer registry (nn) reads it; config
// knows nothing of layers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <string_view>
#include <vector>

#include "dlt/config/yaml_reader.h"
#include "dlt/core/device.h"

namespace dlt::config {

// ---- data ----

enum class DataKind { array, tokens };
enum class ShuffleKind { full, chunked, none };

// HDF5 dataset keys of one split.
struct SplitSpec {
  std::string x;  // required. array: the inputs, (N, ...); tokens: the 1-D token stream
  std::string y;  // array: required, the targets (N, ...); tokens: not allowed (y is x shifted by one)

  bool operator==(const SplitSpec&) const = default;
};

struct AugmentSpec {
  int64_t crop_padding = 0;  // > 0: random crop of the original size after zero-padding
                             // this many pixels per side; 0: no crop
  bool hflip = false;        // mirror left-right with probability 1/2

  bool operator==(const AugmentSpec&) const = default;
};

struct DataSpec {
  std::string file;                // required: the HDF5 file (relative to the working directory)
  DataKind kind = DataKind::array; // array: samples x[i], y[i]; tokens: windows of a token stream
  SplitSpec train;                 // required
  std::optional<SplitSpec> val;    // optional: evaluation split
  int64_t block_size = 0;          // tokens only, required there: T, tokens per sample (>= 1)
  bool random_offsets = false;     // tokens only: windows start at random offsets (nanoGPT)
  int64_t batch_size = 32;         // samples per step (per gradient accumulation micro-step), >= 1
  int64_t workers = 2;             // loader threads, >= 1
  int64_t prefetch = 0;            // batches in flight, >= 0; 0: 2 per worker
  ShuffleKind shuffle = ShuffleKind::full;  // full: a permutation per epoch; chunked: mix
                                            // HDF5 chunks (fast on disk); none: in order
  bool drop_last = false;          // drop each epoch's last, short batch
  // "file:line:col" of batch_size, for the check that needs the world size
  // (known only once the ranks are up). Not part of equality.
  std::string batch_size_location;
  // The input transform (array only): ToTensor, then Normalize, in torchvision's order.
  bool to_float = true;            // x as float32; uint8 divided by 255. tokens: always false
  std::vector<double> mean, std;   // per channel (or one value for all); empty: no Normalize;
                                   // std values > 0
  AugmentSpec augment;             // training split only

  bool operator==(const DataSpec& o) const {
    DataSpec a = *this, b = o;
    a.batch_size_location = b.batch_size_location = "";
    return std::tie(a.file, a.kind, a.train, a.val, a.block_size, a.random_offsets, a.batch_size, a.workers,
                    a.prefetch, a.shuffle, a.drop_last, a.to_float, a.mean, a.std, a.augment) ==
           std::tie(b.file, b.kind, b.train, b.val, b.block_size, b.random_offsets, b.batch_size, b.workers,
                    b.prefetch, b.shuffle, b.drop_last, b.to_float, b.mean, b.std, b.augment);
  }
};

// ---- loss ----

enum class LossKind { cross_entropy, mse, bce_with_logits };

// `loss: cross_entropy` is short for `loss: {name: cross_entropy}`.
struct LossSpec {
  LossKind name = LossKind::cross_entropy;
  double label_smoothing = 0;  // cross_entropy only, in [0, 1)
  int64_t ignore_index = -100; // cross_entropy only: targets with this class add nothing

  bool operator==(const LossSpec&) const = default;
};

// ---- optimizer ----

enum class OptimKind { sgd, adam, adamw, rmsprop };

// Defaults are PyTorch's for the chosen optimizer. A key that the optimizer
// does not have (betas for sgd) is an error.
struct OptimSpec {
  OptimKind name = OptimKind::adamw;  // required
  double lr = 0;                      // required, > 0: the base rate schedules scale
  double momentum = 0;                // sgd, rmsprop: in [0, 1)
  bool nesterov = false;              // sgd: needs momentum > 0
  double weight_decay = 0;            // >= 0; adamw: decoupled, default 0.01
  double beta1 = 0.9, beta2 = 0.999;  // adam, adamw (`betas: [0.9, 0.999]`), each in [0, 1)
  double eps = 1e-8;                  // adam, adamw, rmsprop: > 0
  double alpha = 0.99;                // rmsprop: smoothing of the squared gradient, in [0, 1)
  // Parameters put in a group without weight decay: "bias" (every *.bias)
  // and "norm" (BatchNorm and LayerNorm weights).
  std::vector<std::string> no_decay;

  bool operator==(const OptimSpec&) const = default;
};

// ---- learning-rate schedule ----

enum class ScheduleKind { constant, step, cosine, linear, onecycle };

// lr(step) = optim.lr * factor(step). warmup_steps ramps linearly from 0 in
// every schedule but onecycle (whose warm-up is pct_start).
struct ScheduleSpec {
  ScheduleKind name = ScheduleKind::constant;
  int64_t warmup_steps = 0;      // >= 0
  int64_t step_size = 0;         // step: required, >= 1: multiply by gamma every step_size steps
  double gamma = 0.1;            // step: > 0
  double min_lr = 0;             // cosine, linear: the final rate, in [0, optim.lr]
  double max_lr = 0;             // onecycle: the peak rate, > 0; default optim.lr
  double pct_start = 0.3;        // onecycle: fraction of the steps spent rising, in (0, 1)
  double div_factor = 25;        // onecycle: starts at max_lr / div_factor, > 0
  double final_div_factor = 1e4; // onecycle: ends at max_lr / (div_factor * final_div_factor), > 0
  // "file:line:col" of the schedule block, for the checks that need the run's
  // step count (known only once the data is open). Not part of equality.
  std::string location;

  bool operator==(const ScheduleSpec& o) const {
    return name == o.name && warmup_steps == o.warmup_steps && step_size == o.step_size &&
           gamma == o.gamma && min_lr == o.min_lr && max_lr == o.max_lr &&
           pct_start == o.pct_start && div_factor == o.div_factor &&
           final_div_factor == o.final_div_factor;
  }
};

// ---- training loop ----

// f32: full float32 everywhere; tf32: float32 tensors, but GPU matmuls and
// convolutions may round their operands to TF32 (10-bit mantissa) for tensor
// cores, as torch's allow_tf32; bf16 / fp16: mixed precision (autocast to
// that dtype, f32 weights, optimizer state and loss; fp16 on GPUs only).
enum class Precision { f32, tf32, bf16, fp16 };

// Dynamic loss scaling (amp::GradScaler's options); on by default for fp16.
struct LossScaleSpec {
  double init = 65536;
  double growth_factor = 2;
  double backoff_factor = 0.5;
  int64_t growth_interval = 2000;

  bool operator==(const LossScaleSpec&) const = default;
};
enum class NonFinite { stop, skip };
// After a stop signal's checkpoint under a requeueable Slurm batch job:
// requeue it (auto), or only exit.
enum class Requeue { auto_, never };

// Data-parallel training over the ranks the launcher started (1 rank: none of it applies).
struct DistributedSpec {
  double bucket_mb = 25;         // > 0: gradients all-reduced in buckets of this size during backward
  bool overlap = true;           // false: all buckets after the backward pass (for measurements)
  bool shard_optimizer = false;  // ZeRO-1: each rank keeps 1/N of the optimizer state
  double timeout_s = 600;        // > 0: a collective waiting longer ends the job
  std::string reduce_dtype = "f32";  // f32 or bf16: the dtype gradients are summed in on the wire

  bool operator==(const DistributedSpec&) const = default;
};

struct TrainSpec {
  // Exactly one of epochs and steps (>= 1); the other stays 0. A step is one
  // optimizer update (grad_accum batches).
  int64_t epochs = 0;
  int64_t steps = 0;
  int64_t eval_every = 0;    // steps between evaluations, >= 0; 0: at each epoch end
                             // (and at the end of the run) only
  int64_t log_every = 50;    // steps between log lines, >= 1
  std::string device = "auto";  // cpu, cuda, cuda:N, or auto (see train_device()); an
                                // explicit cuda device must be usable when the file is read
  Precision precision = Precision::f32;  // f32, tf32 (GPU matmuls and convolutions), bf16, fp16
  std::optional<LossScaleSpec> loss_scale;  // none, or dynamic with these options
  double grad_clip = 0;      // max global gradient norm, >= 0; 0: no clipping
  int64_t grad_accum = 1;    // batches per optimizer step, >= 1
  NonFinite on_nonfinite = NonFinite::stop;  // a NaN/Inf loss or gradient norm: stop the
                                             // run naming the step, or skip the step
  int64_t threads = 0;       // CPU threads per rank, >= 0; 0: the node's cores / its ranks
  DistributedSpec distributed;
  Requeue requeue = Requeue::auto_;

  bool operator==(const TrainSpec&) const = default;
};

// ---- checkpoints ----

enum class BestMode { max, min };

// Metrics a checkpoint can be chosen by; val/* need data.val.
inline const std::vector<std::string> kBestMetrics = {"val/loss", "val/accuracy",
                                                      "val/perplexity", "train/loss"};

struct BestSpec {
  std::string metric = "val/accuracy";  // one of kBestMetrics
  BestMode mode = BestMode::max;        // default: max for accuracy, min for the others

  bool operator==(const BestSpec&) const = default;
};

struct CheckpointSpec {
  int64_t every = 0;             // steps between checkpoints, >= 0; 0: at the end of the run
  int64_t keep = 3;              // how many of the latest to keep, >= 1
  std::optional<BestSpec> best;  // also keep the best one by this metric
  std::string dir;               // default: <run_dir>/checkpoints

  bool operator==(const CheckpointSpec&) const = default;
};

// ---- logging ----

struct LoggingSpec {
  bool tensorboard = true;  // an events.out.tfevents.* file in the run folder
  int64_t histograms = 0;   // >= 0: weight and gradient histograms every N steps (0: none)

  bool operator==(const LoggingSpec&) const = default;
};

// ---- the experiment ----

// An empty (null) Node standing for an absent section, named by `path`.
Node absent_node(const std::string& path);

struct ExperimentSpec {
  std::string source;          // the file the spec was read from (or the name given)
  std::string name;            // run name: letters, digits, '.', '_', '-'; default: file stem
  int64_t seed = 0;            // >= 0: drives init, dropout, shuffling and augmentation
  std::string run_dir;         // default runs/<name>; `dlt train --run-dir DIR` is the
                               // override run_dir=DIR (checkpoint.dir follows unless set)
  DataSpec data;               // required
  Node model = absent_node("model");  // required: a layer list or one layer map, for nn::build_model
  LossSpec loss;
  OptimSpec optim;             // required
  ScheduleSpec schedule;
  TrainSpec train;             // required
  CheckpointSpec checkpoint;
  LoggingSpec logging;
  Node expect = absent_node("expect");  // optional: metric bounds for recipes, kept as YAML
};

// Reads, overrides and validates. `overrides` are --set arguments,
// "key.path=value", applied in order; value is YAML ("0.02", "[64, 64]",
// "{type: ReLU}"); list elements are addressed as model.layers[1].out.
ExperimentSpec load_experiment(const std::string& file, const std::vector<std::string>& overrides = {});
// The same from YAML text; `name` stands in for the file name.
ExperimentSpec load_experiment_string(const std::string& text, const std::string& name,
                                      const std::vector<std::string>& overrides = {});
// Validates a parsed document (overrides already applied).
ExperimentSpec parse_experiment(const Node& root);
// Applies --set arguments to a document (changing its YAML in place) and
// returns it knowing where each new value came from; errors name the argument.
Node apply_overrides(const Node& root, const std::vector<std::string>& overrides);

// The spec as YAML with every default written out (the run folder's
// config.resolved.yaml); reading it back gives the same spec.
std::string resolved_yaml(const ExperimentSpec& spec);
// FNV-1a (64-bit) of resolved_yaml: identifies the configuration in checkpoints.
uint64_t config_hash(const ExperimentSpec& spec);

// The device of train.device: auto is cuda:0 when a CUDA device is usable, else cpu.
Device train_device(const std::string& device);

// The YAML spelling of each enum value ("adamw", "cuda", ...).
std::string_view name_of(DataKind v);
std::string_view name_of(ShuffleKind v);
std::string_view name_of(LossKind v);
std::string_view name_of(OptimKind v);
std::string_view name_of(ScheduleKind v);
std::string_view name_of(Precision v);
std::string_view name_of(NonFinite v);
std::string_view name_of(Requeue v);
std::string_view name_of(BestMode v);

}  // namespace dlt::config
