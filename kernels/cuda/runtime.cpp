#include "kernels/cuda/runtime.h"

#include <mutex>
#include <vector>

#include "dlt/core/error.h"

namespace dlt::gpu {

void fail(const char* expr, const char* message, const char* file, int line) {
  throw Error(fmt::format("GPU error: {} ({}) at {}:{}", message, expr, file, line));
}

namespace {

struct DeviceTable {
  int count = 0;
  std::string why;
  std::vector<cudaStream_t> streams;
  std::mutex mu;
};

DeviceTable& devices() {
  static DeviceTable* table = [] {
    auto* t = new DeviceTable;  // never destroyed: streams outlive static tensors
    const cudaError_t err = cudaGetDeviceCount(&t->count);
    if (err != cudaSuccess) {
      t->count = 0;  // the runtime leaves it untouched on error
      t->why = cudaGetErrorString(err);
      (void)cudaGetLastError();
    } else if (t->count == 0) {
      t->why = "the runtime found no devices";
    }
    t->streams.assign(size_t(t->count), nullptr);
    return t;
  }();
  return *table;
}

}  // namespace

int device_count() { return devices().count; }

std::string why_unavailable() { return devices().why; }

cudaStream_t use_device(int device) {
  DeviceTable& t = devices();
  DLT_CHECK(device >= 0 && device < t.count, "cuda:{} is not available ({} usable device{}{})",
            device, t.count, t.count == 1 ? "" : "s", t.why.empty() ? "" : ": " + t.why);
  DLT_GPU_CHECK(cudaSetDevice(device));
  std::lock_guard lock(t.mu);
  cudaStream_t& s = t.streams[size_t(device)];
  if (!s) DLT_GPU_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  return s;
}

void synchronize(int device) { DLT_GPU_CHECK(cudaStreamSynchronize(use_device(device))); }

}  // namespace dlt::gpu
