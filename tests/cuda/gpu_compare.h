// Shared by the GPU kernel tests: skip without a device, copy to it, and
// compare a GPU result with the CPU kernel's (or a float64 reference) within
// a tolerance.
#pragma once

#include <cmath>
#include <string>

#include "dlt/core/device_runtime.h"
#include "dlt/core/math_mode.h"
#include "tests/test_util.h"

namespace dlt::testing {

#define DLT_SKIP_WITHOUT_CUDA()                                                  \
  do {                                                                           \
    if (::dlt::device_count(::dlt::DeviceType::cuda) == 0)                       \
      GTEST_SKIP() << "no CUDA device: "                                         \
                   << ::dlt::device_unavailable_reason(::dlt::DeviceType::cuda); \
  } while (0)

// Sets the process-wide TF32 switch for a test and restores it afterwards.
class Tf32Scope {
 public:
  explicit Tf32Scope(bool allow) : before_(allow_tf32()) { set_allow_tf32(allow); }
  ~Tf32Scope() { set_allow_tf32(before_); }
  Tf32Scope(const Tf32Scope&) = delete;
  Tf32Scope& operator=(const Tf32Scope&) = delete;

 private:
  bool before_;
};

inline Tensor on_cuda(const Tensor& t) { return t.defined() ? t.to(Device::cuda()) : t; }
inline Tensor as_f64(const Tensor& t) { return t.defined() ? t.to(DType::f64) : t; }

// |gpu - want| <= tol (1 + |want|) element-wise, with matching shape.
inline void expect_gpu_close(const Tensor& gpu, const Tensor& want, double tol,
                             const std::string& what) {
  ASSERT_TRUE(gpu.defined()) << what;
  EXPECT_EQ(gpu.device().type, DeviceType::cuda) << what;
  ASSERT_EQ(gpu.shape(), want.shape()) << what;
  const std::string err =
      compare_close(to_vector<double>(gpu), to_vector<double>(want), tol, tol);
  EXPECT_TRUE(err.empty()) << what << ": " << err;
}

// ||gpu - want|| / ||want|| <= tol: for reduced-precision products (f16, bf16,
// TF32), whose rounding and split-K order make elementwise bounds on values
// near zero meaningless.
inline void expect_gpu_norm_close(const Tensor& gpu, const Tensor& want, double tol,
                                  const std::string& what) {
  ASSERT_EQ(gpu.shape(), want.shape()) << what;
  const std::vector<double> g = to_vector<double>(gpu), w = to_vector<double>(want);
  double diff = 0, norm = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    diff += (g[i] - w[i]) * (g[i] - w[i]);
    norm += w[i] * w[i];
  }
  const double rel = norm > 0 ? std::sqrt(diff / norm) : std::sqrt(diff);
  EXPECT_LE(rel, tol) << what << ": relative error " << rel;
}

// |got - want| <= atol + rtol |want| elementwise (nan matches nan), same shape
// and dtype.
inline void expect_close(const Tensor& got, const Tensor& want, double rtol, double atol,
                         const std::string& what) {
  ASSERT_EQ(got.shape(), want.shape()) << what;
  ASSERT_EQ(got.dtype(), want.dtype()) << what;
  const std::vector<double> g = to_vector<double>(got), w = to_vector<double>(want);
  int reported = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    const bool both_nan = std::isnan(g[i]) && std::isnan(w[i]);
    const bool ok =
        both_nan || g[i] == w[i] || std::abs(g[i] - w[i]) <= atol + rtol * std::abs(w[i]);
    if (!ok && reported++ < 5)
      ADD_FAILURE() << what << ": element " << i << " is " << g[i] << " on the GPU, " << w[i]
                    << " on the CPU";
  }
}

inline void expect_equal(const Tensor& got, const Tensor& want, const std::string& what) {
  expect_close(got, want, 0, 0, what);
}

}  // namespace dlt::testing
