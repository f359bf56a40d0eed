// Checkpoints: runs/<name>/checkpoints/step-<N>/{model.safetensors,
// optimizer.safetensors, state.json}, and a text file `latest` naming the
// newest one.
//
// A checkpoint is written into step-<N>.tmp-<pid>, synced, and renamed into
// place; `latest` is replaced (also by rename) only after that, and old
// checkpoints are pruned last. So a crash or a failed write at any point
// leaves every checkpoint that existed before it intact and `latest` naming
// a complete one; a leftover .tmp folder of a dead process is removed when
// the store is next opened.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dlt/amp/grad_scaler.h"
#include "dlt/data/loader.h"
#include "dlt/train/checksum.h"
#include "dlt/train/json.h"
#include "dlt/train/safetensors.h"

namespace dlt::train {

struct RngState {
  uint64_t seed = 0, offset = 0;  // a Generator's state (set_state restores it)
  bool operator==(const RngState&) const = default;
};

// Everything besides tensors that a resumed run needs to continue exactly.
struct TrainState {
  int64_t step = 0;          // optimizer steps taken
  int64_t epoch = 0;         // the epoch the next batch belongs to
  data::Cursor cursor;       // the next batch of the training loader
  std::map<std::string, RngState> rngs;  // every generator by role ("default", ...)
  std::string config_hash;   // of the settings that must not change on resume
  std::map<std::string, double> metrics;  // latest values ("val_loss", ...); nan allowed
  std::string precision = "f32";          // train.precision of the steps so far
  std::optional<amp::GradScalerState> loss_scale;  // dynamic loss scaling's state, when on
  // The tensor files beside it, as written (verified when the checkpoint is
  // loaded); empty in checkpoints from before checksums.
  std::map<std::string, FileChecksum> files;

  Json to_json() const;
  static TrainState from_json(const Json& j);  // throws dlt::Error naming the bad field
  bool operator==(const TrainState&) const = default;
};

struct Checkpoint {
  TrainState state;
  TensorMap model;      // Module::state_dict(): parameters and buffers
  TensorMap optimizer;  // Optimizer::state_dict()
};

struct CheckpointPolicy {
  int64_t keep = 3;         // the most recent checkpoints kept (at least 1)
  std::string best_metric;  // if set, the best checkpoint by this metric is kept too
  bool maximize = false;    // best = highest value (accuracy), else lowest (loss)
};

class CheckpointStore {
 public:
  // `dir`: runs/<name>/checkpoints (created on the first save).
  explicit CheckpointStore(std::filesystem::path dir, CheckpointPolicy policy = {});

  // Writes step-<ckpt.state.step>, updates `latest` and prunes. An existing
  // checkpoint of that step is never overwritten (dlt::Error). On failure the
  // partial folder is removed and everything else is left as it was.
  std::filesystem::path save(const Checkpoint& ckpt);

  // Steps of the complete checkpoints on disk, ascending.
  std::vector<int64_t> steps() const;
  // The newest complete checkpoint (the highest step: a folder is complete
  // once renamed into place, even if a crash came before `latest`, which is
  // written for people and scripts, was updated); nothing if there is none.
  std::optional<std::filesystem::path> latest() const;
  const std::filesystem::path& dir() const { return dir_; }

  static std::string step_name(int64_t step) { return "step-" + std::to_string(step); }

 private:
  void remove_stale_temporaries() const;
  void prune() const;

  std::filesystem::path dir_;
  CheckpointPolicy policy_;
};

// Reads one checkpoint folder, verifying the tensor files against the sizes
// and checksums state.json recorded. A missing, truncated or corrupt file is
// a dlt::Error naming it.
Checkpoint load_checkpoint(const std::filesystem::path& step_dir);
TrainState load_train_state(const std::filesystem::path& state_json);

// Checks that `saved` (from a checkpoint) has exactly the names, shapes and
// dtypes of `current` (the live model or optimizer), before anything is
// copied; else a dlt::Error from `source` listing every difference.
void check_same_tensors(const std::string& source, const TensorMap& saved, const TensorMap& current);

}  // namespace dlt::train
