// CUDA runtime names used here (for the HIP mapping): cudaGetDeviceCount,
// cudaSetDevice, cudaStreamCreateWithFlags, cudaStreamNonBlocking,
// cudaStreamSynchronize, cudaGetDeviceProperties, cudaDeviceProp,
// cudaDriverGetVersion, cudaRuntimeGetVersion, cudaEventCreate, cudaEventRecord,
// cudaEventSynchronize, cudaEventElapsedTime, cudaEventDestroy,
// cudaDeviceGetAttribute, cudaDevAttrMaxSharedMemoryPerBlock(Optin), cudaGetLastError.
#include "kernels/cuda/runtime.h"

#include <map>
#include <mutex>
#include <vector>

#include "dlt/core/device_runtime.h"
#include "dlt/core/error.h"
#include "kernels/cuda/tensor_arg_host.h"  // DLT_GPU_DEVICE

namespace dlt::gpu {

void fail(const char* expr, const char* message, const char* file, int line) {
  throw Error(fmt::format("GPU error: {} ({}) at {}:{}", message, expr, file, line));
}

namespace {

struct DeviceTable {
  int count = 0;
  std::string why;
  std::vector<cudaStream_t> streams;       // compute, one per device
  std::vector<cudaStream_t> copy_streams;  // prefetching uploads (upload_async)
  std::vector<size_t> shared_bytes;        // max_shared_bytes_per_block; 0 until asked
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
    t->copy_streams.assign(size_t(t->count), nullptr);
    t->shared_bytes.assign(size_t(t->count), 0);
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

cudaStream_t copy_stream(int device) {
  use_device(device);  // checks the index, makes the device current
  DeviceTable& t = devices();
  std::lock_guard lock(t.mu);
  cudaStream_t& s = t.copy_streams[size_t(device)];
  if (!s) DLT_GPU_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  return s;
}

size_t max_shared_bytes_per_block(int device) {
  use_device(device);  // checks the index
  DeviceTable& t = devices();
  std::lock_guard lock(t.mu);
  size_t& limit = t.shared_bytes[size_t(device)];
  if (limit == 0) {
    int optin = 0, plain = 0;
    if (cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device) != cudaSuccess) {
      (void)cudaGetLastError();
      optin = 0;
    }
    DLT_GPU_CHECK(cudaDeviceGetAttribute(&plain, cudaDevAttrMaxSharedMemoryPerBlock, device));
    limit = size_t(optin > plain ? optin : plain);
  }
  return limit;
}

void synchronize(int device) { DLT_GPU_CHECK(cudaStreamSynchronize(use_device(device))); }

std::vector<std::pair<int, cudaStream_t>> created_streams() {
  DeviceTable& t = devices();
  std::lock_guard lock(t.mu);
  std::vector<std::pair<int, cudaStream_t>> out;
  for (size_t i = 0; i < t.streams.size(); ++i)
    if (t.streams[i]) out.emplace_back(int(i), t.streams[i]);
  return out;
}

namespace {

std::string version_string(int v) {  // 12040 -> "12.4"
  return v > 0 ? fmt::format("{}.{}", v / 1000, (v % 1000) / 10) : std::string("none");
}

// dlt::DeviceRuntime for the rest of dlt (dlt info, train.device, tests).
class GpuRuntime final : public DeviceRuntime {
 public:
  int count() const override { return device_count(); }
  std::string why_unavailable() const override { return gpu::why_unavailable(); }

  DeviceProperties properties(int index) const override {
    DLT_CHECK(index >= 0 && index < count(), "no GPU device {} ({} usable)", index, count());
    cudaDeviceProp p{};
    DLT_GPU_CHECK(cudaGetDeviceProperties(&p, index));
    DeviceProperties d;
    d.name = p.name;
    d.total_memory = p.totalGlobalMem;
    d.major = p.major;
    d.minor = p.minor;
    d.multiprocessors = p.multiProcessorCount;
    return d;
  }

  std::string driver_version() const override {
    int v = 0;
    if (cudaDriverGetVersion(&v) != cudaSuccess) (void)cudaGetLastError();
    return version_string(v);
  }

