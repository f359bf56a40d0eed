// Data-parallel training as the trainer sees it, in one place: the start-up
// agreement (same configuration and model on every rank, then rank 0's
// parameters and buffers everywhere), the bucketed gradient reduction
// (reducer.h), the optimizer step (plain, or ZeRO-1 sharded: zero.h), the
// optimizer state a checkpoint holds (whole, from any mode and world size),
// and sums of per-rank numbers (loss, metrics, stop requests).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "dlt/dist/reducer.h"
#include "dlt/dist/zero.h"
#include "dlt/nn/module.h"

namespace dlt::dist {

struct DataParallelOptions {
  double bucket_mb = 25;
  bool overlap = true;           // all-reduce buckets during backward
  bool shard_optimizer = false;  // ZeRO-1
  std::optional<DType> reduce_dtype;  // bf16: gradients summed in bf16 on the wire
};

class DataParallel {
 public:
  // `host` carries CPU numbers (losses, flags, hashes); `device` the
  // gradients and parameters where they live (the same MPI group on the
  // CPU; NCCL for CUDA tensors). `make`: an optimizer of the run's kind over
  // other groups (for ZeRO-1).
  DataParallel(ProcessGroup& host, ProcessGroup& device, nn::Module& model, optim::Optimizer& optimizer,
               const OptimizerFactory& make, DataParallelOptions options);

  ProcessGroup& group() { return host_; }
  const Reducer& reducer() const { return *reducer_; }
  bool sharded() const { return sharded_ != nullptr; }

  // Collective: every rank must have the same configuration hash and the
  // same parameter and buffer names, shapes and dtypes (else a dlt::Error on
  // every rank naming the first rank that differs); then rank 0's values
  // are copied to all.
  void synchronize_start(const std::string& config_hash);
  // Rank 0's buffers (batch-norm statistics) to every rank, as DDP's
  // broadcast_buffers does before each forward pass; nothing for a model
  // without buffers.
  void broadcast_buffers();

  void prepare(bool sync) { reducer_->prepare(sync); }
  void finish_backward() { reducer_->finish(); }

  // The global gradient norm, clipped to max_norm when max_norm > 0 (as
  // optim::clip_grad_norm, whose formula this shares).
  double clip_grad_norm(double max_norm);
  // The gradients this rank's optimizer step reads: every parameter's, or
  // under ZeRO-1 this rank's slices of them.
  std::vector<Tensor> local_grads() const;
  void step();

  // Collective in ZeRO-1 mode: the whole optimizer state.
  std::map<std::string, Tensor> optimizer_state();
  void load_optimizer_state(const std::map<std::string, Tensor>& state);

  // Sums each value over the ranks, in place.
  void sum(std::span<double> values);

  // Optimizer state held by this rank (bytes), for the log.
  int64_t optimizer_state_bytes() const;

 private:
  ProcessGroup& host_;
  ProcessGroup& device_;
  nn::Module& model_;
  optim::Optimizer& optimizer_;
  std::unique_ptr<Reducer> reducer_;
  std::unique_ptr<ShardedOptimizer> sharded_;
};

}  // namespace dlt::dist
