// ZeRO-1: the optimizer state sharded over the ranks. The reducer (in shard
// mode) leaves each rank the summed gradients of its slice of every bucket;
// this optimizer keeps state for those slices only (about 1/N of it per
// rank), updates them, and all-gathers the parameters so every rank holds
// the whole model again. The update is elementwise and a two-rank sum is
// the same in any order, so on the CPU the result equals plain DDP bit for
// bit (with gradient clipping, up to the rounding of the global norm, which
// is summed from the slices here).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dlt/dist/reducer.h"
#include "dlt/optim/optimizer.h"

namespace dlt::dist {

// Bytes of the tensors of an optimizer state dict (the memory it holds).
int64_t state_bytes(const std::map<std::string, Tensor>& state);

// Builds an optimizer of the run's kind over other parameter groups.
using OptimizerFactory = std::function<std::unique_ptr<optim::Optimizer>(std::vector<optim::ParamGroup>)>;

class ShardedOptimizer {
 public:
  // `full`: the run's optimizer over the whole model; its groups give each
  // slice its hyperparameters and, each step, its learning rate. `host`
  // carries CPU numbers (norms, step counts); the reducer's group the
  // parameters and state where they live.
  ShardedOptimizer(ProcessGroup& host, const Reducer& reducer, const optim::Optimizer& full,
                   const OptimizerFactory& make);

  // The 2-norm of the whole (summed) gradient, from every rank's slices.
  double grad_norm();
  void scale_grads(double factor);  // this rank's slices, in place
  std::vector<Tensor> grads() const;  // this rank's slices of the summed gradients
  // Updates this rank's slices with the full optimizer's current learning
  // rates, then all-gathers the parameters.
  void step(const optim::Optimizer& full);

  // Collective: the optimizer state of the whole model, as the unsharded
  // optimizer would name and shape it (so any world size can load it).
  std::map<std::string, Tensor> gathered_state_dict();
  // Takes this rank's slices of a whole-model state (from any world size).
  void load_state_dict(const std::map<std::string, Tensor>& full_state);

  int64_t state_bytes() const;  // this rank's optimizer state

 private:
  struct Piece {
    size_t bucket = 0;
    size_t param = 0;           // index into the reducer's parameters
    std::string name;
    int64_t param_offset = 0;   // first element of the parameter in this piece
    int64_t shard_offset = 0;   // ... and where it sits in this rank's slice of the bucket
    int64_t numel = 0;
    Tensor value, grad;         // views: of the parameter, and of the bucket's summed slice
  };

  ProcessGroup& host_;
  const Reducer& reducer_;
  std::vector<std::string> param_names_;  // per reducer parameter
  std::vector<std::string> state_names_;
  std::vector<Piece> pieces_;
  std::unique_ptr<optim::Optimizer> shard_;
};

}  // namespace dlt::dist
