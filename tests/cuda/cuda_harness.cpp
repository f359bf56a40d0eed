#include "tests/cuda/cuda_harness.h"

#include <cstdio>
#include <cstdlib>

namespace dlt::testing {

Tensor to_device_as_drawn(const Tensor& x, const InputSpec& spec, Device device) {
  if (!spec.noncontig || x.dim() == 0) return x.to(device);
  // (..., 2n) on the host with x in the even columns, moved whole, viewed again.
  Shape wide = x.shape();
  wide.back() *= 2;
  Tensor host = zeros(wide, TensorOptions(x.dtype()));
  host.slice(-1, 0, std::nullopt, 2).copy_(x);
  return host.to(device).slice(-1, 0, std::nullopt, 2);
}

std::string source_dir() {
  const char* env = std::getenv("DLT_SOURCE_DIR");
  return env && *env ? env : DLT_SOURCE_DIR;
}

namespace {

// The `gpu` ctest group (tests/cuda/run_gpu_tests.sh) sets DLT_GPU_GROUP: with
// no usable device the whole run is one line and exit 77, which ctest reports
// as skipped, instead of a skip per test.
class GpuGroupEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    const char* group = std::getenv("DLT_GPU_GROUP");
    if (!group || !*group || cuda_usable()) return;
    std::printf("SKIPPED gpu: no usable CUDA device (%s)\n",
                device_unavailable_reason(DeviceType::cuda).c_str());
    std::fflush(stdout);
    std::_Exit(77);
  }
};

[[maybe_unused]] ::testing::Environment* const gpu_group_environment =
    ::testing::AddGlobalTestEnvironment(new GpuGroupEnvironment);

}  // namespace

}  // namespace dlt::testing
