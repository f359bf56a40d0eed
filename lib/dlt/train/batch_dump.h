// `dlt train --dump-batches N`: records what the first N optimizer steps of
// a fresh run see, so another framework can replay them (scripts/parity):
//
//   DIR/initial.safetensors  the model's state before step 1
//   DIR/batches.h5           x/<i>, y/<i>: the i-th training batch as the model
//                            and loss got it (after normalisation and
//                            augmentation), i = 0 .. N * grad_accum - 1;
//                            "losses" (N) float64: each step's training loss;
//                            attributes steps, grad_accum, total_steps
//   DIR/final.safetensors    the model's state after step N
//
// batches.h5 is committed only when step N is reached, so a run stopped
// earlier leaves no partial dump.
#pragma once

#include <filesystem>
#include <memory>
#include <vector>

#include "dlt/data/h5_writer.h"
#include "dlt/data/loader.h"
#include "dlt/nn/module.h"

namespace dlt::train {

struct DumpRequest {
  std::filesystem::path dir;
  int64_t steps = 0;  // N > 0
};

class BatchDump {
 public:
  // Writes the initial weights now. `total_steps` and `grad_accum` are the run's.
  BatchDump(DumpRequest request, const nn::Module& model, int64_t total_steps, int64_t grad_accum);

  // The trainer's hooks (TrainerParts::on_batch, on_step); steps count from 1.
  void record_batch(int64_t step, const data::Batch& batch);
  void record_step(int64_t step, double loss, const nn::Module& model);

 private:
  DumpRequest request_;
  int64_t grad_accum_;
  int64_t batches_ = 0;
  std::vector<double> losses_;
  std::unique_ptr<data::H5Writer> writer_;  // null once committed
};

}  // namespace dlt::train
