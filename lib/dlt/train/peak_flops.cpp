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
  double f32, tf32, half;  // TFLOP/s, dense; half: bf16 and fp16 on tensor cores
};
// Vendor data sheets; the first match wins, so the more specific names come first.
const GpuPeak kGpus[] = {
    {"H100 PCIe", "NVIDIA H100 PCIe", 51, 378, 756},
    {"H100 NVL", "NVIDIA H100 NVL", 60, 418, 835},
    {"H100", "NVIDIA H100 SXM", 67, 494.7, 989.4},
    {"H200", "NVIDIA H200", 67, 494.7, 989.4},
    {"GH200", "NVIDIA GH200", 67, 494.7, 989.4},
    {"A100", "NVIDIA A100", 19.5, 156, 312},
    {"A10G", "NVIDIA A10G", 31.2, 62.5, 125},
    {"L40S", "NVIDIA L40S", 91.6, 183, 362},
    {"L4", "NVIDIA L4", 30.3, 60, 121},
    {"V100", "NVIDIA V100", 15.7, 15.7, 125},  // fp16 tensor cores; no bf16
};

// GEMMs of 1024^3 in the run's GEMM dtype for about 0.1 s after a warm-up:
// what this CPU does with the run's threads (the kernels the model uses).
PeakFlops measure_cpu(DType dtype) {
  NoGradGuard no_grad;
  // Constants: GEMM speed does not depend on the values (no subnormals here).
  const Tensor a = full({1024, 1024}, 0.5, dtype), b = full({1024, 1024}, 0.25, dtype);
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
          fmt::format("measured: {} GEMM 1024^3 on {} thread{}", dtype == DType::f32 ? "f32" : "bf16", num_threads(),
                      num_threads() == 1 ? "" : "s")};
}

}  // namespace

std::optional<PeakFlops> gpu_peak_flops(const std::string& name, std::string_view precision) {
  const bool half = precision == "bf16" || precision == "fp16";
  for (const GpuPeak& g : kGpus)
    if (name.find(g.match) != std::string::npos) {
      const double tflops = half ? g.half : precision == "tf32" ? g.tf32 : g.f32;
      return PeakFlops{tflops * 1e12, fmt::format("{}, {} dense", g.model, precision)};
    }
  return std::nullopt;
}

std::optional<PeakFlops> peak_flops(Device device, std::string_view precision) {
  // Under DLT_PROFILE_OPS every op is timed alone (no peak to compare with),
  // and the measurement's GEMMs would show up in its table.
  if (device.is_cpu())
    return trace::op_table_enabled() ? std::nullopt
                                     : std::optional(measure_cpu(precision == "bf16" ? DType::bf16 : DType::f32));
  DeviceRuntime* rt = device_runtime(device.type);
  if (!rt || rt->count() <= device.index) return std::nullopt;
  return gpu_peak_flops(rt->properties(device.index).name, precision);
}

}  // namespace dlt::train