  std::string runtime_version() const override {
    int v = 0;
    if (cudaRuntimeGetVersion(&v) != cudaSuccess) (void)cudaGetLastError();
    return version_string(v);
  }

  void synchronize(int index) override { gpu::synchronize(index); }

  uint64_t upload_async(const Tensor& dst, const Tensor& src) override {
    DLT_CHECK(src.is_contiguous() && src.is_pinned() && dst.is_contiguous() &&
                  dst.device().type == DeviceType::DLT_GPU_DEVICE && src.dtype() == dst.dtype() &&
                  src.numel() == dst.numel(),
              "upload_async: expected a contiguous pinned host tensor and a contiguous device "
              "tensor of one dtype and size, got {} and {}",
              src.str(), dst.str());
    const int index = dst.device().index;
    const cudaStream_t compute = use_device(index);
    const cudaStream_t copy = copy_stream(index);
    cudaEvent_t queued, done;
    DLT_GPU_CHECK(cudaEventCreateWithFlags(&queued, cudaEventDisableTiming));
    DLT_GPU_CHECK(cudaEventRecord(queued, compute));
    DLT_GPU_CHECK(cudaStreamWaitEvent(copy, queued, 0));
    DLT_GPU_CHECK(cudaEventDestroy(queued));  // released once it has completed
    if (src.numel() > 0)
      DLT_GPU_CHECK(cudaMemcpyAsync(dst.raw_data(), src.raw_data(), size_t(src.numel()) * src.element_size(),
                                    cudaMemcpyHostToDevice, copy));
    DLT_GPU_CHECK(cudaEventCreateWithFlags(&done, cudaEventDisableTiming));
    DLT_GPU_CHECK(cudaEventRecord(done, copy));
    std::lock_guard lock(mu_);
    uploads_[++last_ticket_] = done;
    return last_ticket_;
  }

  void wait_upload(int index, uint64_t ticket) override {
    cudaEvent_t done;
    {
      std::lock_guard lock(mu_);
      const auto it = uploads_.find(ticket);
      DLT_CHECK(it != uploads_.end(), "wait_upload: unknown ticket {}", ticket);
      done = it->second;
      uploads_.erase(it);
    }
    DLT_GPU_CHECK(cudaStreamWaitEvent(use_device(index), done, 0));
    DLT_GPU_CHECK(cudaEventDestroy(done));
  }

  uint64_t mark(int index) override {
    const cudaStream_t compute = use_device(index);
    cudaEvent_t e;
    DLT_GPU_CHECK(cudaEventCreate(&e));  // with timing
    DLT_GPU_CHECK(cudaEventRecord(e, compute));
    std::lock_guard lock(mu_);
    marks_[++last_ticket_] = e;
    return last_ticket_;
  }

  double elapsed_us(uint64_t from, uint64_t to) override {
    const cudaEvent_t a = find_mark(from), b = find_mark(to);
    DLT_GPU_CHECK(cudaEventSynchronize(b));
    float ms = 0;
    DLT_GPU_CHECK(cudaEventElapsedTime(&ms, a, b));
    return 1e3 * double(ms);
  }

  void release_mark(uint64_t m) override {
    cudaEvent_t e;
    {
      std::lock_guard lock(mu_);
      const auto it = marks_.find(m);
      if (it == marks_.end()) return;
      e = it->second;
      marks_.erase(it);
    }
    DLT_GPU_CHECK(cudaEventDestroy(e));
  }

 private:
  cudaEvent_t find_mark(uint64_t m) {
    std::lock_guard lock(mu_);
    const auto it = marks_.find(m);
    DLT_CHECK(it != marks_.end(), "elapsed_us: unknown mark {}", m);
    return it->second;
  }

  std::mutex mu_;
  uint64_t last_ticket_ = 0;
  std::map<uint64_t, cudaEvent_t> uploads_;
  std::map<uint64_t, cudaEvent_t> marks_;  // the profiler's timestamps
};

// Registered at start-up; asks the driver nothing until first used.
const bool registered = [] {
  static GpuRuntime runtime;
  register_device_runtime(DeviceType::DLT_GPU_DEVICE, &runtime);
  return true;
}();

}  // namespace

}  // namespace dlt::gpu
