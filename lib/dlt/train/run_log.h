// Where a run's numbers go, in one place: metrics.jsonl always, and a
// TensorBoard event file in the run folder unless logging.tensorboard is
// off (train/* and val/* scalars with the same values as metrics.jsonl,
// tokens/s for language models, the resolved config as text, the config's
// leaf values as hparams, and optionally weight and gradient histograms).
// Rank 0 of a distributed run owns it.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dlt/core/tensor.h"
#include "dlt/train/metrics_log.h"
#include "dlt/train/tensorboard.h"

namespace dlt::train {

struct RunLogOptions {
  bool tensorboard = true;
  int64_t histograms_every = 0;   // > 0: weight and gradient histograms every N steps
  int64_t tokens_per_sample = 0;  // > 0 (language models): train/tokens_per_s too
  std::string config_yaml;        // shown as text in TensorBoard
  std::map<std::string, HParam> hparams;
};

class RunLog {
 public:
  // `resume_step`: a resumed run; records after that step are dropped from
  // both logs (the run writes them again).
  RunLog(const std::filesystem::path& run_dir, std::optional<int64_t> resume_step, RunLogOptions options);

  void write(const MetricsRecord& r);
  // Whether logging.histograms asks for histograms at this step, and writing them.
  bool histograms_due(int64_t step) const;
  void histograms(int64_t step, const std::vector<std::pair<std::string, Tensor>>& params);
  // The run reached its last step (TensorBoard's hparams session ends).
  void finished();

  const std::optional<EventWriter>& tensorboard() const { return events_; }

 private:
  MetricsLog metrics_;
  std::optional<EventWriter> events_;
  RunLogOptions options_;
};

// A YAML document's leaf values by dotted path ("optim.lr", "model.0.out"),
// as numbers, booleans or strings: a run's hyperparameters.
std::map<std::string, HParam> leaf_values(const std::string& yaml);

}  // namespace dlt::train
