// What the rest of dlt may ask of an accelerator backend without touching its
// memory: how many devices, why none, their properties, and waiting for them.
// A backend (kernels/cuda) registers one; builds without it answer plainly.
#pragma once

#include <cstddef>
#include <string>

#include "dlt/core/device.h"
#include "dlt/core/tensor.h"

namespace dlt {

struct DeviceProperties {
  std::string name;
  size_t total_memory = 0;  // bytes
  int major = 0, minor = 0;  // compute capability
  int multiprocessors = 0;
};

class DeviceRuntime {
 public:
  virtual ~DeviceRuntime() = default;
  virtual int count() const = 0;
  // Why count() is 0, in the runtime's words (empty when devices exist).
  virtual std::string why_unavailable() const = 0;
  virtual DeviceProperties properties(int index) const = 0;
  virtual std::string driver_version() const = 0;
  virtual std::string runtime_version() const = 0;
  // Waits until all work queued on the device has finished.
  virtual void synchronize(int index) = 0;

  // Prefetching: copies `src` (contiguous, in pinned host memory) into `dst`
  // (contiguous, on this device, same dtype and size) on the device's copy
  // stream, so it overlaps the compute stream's work. The copy starts after
  // the work queued so far on the compute stream (earlier users of dst's
  // memory). Returns a ticket; wait_upload makes the compute stream's later
  // work wait for the copy, and must be called before dst is read or freed.
  virtual uint64_t upload_async(const Tensor& dst, const Tensor& src) = 0;
  virtual void wait_upload(int index, uint64_t ticket) = 0;

  // The profiler's clock on a device: mark() queues a timestamp on the
  // compute stream after the work queued so far and returns its handle;
  // elapsed_us() waits for the later mark and returns the time between two;
  // release_mark() frees one.
  virtual uint64_t mark(int index) = 0;
  virtual double elapsed_us(uint64_t from, uint64_t to) = 0;
  virtual void release_mark(uint64_t mark) = 0;
};

void register_device_runtime(DeviceType type, DeviceRuntime* runtime);
DeviceRuntime* device_runtime(DeviceType type);  // nullptr when not built

// Usable devices of a type; 0 in a build without its backend.
int device_count(DeviceType type);
// Why there are none: the runtime's error, or that the build lacks the backend.
std::string device_unavailable_reason(DeviceType type);
// Waits for the device's queued work (no-op on the CPU).
void synchronize(Device device);

}  // namespace dlt
