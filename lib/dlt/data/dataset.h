// A dataset: N samples, each made of the same fields (x, y, ...) of fixed
// shape and dtype. Datasets read raw samples; the loader converts, augments
// and batches them.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "dlt/core/dtype.h"
#include "dlt/core/shape.h"

namespace dlt::data {

// Calls f.template operator()<T>() for the dtypes a dataset can store.
template <class F> decltype(auto) visit_stored(DType t, F&& f) {
  switch (t) {
    case DType::u8: return f.template operator()<uint8_t>();
    case DType::i32: return f.template operator()<int32_t>();
    case DType::i64: return f.template operator()<int64_t>();
    case DType::f32: return f.template operator()<float>();
    case DType::f64: return f.template operator()<double>();
    default: break;
  }
  throw InternalError(fmt::format("visit_stored: {} is not a stored dtype", t));
}

struct Field {
  std::string name;  // the HDF5 key it comes from ("train/images"), or "x", "y"
  DType dtype;
  Shape shape;       // of one sample, e.g. [28, 28]
  int64_t sample_bytes() const { return numel_of(shape) * int64_t(dtype_size(dtype)); }
};

class Dataset {
 public:
  virtual ~Dataset() = default;

  virtual int64_t size() const = 0;
  virtual const std::vector<Field>& fields() const = 0;
  // "data/x.h5 [train/images, train/labels]", to prefix error messages.
  virtual std::string describe() const = 0;

  // Consecutive samples that are cheap to read together (whole HDF5 chunks):
  // the chunk-aware sampler shuffles in these units.
  virtual int64_t chunk_size() const = 0;
  // The stored bytes the samples come from, and how many of them the
  // dataset keeps in memory. Random access (a full shuffle) is only fast
  // when the first fits in the second; otherwise every sample costs a read.
  virtual int64_t bytes() const = 0;
  virtual int64_t cache_bytes() const = 0;

  // Writes samples `indices` of `epoch`, in that order, into out[f] for each
  // field f (indices.size() * fields()[f].sample_bytes() bytes each). The
  // epoch matters only to datasets whose samples vary by epoch (random token
  // windows). Safe to call from several threads at once.
  virtual void read(std::span<const int64_t> indices, int64_t epoch,
                    std::span<std::byte* const> out) const = 0;
};

}  // namespace dlt::data
