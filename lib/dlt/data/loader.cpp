#include "dlt/data/loader.h"
#include "dlt/core/trace.h"

#include <algorithm>

namespace dlt::data {

namespace {

// The sampler, with its errors prefixed by the dataset they are about.
Sampler make_sampler(const Dataset& ds, const LoaderOptions& o) {
  try {
    return Sampler(ds.size(), ds.chunk_size(), o.batch_size, o.sampler);
  } catch (const Error& e) {
    throw Error(fmt::format("{}: {}", ds.describe(), e.what()));
  }
}

// Random access over more than the cache holds would read a block per sample.
void check_fits(const Dataset& ds, const SamplerOptions& o) {
  const int64_t per_sample = std::max<int64_t>(1, ds.bytes() / ds.size());
  const int64_t cache = ds.cache_bytes();
  if (o.shuffle == Shuffle::full)
    DLT_CHECK(ds.bytes() <= cache, "{}: a full shuffle needs the data in memory ({} MiB) but the "
              "cache holds {} MiB; use the chunked shuffle, or a larger cache",
              ds.describe(), ds.bytes() >> 20, cache >> 20);
  if (o.shuffle == Shuffle::chunked) {
    // Workers run ahead into the next window while this one is consumed.
    const int64_t window = std::min(ds.bytes(), o.window_chunks * ds.chunk_size() * per_sample);
    DLT_CHECK(2 * window <= cache, "{}: two shuffle windows of {} chunks ({} MiB each) do not fit "
              "in the {} MiB cache; use fewer window chunks or a larger cache",
              ds.describe(), o.window_chunks, window >> 20, cache >> 20);
  }
}

}  // namespace

Loader::Loader(std::shared_ptr<const Dataset> dataset, LoaderOptions options, Cursor start)
    : dataset_(std::move(dataset)), options_(std::move(options)),
      sampler_(make_sampler(*dataset_, options_)) {
  const Dataset& ds = *dataset_;
  DLT_CHECK(options_.workers >= 1, "{}: the loader needs at least one worker, got {}",
            ds.describe(), options_.workers);
  DLT_CHECK(options_.prefetch >= 0, "{}: prefetch must be >= 0, got {}", ds.describe(),
            options_.prefetch);
  if (options_.prefetch == 0) options_.prefetch = 2 * options_.workers;
  check_fits(ds, options_.sampler);

  outputs_ = ds.fields();
  if (options_.transform.enabled()) {
    transform_.emplace(options_.transform, outputs_[0]);
    outputs_[0] = transform_->output();
  }

  const int64_t bpe = batches_per_epoch();
  DLT_CHECK(start.epoch >= 0 && start.batch >= 0 && start.batch < bpe,
            "{}: cursor (epoch {}, batch {}) is outside an epoch of {} batches", ds.describe(),
            start.epoch, start.batch, bpe);
  end_ = std::max(options_.epochs, start.epoch) * bpe;
  claimed_ = consumed_ = std::min(end_, start.epoch * bpe + start.batch);

  for (int w = 0; w < options_.workers; ++w) threads_.emplace_back([this] { work(); });
}

Loader::~Loader() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  room_.notify_all();
  for (std::thread& t : threads_) t.join();
}

Cursor Loader::cursor() const {
  std::lock_guard lock(mu_);
  return {consumed_ / batches_per_epoch(), consumed_ % batches_per_epoch()};
}

std::optional<Batch> Loader::next() {
  std::unique_lock lock(mu_);
  if (consumed_ >= end_) return std::nullopt;
  {
    const trace::Scope scope("data", "wait for a batch");
    ready_cv_.wait(lock, [&] { return ready_.count(consumed_) > 0; });
  }
  const auto it = ready_.find(consumed_);
  if (it->second.error) std::rethrow_exception(it->second.error);
  Batch batch = std::move(*it->second.batch);
  ready_.erase(it);
  ++consumed_;
  lock.unlock();
  room_.notify_all();
  return batch;
}

void Loader::work() {
  std::vector<std::byte> scratch;  // raw x before the transform, reused
  for (;;) {
    int64_t g;
    {
      std::unique_lock lock(mu_);
      room_.wait(lock, [&] {
        return stop_ || claimed_ >= end_ || claimed_ < consumed_ + options_.prefetch;
      });
      if (stop_ || claimed_ >= end_) return;
      g = claimed_++;
    }
    Slot slot;
    try {
      slot.batch = make_batch(g, scratch);
    } catch (const Error&) {
      slot.error = std::current_exception();
    } catch (const InternalError&) {
      slot.error = std::current_exception();
    } catch (const std::exception& e) {
      slot.error = std::make_exception_ptr(Error(fmt::format(
          "{}: data loader worker failed on batch {}: {}", dataset_->describe(), g, e.what())));
    }
    {
      std::lock_guard lock(mu_);
      ready_.emplace(g, std::move(slot));
    }
    ready_cv_.notify_all();
  }
}

std::shared_ptr<const std::vector<int64_t>> Loader::order(int64_t epoch) {
  std::lock_guard lock(orders_mu_);
  if (const auto it = orders_.find(epoch); it != orders_.end()) return it->second;
  // Claims only move forward, so epochs before the previous one are done
  // (a straggler that still wants one just recomputes it).
  std::erase_if(orders_, [&](const auto& kv) { return kv.first < epoch - 1; });
  auto order = std::make_shared<const std::vector<int64_t>>(sampler_.epoch_order(epoch));
  orders_.emplace(epoch, order);
  return order;
}

Batch Loader::make_batch(int64_t g, std::vector<std::byte>& scratch) {
  const int64_t bpe = batches_per_epoch();
  const Cursor at{g / bpe, g % bpe};
  const auto order = this->order(at.epoch);
  const Sampler::Slice slice = sampler_.batch_slice(at.batch);
  const int64_t n = slice.end - slice.begin;
  const std::span<const int64_t> indices(order->data() + slice.begin, size_t(n));

  // Fresh CPU tensors that this loader fills, as a kernel fills its outputs;
  // page-locked for a GPU run, so its copy to the device is asynchronous.
  Batch batch{{}, {indices.begin(), indices.end()}, at, slice.global};
  std::vector<std::byte*> out;
  for (const Field& f : outputs_) {
    Shape shape{n};
    shape.insert(shape.end(), f.shape.begin(), f.shape.end());
    batch.fields.push_back(options_.pin_memory ? empty_pinned(shape, f.dtype) : empty(shape, f.dtype));
    out.push_back(static_cast<std::byte*>(batch.fields.back().raw_data()));
  }
  const int64_t raw_bytes = dataset_->fields()[0].sample_bytes();
  if (transform_) {
    scratch.resize(size_t(n * raw_bytes));
    out[0] = scratch.data();
  }

  dataset_->read(indices, at.epoch, out);

  if (transform_) {
    float* x = batch.fields[0].data_ptr<float>();
    const int64_t numel = numel_of(outputs_[0].shape);
    for (int64_t i = 0; i < n; ++i)
      transform_->apply(scratch.data() + i * raw_bytes, x + i * numel, options_.sampler.seed,
                        at.epoch, indices[size_t(i)]);
  }
  return batch;
}

}  // namespace dlt::data
