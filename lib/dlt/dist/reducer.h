// The DDP reducer: gradients of a model's parameters summed over the ranks
// in buckets while the backward pass is still running.
//
// Buckets are built once, in reverse parameter order (the order in which a
// backward pass produces gradients), the first small (first_bucket_mb) so
// the collective of the last layers starts early, the rest up to bucket_mb;
// a bucket holds parameters of one dtype. A post-accumulate hook on each
// parameter marks it ready; a bucket whose parameters are all ready is
// copied into its flat buffer and its collective launched, always in bucket
// order, so every rank issues the same collectives in the same order.
// Parameters that got no gradient count as zeros when the pass ends.
//
// Plain DDP all-reduces each bucket; with `shard` (ZeRO-1) each bucket is
// padded to a multiple of the world size and reduce-scattered, so each rank
// receives the summed gradients of its own slice of every bucket only.
//
// With `wire_dtype` (bf16, train.distributed.reduce_dtype) the buckets
// travel and are summed in that dtype: gradients are rounded into a wire
// buffer, reduced, and widened back into the f32 buffer the optimizer reads
// (half the bytes on the wire; the sums rounded to bf16).
//
// The sum is the whole reduction: each rank scales its loss by its share of
// the global batch before backward (samples of this rank / samples of all),
// so the sum is the gradient of the global batch's mean loss, also when
// ranks hold different numbers of samples.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "dlt/dist/process_group.h"

namespace dlt::dist {

struct ReducerOptions {
  double bucket_mb = 25;
  double first_bucket_mb = 1;
  bool overlap = true;  // launch buckets during backward; false: all after it (for benchmarks)
  bool shard = false;   // ZeRO-1: reduce-scatter instead of all-reduce
  std::optional<DType> wire_dtype;  // reduce in this dtype (bf16), not the gradients'
};

struct BucketEntry {
  size_t param = 0;    // index into the reducer's parameters
  int64_t offset = 0;  // first element in the bucket's buffer
  int64_t numel = 0;
};

struct Bucket {
  std::vector<BucketEntry> entries;
  int64_t numel = 0;         // elements of the parameters
  int64_t padded = 0;        // numel rounded up to a multiple of the world size (shard), else numel
  Tensor buffer;             // (padded) gradients, then their sum (all-reduce)
  Tensor shard;              // (padded / world) this rank's summed slice (shard mode)
  Tensor wire, wire_shard;   // with a wire dtype: buffer and shard as reduced, in it
};

class Reducer {
 public:
  Reducer(ProcessGroup& group, std::vector<Tensor> params, ReducerOptions options);
  ~Reducer();
  Reducer(const Reducer&) = delete;
  Reducer& operator=(const Reducer&) = delete;

  // Before each micro-step's backward pass: `sync` on the last micro-step of
  // an optimizer step (earlier ones accumulate locally and communicate nothing).
  void prepare(bool sync);
  // After the last micro-step's backward pass (or in its place, when this
  // rank had no samples): launches the buckets still waiting, waits for all
  // and, in plain mode, makes each parameter's .grad the summed gradient.
  void finish();

  const std::vector<Bucket>& buckets() const;
  ProcessGroup& group() const;
  const std::vector<Tensor>& params() const;
  int64_t launched() const;  // bucket collectives issued since construction

 private:
  struct State;
  std::shared_ptr<State> state_;  // the hooks hold it weakly
};

}  // namespace dlt::dist
