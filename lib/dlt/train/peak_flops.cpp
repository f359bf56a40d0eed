#include "dlt/train/peak_flops.h"

#include <chrono>

#include "dlt/core/device_runtime.h"
#include "dlt/core/grad_mode.h"
#include "dlt/core/parallel.h"
#include "dlt/core/trace.h"
#include "dlt/ops/ops.h"

namespace dlt::train {

namespace {

struct GpuPeak {
  const char* match;  // a substring of the device name
  const char* model;
  double f32, tf32;   // TFLOP/s, dense
};
// Vendor data sheets; the first match wins, so the more specific names come first.
const GpuPeak kGpus[] = {
    {"H100 PCIe", "NVIDIA H100 PCIe", 51, 378},
    {"H100 NVL", "NVIDIA H100 NVL", 60, 418},
    {"H100", "NVIDIA H100 SXM", 67, 494.7},
    {"H200", "NVIDIA H200", 67, 494.7},
    {"GH200", "NVIDIA GH200", 67, 494.7},
    {"A100", "NVIDIA A100", 19.5, 156},
    {"A10G", "NVIDIA A10G", 31.2, 62.5},
    {"L40S", "NVIDIA L40S", 91.6, 183},
    {"L4", "NVIDIA L4", 30.3, 60},
    {"V100", "NVIDIA V100", 15.7, 15.7},
};

// f32 GEMMs of 1024^3 for about 0.1 s after a warm-up: what this CPU does
// with the run's threads (oneDNN's kernels, the same the model uses).
PeakFlops measure_cpu() {
  NoGradGuard no_grad;
  // Constants: f32 GEMM speed does not depend on the values (no subnormals here).
  const Tensor a = full({1024, 1024}, 0.5), b = full({1024, 1024}, 0.25);
  (void)matmul(a, b);
  const auto t0 = std::chrono::steady_clock::now();
  int calls = 0;
  double s = 0;
  do {
    (void)matmul(a, b);
    ++calls;
    s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  } while (s < 0.1);
  return {2.0 * 1024 * 1024 * 1024 * calls / s,
          fmt::format("measured: f32 GEMM 1024^3 on {} thread{}", num_threads(), num_threads() == 1 ? "" : "s")};
}

}  // namespace

std::optional<PeakFlops> gpu_peak_flops(const std::string& name, bool tf32) {
  for (const GpuPeak& g : kGpus)
    if (name.find(g.match) != std::string::npos)
      return PeakFlops{(tf32 ? g.tf32 : g.f32) * 1e12, fmt::format("{}, {} dense", g.model, tf32 ? "tf32" : "f32")};
  return std::nullopt;
}

std::optional<PeakFlops> peak_flops(Device device, bool tf32) {
  // Under DLT_PROFILE_OPS every op is timed alone (no peak to compare with),
  // and the measurement's GEMMs would show up in its table.
  if (device.is_cpu()) return trace::op_table_enabled() ? std::nullopt : std::optional(measure_cpu());
  DeviceRuntime* rt = device_runtime(device.type);
  if (!rt || rt->count() <= device.index) return std::nullopt;
  return gpu_peak_flops(rt->properties(device.index).name, tf32);
}

}  // namespace dlt::train
