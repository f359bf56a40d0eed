// From an experiment spec to the objects a run needs: datasets and loader
// options, the model (built by the layer registry from the data's sample
// shape), the optimizer, the schedule and the trainer. The CLI commands
// (train, validate, eval, predict) only parse arguments and call these.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dlt/config/experiment.h"
#include "dlt/data/loader.h"
#include "dlt/nn/registry.h"
#include "dlt/nn/summary.h"
#include "dlt/train/batch_dump.h"
#include "dlt/train/trainer.h"

namespace dlt::train {

struct ExperimentData {
  std::shared_ptr<const data::Dataset> train, val;  // val may be null
  data::LoaderOptions train_loader, val_loader;
  Shape input_shape;  // one sample of x as the model sees it
  DType input_dtype = DType::f32;
};

// Opens the data file's splits (a missing file or key is a dlt::Error naming it).
ExperimentData open_data(const config::ExperimentSpec& spec);

struct BuiltModel {
  std::unique_ptr<Generator> gen;  // init and dropout: outlives the model
  std::shared_ptr<nn::Module> module;
  Shape output_shape;
  std::vector<nn::SummaryRow> summary;
};
BuiltModel build_model(const config::ExperimentSpec& spec, const Shape& input_shape);

// The task follows from the data (tokens: a language model) and the loss.
LossOptions loss_options(const config::ExperimentSpec& spec);
// Loading for evaluation and prediction: in order, no augmentation.
data::LoaderOptions eval_loader_options(const config::ExperimentSpec& spec);
// The config hash checkpoints carry: of the resolved config without what a
// resumed run may change without changing its results (run and checkpoint
// folders, checkpoint and log intervals, eval interval, threads, workers).
std::string resume_hash(const config::ExperimentSpec& spec);
// Optimizer steps of the whole run: train.steps, or epochs of whole steps.
int64_t total_steps(const config::ExperimentSpec& spec, const ExperimentData& data);

// The folder of a checkpoint: `dir` itself if it holds model.safetensors,
// else the latest checkpoint of a checkpoints folder or of a run folder.
std::filesystem::path find_checkpoint(const std::filesystem::path& dir);

// `dlt eval`: the validation split's metrics under the checkpoint's weights.
EvalResult evaluate_checkpoint(const config::ExperimentSpec& spec, const std::filesystem::path& checkpoint_dir);
// `dlt predict`: writes "outputs" (N, output shape...) float32 and, for a
// classifier, "predictions" (N) int64 to `out`; returns N.
int64_t predict_to_file(const config::ExperimentSpec& spec, const std::filesystem::path& checkpoint_dir,
                        const std::string& input, const std::string& key, const std::string& out);

// `dlt train`: writes config.resolved.yaml, trains (or resumes) and returns
// the exit status (0, or 128 + signal when a signal stopped the run).
// `dump`: record the first steps of a fresh run (batch_dump.h).
// stop_after > 0 ends the run after that step with a checkpoint, as if interrupted.
// `profile`: a Chrome trace of those steps (`dlt train --profile`).
// kill_after > 0 ends the process with SIGKILL after that step (TrainerOptions::kill_after).
int train_experiment(const config::ExperimentSpec& spec, bool resume,
                     const std::optional<DumpRequest>& dump = {}, int64_t stop_after = 0,
                     const std::optional<ProfileRequest>& profile = {}, int64_t kill_after = 0);

}  // namespace dlt::train
