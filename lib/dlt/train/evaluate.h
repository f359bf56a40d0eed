// Losses and metrics by task, shared by training and evaluation.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <optional>

#include "dlt/data/loader.h"
#include "dlt/nn/module.h"

namespace dlt::train {

// What the model's output is compared against, which decides the loss and
// the metrics.
enum class Task {
  classification,  // logits (B, N) vs class ids (B): cross entropy, accuracy
  language_model,  // logits (B, T, V) vs next tokens (B, T): cross entropy, accuracy, perplexity
  regression,      // output vs target of its shape: mean squared error
  binary,          // logits vs 0/1 targets of its shape: BCE with logits, accuracy
};

struct LossOptions {
  Task task = Task::classification;
  double label_smoothing = 0;   // cross entropy
  int64_t ignore_index = -100;  // cross entropy: targets of this class count for nothing
};

struct BatchLoss {
  Tensor loss;          // the mean over the batch's predictions, with history
  int64_t correct = 0;  // right predictions (not for regression)
  int64_t count = 0;    // predictions made: B, or B * T for a language model
};

// A shape that does not fit the task is a dlt::Error naming both shapes.
// `count_correct` reads the number of right predictions back from the device
// (evaluation wants it; a training step does not, and reading would make the
// host wait for the forward pass before it can queue the backward one).
BatchLoss compute_loss(const LossOptions& options, const Tensor& output, const Tensor& target,
                       bool count_correct = true);

struct EvalResult {
  double loss = 0;  // mean over all predictions
  std::optional<double> accuracy, perplexity;
  int64_t samples = 0;
};

// Where the model's parameters are (cpu for a model without any).
Device model_device(const nn::Module& model);

// Sums per-rank numbers over the ranks of a data-parallel run, in place.
using RankSum = std::function<void(std::span<double>)>;

// One pass over `data` in eval mode without gradients (the mode is restored),
// with the batches moved to the model's device. In a data-parallel run the
// loader's sampler names this rank's slice, and `rank_sum` adds up the ranks'
// sums, so every rank returns the result of the whole split.
EvalResult evaluate(nn::Module& model, std::shared_ptr<const data::Dataset> data,
                    data::LoaderOptions loader, const LossOptions& options, const RankSum& rank_sum = {});

}  // namespace dlt::train
