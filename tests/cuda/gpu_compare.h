// Helpers of the GPU kernel tests: skipping without a device, moving tensors
// over, and comparing a GPU result with a float64 CPU reference.
#pragma once

#include <string>

#include "dlt/core/device_runtime.h"
#include "tests/test_util.h"

namespace dlt::testing {

#define DLT_SKIP_WITHOUT_CUDA()                                                        \
  do {                                                                                 \
    if (::dlt::device_count(::dlt::DeviceType::cuda) == 0)                             \
      GTEST_SKIP() << "no CUDA device: "                                               \
                   << ::dlt::device_unavailable_reason(::dlt::DeviceType::cuda);       \
  } while (0)

inline Tensor on_gpu(const Tensor& t) { return t.defined() ? t.to(Device::cuda()) : t; }
inline Tensor as_f64(const Tensor& t) { return t.defined() ? t.to(DType::f64) : t; }

// |gpu - want| <= tol (1 + |want|) element-wise, with matching shape and the
// GPU result's dtype as asked for.
inline void expect_gpu_close(const Tensor& gpu, const Tensor& want, double tol,
                             const std::string& what) {
  ASSERT_TRUE(gpu.defined()) << what;
  EXPECT_EQ(gpu.device().type, DeviceType::cuda) << what;
  ASSERT_EQ(gpu.shape(), want.shape()) << what;
  const std::string err =
      compare_close(to_vector<double>(gpu), to_vector<double>(want), tol, tol);
  EXPECT_TRUE(err.empty()) << what << ": " << err;
}

}  // namespace dlt::testing
