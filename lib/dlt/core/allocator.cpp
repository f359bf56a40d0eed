#include "dlt/core/allocator.h"

#include <atomic>
#include <cstdlib>
#include <new>

namespace dlt {
namespace {

// 64-byte aligned host memory, so vector loads never straddle a cache line
// and oneDNN gets the alignment it prefers.
class CpuAllocator final : public Allocator {
 public:
  void* allocate(size_t nbytes, int) override {
    if (nbytes == 0) return nullptr;
    void* p = std::aligned_alloc(64, (nbytes + 63) / 64 * 64);
    if (!p) throw Error(fmt::format("out of host memory allocating {} bytes", nbytes));
    return p;
  }
  void deallocate(void* ptr, int) override { std::free(ptr); }
};

std::atomic<Allocator*>& slot(DeviceType type) {
  static std::atomic<Allocator*> slots[kNumDeviceTypes] = {};
  return slots[static_cast<int>(type)];
}

}  // namespace

Allocator& allocator_for(DeviceType type) {
  if (type == DeviceType::cpu) {
    static CpuAllocator cpu;
    return cpu;
  }
  Allocator* a = slot(type).load();
  DLT_CHECK(a != nullptr, "no {} backend in this build of dlt (rebuild with -DDLT_{}=ON)",
            device_type_name(type), type == DeviceType::cuda ? "CUDA" : "HIP");
  return *a;
}

void register_allocator(DeviceType type, Allocator* allocator) { slot(type).store(allocator); }

}  // namespace dlt
