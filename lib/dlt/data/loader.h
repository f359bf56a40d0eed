// The parallel data loader: worker threads read samples, convert and
// augment them and collate them into batch tensors (CPU), ahead of the
// consumer by at most `prefetch` batches.
//
// Batch g (counted across epochs) is a pure function of (dataset, options,
// g): workers claim batches in order and the consumer takes them in order,
// so the stream is identical for any number of workers, and a loader
// started at a saved Cursor yields exactly the batches that would have come
// next.
#pragma once

#include <condition_variable>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "dlt/core/tensor.h"
#include "dlt/data/dataset.h"
#include "dlt/data/sampler.h"
#include "dlt/data/transforms.h"

namespace dlt::data {

struct LoaderOptions {
  int64_t batch_size = 128;
  int workers = 2;
  int prefetch = 0;           // batches being made or waiting; 0: 2 per worker
  int64_t epochs = 1;         // the loader ends before this epoch
  SamplerOptions sampler;     // shuffle, seed (also for augmentation), shard, drop_last
  ImageTransform transform;   // applied to field 0 (x)
  bool pin_memory = false;    // batches in page-locked memory (a GPU backend's), for GPU runs
};

// A position in the stream of batches: save it with a checkpoint.
struct Cursor {
  int64_t epoch = 0, batch = 0;
  bool operator==(const Cursor&) const = default;
};

struct Batch {
  std::vector<Tensor> fields;    // per dataset field: (B, sample shape...)
  std::vector<int64_t> indices;  // the B dataset samples, in batch order
  Cursor cursor;                 // where this batch is in the stream
  int64_t global_size = 0;       // samples of the whole batch, all ranks together
};

class Loader {
 public:
  Loader(std::shared_ptr<const Dataset> dataset, LoaderOptions options, Cursor start = {});
  ~Loader();  // stops and joins the workers, also mid-epoch
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  // The next batch, or nothing after the last epoch. A failure in a worker
  // is thrown here as dlt::Error (internal errors stay internal), and again
  // on every later call: the cursor does not move past a batch that failed.
  std::optional<Batch> next();

  Cursor cursor() const;  // of the batch next() returns
  int64_t batches_per_epoch() const { return sampler_.batches_per_epoch(); }
  const Sampler& sampler() const { return sampler_; }
  // What one sample of each batch tensor is (x becomes float32 when transformed).
  const std::vector<Field>& output_fields() const { return outputs_; }

 private:
  struct Slot {
    std::optional<Batch> batch;
    std::exception_ptr error;
  };

  void work();
  Batch make_batch(int64_t g, std::vector<std::byte>& scratch);
  std::shared_ptr<const std::vector<int64_t>> order(int64_t epoch);

  std::shared_ptr<const Dataset> dataset_;
  LoaderOptions options_;
  Sampler sampler_;
  std::optional<SampleTransform> transform_;
  std::vector<Field> outputs_;
  int64_t end_;  // global index of the first batch not produced

  mutable std::mutex mu_;
  std::condition_variable room_, ready_cv_;
  int64_t claimed_;   // the next global batch a worker takes
  int64_t consumed_;  // the next global batch next() returns
  std::map<int64_t, Slot> ready_;
  bool stop_ = false;

  std::mutex orders_mu_;  // epoch orders, computed once and shared by workers
  std::map<int64_t, std::shared_ptr<const std::vector<int64_t>>> orders_;

  std::vector<std::thread> threads_;  // last: started once everything above exists
};

}  // namespace dlt::data
