#include "dlt/data/block_cache.h"

#include "dlt/core/error.h"

namespace dlt::data {

int64_t BlockCache::resident_bytes() const {
  std::lock_guard lock(mu_);
  return resident_;
}

int BlockCache::new_source() {
  std::lock_guard lock(mu_);
  return sources_++;
}

BlockCache::Block BlockCache::get(int source, int64_t index, int64_t nbytes, const Reader& read) {
  DLT_ASSERT(index >= 0 && index < (int64_t(1) << 48));
  const uint64_t key = uint64_t(source) << 48 | uint64_t(index);
  std::unique_lock lock(mu_);
  for (auto it = entries_.find(key); it != entries_.end(); it = entries_.find(key)) {
    if (it->second.block) {
      lru_.splice(lru_.begin(), lru_, it->second.lru);
      return it->second.block;
    }
    loaded_.wait(lock);  // another worker is reading this block
  }
  entries_.emplace(key, Entry{});  // marks it as loading
  lock.unlock();

  std::shared_ptr<Bytes> bytes;
  try {
    bytes = std::make_shared<Bytes>(nbytes);
    read(bytes->data.get());
  } catch (...) {
    lock.lock();
    entries_.erase(key);
    loaded_.notify_all();
    throw;
  }

  lock.lock();
  evict_for(nbytes);
  Entry& e = entries_.at(key);
  e.block = bytes;
  lru_.push_front(key);
  e.lru = lru_.begin();
  resident_ += nbytes;
  loaded_.notify_all();
  return e.block;
}

void BlockCache::evict_for(int64_t nbytes) {
  while (resident_ + nbytes > capacity_ && !lru_.empty()) {
    const auto it = entries_.find(lru_.back());
    resident_ -= it->second.block->size;
    entries_.erase(it);
    lru_.pop_back();
  }
}

}  // namespace dlt::data
