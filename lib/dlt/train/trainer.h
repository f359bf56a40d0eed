// The training loop: forward -> loss -> backward -> (gradient accumulation)
// -> clip -> optimizer step -> schedule, with evaluation every N steps and
// at each epoch's end, metrics to the console and metrics.jsonl, and
// checkpoints every N steps, at the end and when a stop signal arrives.
//
// Resume is exact on CPU: the model, optimizer state, step, loader cursor
// and every generator come back from the checkpoint, the schedule is a
// function of the step, and batches are a function of the cursor, so a
// resumed run repeats the uninterrupted run's losses and weights bit for bit.
#pragma once

#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "dlt/amp/mixed_precision.h"
#include "dlt/core/generator.h"
#include "dlt/data/loader.h"
#include "dlt/dist/data_parallel.h"
#include "dlt/nn/module.h"
#include "dlt/optim/optimizer.h"
#include "dlt/train/checkpoint.h"
#include "dlt/train/evaluate.h"
#include "dlt/train/peak_flops.h"
#include "dlt/train/run_log.h"
#include "dlt/train/progress.h"
#include "dlt/train/signals.h"

namespace dlt::train {

// `dlt train --profile FILE --profile-steps A:B`: a Chrome trace of steps A to B.
struct ProfileRequest {
  std::filesystem::path path;
  int64_t first = 10, last = 20;
};

struct TrainerOptions {
  LossOptions loss;
  int64_t total_steps = 0;       // optimizer steps of the whole run (> 0)
  int64_t grad_accum = 1;        // batches per optimizer step
  double clip_grad_norm = 0;     // clip the global gradient norm to this (0: off)
  int64_t eval_every = 0;        // steps between evaluations (0: at epoch ends only)
  int64_t log_every = 10;        // steps between "train" records in metrics.jsonl
  int64_t checkpoint_every = 0;  // steps between checkpoints (0: at the end and on signals)
  bool skip_nonfinite = false;   // skip a step whose loss or gradient norm is NaN/Inf, else stop
  uint64_t seed = 0;             // seeds the default generator (dropout) of a fresh run
  std::string config_hash;       // a checkpoint made under another hash is refused
  double progress_interval_s = 10;  // plain progress lines (not a terminal)
  int64_t stop_after = 0;        // > 0: stop after this step as a signal would (checkpoint
                                 // written), so a test or recipe can interrupt exactly there
  int64_t kill_after = 0;        // > 0: SIGKILL this process once that step is logged (and
                                 // checkpointed if due): dlt verify-resume's crash, at a step
                                 // no outside poll of metrics.jsonl could hit on a fast run
  Device device = Device::cpu();  // the model (moved there by the trainer) and batches
  RunLogOptions log;              // TensorBoard, histograms, the config it shows
  std::optional<PeakFlops> peak;  // MFU divides by it (none: FLOP/s only)
  std::optional<ProfileRequest> profile;
  std::string precision = "f32";          // train.precision, as checkpoints record it
  amp::MixedPrecisionOptions mixed_precision;  // autocast and loss scaling
};

struct TrainerParts {
  std::shared_ptr<nn::Module> model;
  std::unique_ptr<optim::Optimizer> optimizer;
  std::function<double(int64_t step)> lr_factor;  // the schedule; empty: constant
  // Every generator the run draws from besides the default one (the model's
  // dropout generator), by a stable name: checkpoints save and restore them.
  std::map<std::string, Generator*> generators;
  std::shared_ptr<const data::Dataset> train_data;
  data::LoaderOptions train_loader;  // epochs is set by the trainer
  std::shared_ptr<const data::Dataset> val_data;  // may be null: no evaluation
  data::LoaderOptions val_loader;
  // Observers of the loop (may be empty), for `dlt train --dump-batches`:
  // each training batch as fed, and each step's loss after its update. Steps
  // count from 1.
  std::function<void(int64_t step, const data::Batch& batch)> on_batch;
  std::function<void(int64_t step, double loss)> on_step;
  // Data-parallel training over several ranks (null: one process). The
  // loaders' samplers must name this rank's slice. Rank 0 alone prints,
  // writes metrics.jsonl and checkpoints; every rank takes part in the
  // collectives of each step, evaluation and checkpoint.
  std::shared_ptr<dist::DataParallel> data_parallel;
};

struct TrainResult {
  int64_t step = 0;                          // steps done
  StopRequest stopped = StopRequest::none;   // a signal ended the run early
  std::optional<EvalResult> last_eval;
};

class Trainer {
 public:
  // `run_dir` receives metrics.jsonl, `checkpoint_dir` the checkpoints (both
  // created here: a folder that cannot be created is a dlt::Error naming it).
  // Metrics are named as the config's checkpoint.best.metric names them:
  // "val/loss", "val/accuracy", "val/perplexity", "train/loss".
  Trainer(TrainerParts parts, TrainerOptions options, std::filesystem::path run_dir,
          std::filesystem::path checkpoint_dir, CheckpointPolicy checkpoints, std::FILE* console = stderr);

  // Starts a new run: checkpoints already in the folder are a dlt::Error
  // (never overwritten). run() calls it unless resume() was called.
  void start_fresh();
  // Continues from the newest intact checkpoint of the run folder (a damaged
  // newest one is passed over with a warning). No checkpoint, none intact,
  // another config hash or another model is a dlt::Error.
  void resume();
  // Loads only the model weights of a checkpoint folder (eval, predict).
  static void load_model(nn::Module& model, const std::filesystem::path& checkpoint_dir);

  // Trains until total_steps or a stop signal (install_stop_handlers first).
  TrainResult run();
  // Loss and metrics of the model on the validation data.
  EvalResult evaluate();

  int64_t step() const { return step_; }
  // Batches of the training data per epoch (an optimizer step takes grad_accum).
  int64_t batches_per_epoch() const;

 private:
  void apply_lr();
  void write_profile();  // stops the recorder; rank 0 writes the trace
  void save_checkpoint();
  std::pair<std::filesystem::path, Checkpoint> newest_intact_checkpoint();
  bool is_main() const { return !parts_.data_parallel || parts_.data_parallel->group().is_main(); }
  // The stop request every rank acts on: the first one any rank received
  // (agreed through `flags`, which the step's collective summed).
  StopRequest agreed_stop(const double* flags) const;
  void report_eval(const EvalResult& r, int64_t epoch);  // epoch: of the step just taken
  TrainState state() const;

  TrainerParts parts_;
  TrainerOptions options_;
  std::filesystem::path run_dir_;
  CheckpointStore store_;
  Progress progress_;
  std::optional<RunLog> log_;  // rank 0 only
  amp::MixedPrecision mp_;
  int64_t step_ = 0;
  data::Cursor cursor_;  // of the next training batch
  int64_t last_saved_step_ = -1;
  bool resumed_ = false, started_ = false;
  std::map<std::string, double> last_metrics_;
};

}  // namespace dlt::train
