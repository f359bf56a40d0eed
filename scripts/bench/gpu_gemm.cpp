// The dlt side of scripts/bench/gpu_gemm.sh: dlt's matmul on the GPU, square
// products in f32 (TF32 off), TF32, bf16 and fp16, each as TFLOP/s and its
// share of the GPU's dense peak for that precision (dlt's table of GPUs,
// lib/dlt/train/peak_flops.h). One JSON line a product;
// scripts/bench/gpu_gemm_torch.py times torch.matmul the same way.
//
//   build-cuda/bench_gpu_gemm [N...]          (default 4096 8192)
// Without a usable GPU it says why and exits 0.
#include <fmt/core.h>

#include <chrono>
#include <string>
#include <vector>

#include "dlt/core/device_runtime.h"
#include "dlt/core/math_mode.h"
#include "dlt/ops/ops.h"
#include "dlt/train/peak_flops.h"

namespace {

using namespace dlt;

// Mean milliseconds of f() over enough calls to fill ~0.5 s, after warm-up
// calls; the device is drained before and after, so every call is counted.
template <class F> double time_ms(F&& f) {
  using Clock = std::chrono::steady_clock;
  for (int i = 0; i < 3; ++i) f();
  synchronize(Device::cuda());
  int calls = 1;
  for (;;) {
    const auto t0 = Clock::now();
    for (int i = 0; i < calls; ++i) f();
    synchronize(Device::cuda());
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (ms > 500 || calls >= 1000) return ms / calls;
    calls *= 2;
  }
}

struct Precision {
  const char* name;  // as train.precision names it
  DType dtype;
  bool tf32;
};

}  // namespace

int main(int argc, char** argv) {
  if (device_count(DeviceType::cuda) == 0) {
    fmt::print(stderr, "bench_gpu_gemm: no GPU: {}\n", device_unavailable_reason(DeviceType::cuda));
    return 0;
  }
  std::vector<int64_t> sizes;
  for (int i = 1; i < argc; ++i) sizes.push_back(std::stoll(argv[i]));
  if (sizes.empty()) sizes = {4096, 8192};
  const std::string gpu = device_runtime(DeviceType::cuda)->properties(0).name;
  const Precision precisions[] = {
      {"f32", DType::f32, false}, {"tf32", DType::f32, true}, {"bf16", DType::bf16, false}, {"fp16", DType::f16, false}};
  manual_seed(0);
  for (const Precision& p : precisions) {
    set_allow_tf32(p.tf32);
    const auto peak = train::gpu_peak_flops(gpu, p.name);
    for (const int64_t n : sizes) {
      const Tensor a = randn({n, n}).to(p.dtype).to(Device::cuda());
      const Tensor b = randn({n, n}).to(p.dtype).to(Device::cuda());
      const double ms = time_ms([&] { matmul(a, b); });
      const double tflops = 2.0 * double(n) * double(n) * double(n) / ms / 1e9;
      fmt::print("{{\"precision\": \"{}\", \"n\": {}, \"tflops\": {:.1f}, \"peak_tflops\": {}}}\n", p.name, n, tflops,
                 peak ? fmt::format("{:.1f}", peak->flops_per_s / 1e12) : "null");
      std::fflush(stdout);
    }
  }
  set_allow_tf32(false);
  return 0;
}
