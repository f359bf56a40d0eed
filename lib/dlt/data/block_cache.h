// Blocks of rows read from HDF5, shared by the loader's workers and bounded
// in bytes (the least recently used block goes first). A miss reads a whole
// block in one call under HDF5's global lock; copying samples out of it
// happens outside the library, in parallel. Concurrent misses on one block
// read it once.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace dlt::data {

class BlockCache {
 public:
  struct Bytes {
    explicit Bytes(int64_t n) : data(new std::byte[size_t(n)]), size(n) {}  // uninitialised
    std::unique_ptr<std::byte[]> data;
    int64_t size;
  };
  // Holding a Block keeps its bytes alive even after the cache drops it.
  using Block = std::shared_ptr<const Bytes>;
  using Reader = std::function<void(std::byte* out)>;

  explicit BlockCache(int64_t capacity_bytes) : capacity_(capacity_bytes) {}

  int64_t capacity() const { return capacity_; }
  int64_t resident_bytes() const;
  // A fresh id for one array's blocks.
  int new_source();

  // Block `index` of `source` (`nbytes` long); `read` fills it on a miss.
  // An exception from `read` reaches this caller; others waiting retry.
  Block get(int source, int64_t index, int64_t nbytes, const Reader& read);

 private:
  struct Entry {
    Block block;  // null while loading
    std::list<uint64_t>::iterator lru;
  };
  void evict_for(int64_t nbytes);  // with mu_ held

  const int64_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable loaded_;
  std::unordered_map<uint64_t, Entry> entries_;  // key: source << 48 | index
  std::list<uint64_t> lru_;                      // loaded keys, most recent first
  int64_t resident_ = 0;
  int sources_ = 0;
};

}  // namespace dlt::data
