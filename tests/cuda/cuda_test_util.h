// Shared by the targeted CUDA kernel tests: a fixture that skips without a
// device, and comparisons of a CUDA result with the CPU's.
#pragma once

#include <cmath>
#include <cstring>
#include <vector>

#include "dlt/core/device_runtime.h"
#include "tests/cuda/gpu_compare.h"
#include "tests/test_util.h"

namespace dlt::testing {

class CudaTest : public ::testing::Test {
 protected:
  void SetUp() override { DLT_SKIP_WITHOUT_CUDA(); }
  static Tensor on_cuda(const Tensor& t) { return t.to(Device::cuda()); }
  static TensorOptions cuda(DType t = DType::f32) {
    return TensorOptions(t).device(Device::cuda());
  }
};

// Same shape, dtype, and every value within atol + rtol * |expected|
// (gpu_compare.h's check, with the expected tensor first).
inline void expect_close(const Tensor& expected, const Tensor& actual, double rtol, double atol) {
  expect_close(actual, expected, rtol, atol, "cuda against cpu");
}

// Bit-for-bit equality of two f32 tensors.
inline void expect_bitwise_f32(const Tensor& expected, const Tensor& actual) {
  ASSERT_EQ(expected.shape(), actual.shape());
  const std::vector<float> e = to_vector<float>(expected), a = to_vector<float>(actual);
  int64_t reported = 0;
  for (size_t i = 0; i < e.size(); ++i)
    if (std::memcmp(&e[i], &a[i], sizeof(float)) != 0 && reported++ < 5)
      ADD_FAILURE() << "element " << i << ": cpu " << e[i] << ", cuda " << a[i];
}

}  // namespace dlt::testing
