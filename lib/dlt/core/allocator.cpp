#include "dlt/core/allocator.h"

#include <sys/mman.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <unordered_map>

namespace dlt {
namespace {

constexpr size_t kAlignment = 64;        // a cache line; what oneDNN prefers
constexpr size_t kLargeBlock = 1 << 20;  // below this malloc's own bins do well
constexpr size_t kHugePage = 2 << 20;

size_t round_up(size_t n, size_t m) { return (n + m - 1) / m * m; }

// The cap on cached free bytes: DLT_CPU_CACHE_MB, default 1024 (0 disables).
size_t cache_limit_bytes() {
  const char* env = std::getenv("DLT_CPU_CACHE_MB");
  const long mb = env ? std::strtol(env, nullptr, 10) : 1024;
  return size_t(std::max(0L, mb)) << 20;
}

// Host memory. Small blocks come from malloc. Large blocks (activations,
// gradients, batches) are 2 MiB-aligned mappings advised for transparent huge
// pages, and freed ones are kept for reuse: a training step allocates the
// same sizes every time, and a fresh mapping costs a page fault per 4 KiB on
// first touch, which for a 64 MB tensor is as slow as computing it.
class CpuAllocator final : public Allocator {
 public:
  void* allocate(size_t nbytes, int) override {
    if (nbytes == 0) return nullptr;
    if (nbytes < kLargeBlock) {
      void* p = std::aligned_alloc(kAlignment, round_up(nbytes, kAlignment));
      DLT_CHECK(p != nullptr, "out of host memory allocating {} bytes", nbytes);
      count_alloc(nbytes);
      return p;
    }
    const size_t size = round_up(nbytes, kHugePage);
    {
      std::lock_guard lock(mu_);
      // Best fit among cached blocks, wasting at most an eighth.
      auto it = free_.lower_bound(size);
      if (it != free_.end() && it->first <= size + size / 8) {
        void* p = it->second;
        cached_ -= it->first;
        mapped_[p] = it->first;
        free_.erase(it);
        count_alloc(nbytes);
        return p;
      }
    }
    void* p = map_block(size);
    if (!p) {  // perhaps the cache holds what we need: give it back and retry
      empty_cache();
      p = map_block(size);
    }
    DLT_CHECK(p != nullptr, "out of host memory allocating {} bytes", nbytes);
    {
      std::lock_guard lock(mu_);
      mapped_[p] = size;
    }
    count_alloc(nbytes);
    return p;
  }

  void deallocate(void* ptr, size_t nbytes, int) override {
    if (!ptr) return;
    allocated_.fetch_sub(nbytes, std::memory_order_relaxed);
    if (nbytes < kLargeBlock) {
      std::free(ptr);
      return;
    }
    size_t size;
    {
      std::lock_guard lock(mu_);
      // The mapping may be larger than this request: a reused cached block.
      const auto it = mapped_.find(ptr);
      DLT_ASSERT(it != mapped_.end(), "freeing an unknown host block");
      size = it->second;
      mapped_.erase(it);
      if (cached_ + size <= limit_) {
        free_.emplace(size, ptr);
        cached_ += size;
        return;
      }
    }
    munmap(ptr, size);
  }

  Stats stats() const override {
    std::lock_guard lock(mu_);
    const size_t live = allocated_.load();
    return {live, live + cached_, peak_.load()};
  }

  void empty_cache() override {
    std::lock_guard lock(mu_);
    for (auto& [size, ptr] : free_) munmap(ptr, size);
    free_.clear();
    cached_ = 0;
  }

 private:
  static void* map_block(size_t size) {
    // Over-map by a huge page, then trim, so the block is 2 MiB-aligned.
    void* raw = mmap(nullptr, size + kHugePage, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return nullptr;
    const auto base = reinterpret_cast<uintptr_t>(raw);
    const uintptr_t aligned = round_up(base, kHugePage);
    if (aligned > base) munmap(raw, aligned - base);
    const uintptr_t end = base + size + kHugePage;
    if (end > aligned + size) munmap(reinterpret_cast<void*>(aligned + size), end - aligned - size);
    void* p = reinterpret_cast<void*>(aligned);
    madvise(p, size, MADV_HUGEPAGE);
    return p;
  }

  void count_alloc(size_t nbytes) {
    const size_t now = allocated_.fetch_add(nbytes, std::memory_order_relaxed) + nbytes;
    size_t peak = peak_.load(std::memory_order_relaxed);
    while (now > peak && !peak_.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
    }
  }

  mutable std::mutex mu_;
  std::multimap<size_t, void*> free_;          // cached large blocks by size
  std::unordered_map<void*, size_t> mapped_;  // live large blocks -> mapped size
  size_t cached_ = 0;
  const size_t limit_ = cache_limit_bytes();
  std::atomic<size_t> allocated_{0}, peak_{0};
};

std::atomic<Allocator*>& slot(DeviceType type) {
  static std::atomic<Allocator*> slots[kNumDeviceTypes] = {};
  return slots[static_cast<int>(type)];
}

}  // namespace

Allocator& allocator_for(DeviceType type) {
  if (type == DeviceType::cpu) {
    // Never destroyed: tensors in static objects may outlive any static allocator.
    static CpuAllocator* cpu = new CpuAllocator;
    return *cpu;
  }
  Allocator* a = slot(type).load();
  DLT_CHECK(a != nullptr, "no {} backend in this build of dlt (rebuild with -DDLT_{}=ON)",
            device_type_name(type), type == DeviceType::cuda ? "CUDA" : "HIP");
  return *a;
}

void register_allocator(DeviceType type, Allocator* allocator) { slot(type).store(allocator); }

namespace {
std::atomic<Allocator*> pinned_slot{nullptr};
}  // namespace

Allocator* pinned_allocator() { return pinned_slot.load(); }
void register_pinned_allocator(Allocator* allocator) { pinned_slot.store(allocator); }

}  // namespace dlt
