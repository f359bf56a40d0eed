// The oneDNN (2.x API) plumbing shared by CPU kernels: one engine and one
// stream for the process, dtype mapping, a per-thread scratchpad, and a
// thread-safe LRU cache of primitives keyed by problem geometry (creating a
// primitive costs ~6 us; a training step asks for the same shapes every time).
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "dlt/core/dtype.h"

namespace dlt::cpu::onednn {

inline dnnl::engine& engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

// CPU streams are stateless with the OpenMP runtime, so one serves every thread.
inline dnnl::stream& stream() {
  static dnnl::stream s(engine());
  return s;
}

// The oneDNN type of a dlt dtype, if oneDNN has one (it has no f64).
inline std::optional<dnnl::memory::data_type> data_type(DType t) {
  using dt = dnnl::memory::data_type;
  switch (t) {
    case DType::f32: return dt::f32;
    case DType::f16: return dt::f16;
    case DType::bf16: return dt::bf16;
    case DType::i32: return dt::s32;
    case DType::u8: return dt::u8;
    default: return std::nullopt;
  }
}

// Primitives are created in scratchpad_mode::user: with the library mode a
// primitive may only run on the thread that created it, and cached ones
// migrate. Each thread keeps one growing scratch buffer instead.
inline dnnl::primitive_attr user_scratchpad_attr() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

inline dnnl::memory scratchpad(const dnnl::memory::desc& desc) {
  thread_local std::vector<uint8_t> buffer;
  if (buffer.size() < desc.get_size()) buffer.resize(desc.get_size());
  return dnnl::memory(desc, engine(), buffer.data());
}

// Geometry key: every number that determines a primitive (dims, strides,
// dtypes, flags), flattened.
using Key = std::vector<int64_t>;

struct KeyHash {
  size_t operator()(const Key& k) const noexcept {
    uint64_t h = 1469598103934665603ull;  // FNV-1a over the words
    for (int64_t v : k) h = (h ^ uint64_t(v)) * 1099511628211ull;
    return size_t(h);
  }
};

// Least-recently-used map from Key to a shared Value. get_or_create runs
// `create` outside the lock (two threads may race to build the same entry;
// the first insert wins), so a slow creation never blocks other lookups.
template <class Value> class PrimitiveCache {
 public:
  explicit PrimitiveCache(size_t capacity) : capacity_(capacity) {}

  template <class Create> std::shared_ptr<const Value> get_or_create(const Key& key, Create create) {
    {
      std::lock_guard lock(mutex_);
      if (auto it = index_.find(key); it != index_.end()) {
        order_.splice(order_.begin(), order_, it->second);
        return it->second->second;
      }
    }
    auto value = std::make_shared<const Value>(create());
    std::lock_guard lock(mutex_);
    if (auto it = index_.find(key); it != index_.end()) return it->second->second;
    order_.emplace_front(key, value);
    index_.emplace(key, order_.begin());
    if (order_.size() > capacity_) {
      index_.erase(order_.back().first);
      order_.pop_back();
    }
    return value;
  }

 private:
  using Entry = std::pair<Key, std::shared_ptr<const Value>>;
  size_t capacity_;
  std::mutex mutex_;
  std::list<Entry> order_;  // most recent first
  std::unordered_map<Key, typename std::list<Entry>::iterator, KeyHash> index_;
};

}  // namespace dlt::cpu::onednn
