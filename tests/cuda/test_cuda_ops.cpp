// Every row of the op table (tests/ops/cases_*.cpp) on CUDA against the same
// row on the CPU, forward and backward, in each dtype the row lists, with the
// per-op tolerances of gpu_tolerance.h; a float64 gradcheck of the
// differentiable rows computed wholly on CUDA; and, in a CUDA build, the
// check that every op needing a kernel has a CUDA one.
#include <set>

#include "dlt/core/grad_mode.h"
#include "dlt/ops/dispatch.h"
#include "tests/cuda/cuda_harness.h"
#include "tests/cuda/gpu_tolerance.h"
#include "tests/test_util.h"

namespace dlt::testing {
namespace {

struct RowResult {
  Tensor output;
  std::vector<Tensor> grads;  // per input; undefined where not differentiated
};

// Runs row `c` in `dtype` on `device`: the same inputs (drawn on the host,
// strides kept), the same upstream gradient, one backward pass.
RowResult run_row(const OpCase& c, DType dtype, Device device) {
  const Inputs drawn = make_inputs(c, dtype, case_seed(c));
  Inputs x;
  for (size_t k = 0; k < drawn.size(); ++k) {
    Tensor t = device.is_cpu() ? drawn[k] : to_device_as_drawn(drawn[k], c.inputs[k], device);
    if (c.inputs[k].grad && is_floating(t.dtype())) t.requires_grad_(true);
    x.push_back(t);
  }
  RowResult r;
  r.output = c.fn(x);
  if (r.output.requires_grad()) {
    Generator gen(case_seed(c) ^ 0x5151);
    const Tensor w = randn(r.output.shape(), DType::f64, &gen).to(r.output.dtype()).to(device);
    r.output.backward(w);
    for (const Tensor& xi : x) r.grads.push_back(xi.requires_grad() ? xi.grad() : Tensor());
  }
  return r;
}

// The tolerance for row `c` in `dtype`: the op's class from gpu_tolerance.h,
// widened to the row's own tolerance against torch where that is looser (rows
// that are ill-conditioned on purpose say so there). Exact ops stay exact.
Tolerance row_tolerance(const OpCase& c, DType dtype, bool backward) {
  Tolerance t = gpu_tolerance(c.op, dtype, backward);
  if (!backward && op_class(c.op) == OpClass::exact) return t;
  for (const Tolerance& own : c.tolerances)
    if (own.dtype == dtype) {
      t.rtol = std::max(t.rtol, own.rtol);
      t.atol = std::max(t.atol, own.atol);
    }
  return t;
}

std::vector<size_t> all_rows() {
  std::vector<size_t> rows(op_cases().size());
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = i;
  return rows;
}

class CudaOps : public ::testing::TestWithParam<size_t> {};

TEST_P(CudaOps, MatchesTheCpu) {
  DLT_SKIP_WITHOUT_CUDA();
  const OpCase& c = op_cases()[GetParam()];
  if (!c.on_gpu) GTEST_SKIP() << case_name(c) << " runs on the CPU only";
  for (const Tolerance& listed : c.tolerances) {
    const DType dtype = listed.dtype;
    SCOPED_TRACE(fmt::format("{} in {} ({})", case_name(c), dtype_name(dtype), op_class_name(op_class(c.op))));
    RowResult cpu, gpu;
    try {
      cpu = run_row(c, dtype, Device::cpu());
    } catch (const std::exception& e) {
      ADD_FAILURE() << "the cpu run failed: " << e.what();
      continue;
    }
    try {
      gpu = run_row(c, dtype, Device::cuda());
    } catch (const std::exception& e) {
      ADD_FAILURE() << "the cuda run failed: " << e.what();
      continue;
    }
    ASSERT_EQ(gpu.output.device(), Device::cuda());
    ASSERT_EQ(gpu.output.shape(), cpu.output.shape());
    ASSERT_EQ(gpu.output.dtype(), cpu.output.dtype());
    const bool floating_out = is_floating(cpu.output.dtype());
    const Tolerance fwd = floating_out ? row_tolerance(c, dtype, false) : Tolerance{dtype, 0, 0};
    const std::string out_err =
        compare_close(to_vector<double>(gpu.output), to_vector<double>(cpu.output), fwd.rtol, fwd.atol);
    EXPECT_TRUE(out_err.empty()) << "forward: " << out_err;

    ASSERT_EQ(gpu.grads.size(), cpu.grads.size()) << "backward ran on one device only";
    const Tolerance bwd = row_tolerance(c, dtype, true);
    for (size_t k = 0; k < cpu.grads.size(); ++k) {
      if (!cpu.grads[k].defined()) continue;
      ASSERT_TRUE(gpu.grads[k].defined()) << "no cuda gradient for input " << k;
      EXPECT_EQ(gpu.grads[k].device(), Device::cuda()) << "gradient of input " << k;
      const std::string err = compare_close(to_vector<double>(gpu.grads[k]), to_vector<double>(cpu.grads[k]),
                                            bwd.rtol, bwd.atol);
      EXPECT_TRUE(err.empty()) << "gradient of input " << k << ": " << err;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Cuda, CudaOps, ::testing::ValuesIn(all_rows()),
                         [](const auto& info) { return case_test_name(info.param); });

// tests/ops/test_gradcheck.cpp on CUDA: inputs, the op, its backward and every
// finite-difference evaluation run there; only the loss is read back.
constexpr double kRtol = 1e-3, kAtol = 1e-5;  // torch.autograd.gradcheck's

double loss_of(const OpCase& c, const Inputs& x, const std::vector<double>& w) {
  NoGradGuard no_grad;
  const std::vector<double> y = to_vector<double>(c.fn(x));
  double l = 0;
  for (size_t i = 0; i < y.size(); ++i) l += y[i] * w[i];
  return l;
}

class CudaGradcheck : public ::testing::TestWithParam<size_t> {};

TEST_P(CudaGradcheck, MatchesFiniteDifferences) {
  DLT_SKIP_WITHOUT_CUDA();
  const OpCase& c = op_cases()[GetParam()];
  if (!c.on_gpu) GTEST_SKIP() << case_name(c) << " runs on the CPU only";
  const Device cuda = Device::cuda();
  const Inputs drawn = make_inputs(c, DType::f64, case_seed(c));
  Inputs x;
  std::vector<size_t> wrt;
  for (size_t k = 0; k < drawn.size(); ++k) {
    x.push_back(to_device_as_drawn(drawn[k], c.inputs[k], cuda));
    if (c.inputs[k].grad && is_floating(x[k].dtype())) {
      x[k].requires_grad_(true);
      wrt.push_back(k);
    }
  }
  ASSERT_FALSE(wrt.empty()) << case_name(c) << ": no input to differentiate";

  const Tensor y = c.fn(x);
  ASSERT_EQ(y.device(), cuda);
  ASSERT_TRUE(y.requires_grad()) << case_name(c) << ": output does not require grad";
  Generator gen(case_seed(c) ^ 0xabcdef);
  const Tensor w = randn(y.shape(), DType::f64, &gen);
  y.backward(w.to(cuda));
  const std::vector<double> wv = to_vector<double>(w);

  for (size_t k : wrt) {
    ASSERT_TRUE(x[k].grad().defined()) << case_name(c) << ": no gradient for input " << k;
    ASSERT_EQ(x[k].grad().shape(), x[k].shape());
    const std::vector<double> analytic = to_vector<double>(x[k].grad());
    const std::vector<double> base = to_vector<double>(x[k]);
    std::vector<double> numeric(analytic.size());
    for (size_t j = 0; j < base.size(); ++j) {
      const double eps = c.gradcheck_eps;
      std::vector<double> plus = base, minus = base;
      plus[j] += eps;
      minus[j] -= eps;
      Inputs xp = x, xm = x;
      xp[k] = from_vector(plus, x[k].shape()).to(cuda);
      xm[k] = from_vector(minus, x[k].shape()).to(cuda);
      numeric[j] = (loss_of(c, xp, wv) - loss_of(c, xm, wv)) / (2 * eps);
    }
    const std::string err = compare_close(analytic, numeric, kRtol, kAtol);
    EXPECT_TRUE(err.empty()) << case_name(c) << ", gradient of input " << k << ": " << err;
  }
}

INSTANTIATE_TEST_SUITE_P(Cuda, CudaGradcheck, ::testing::ValuesIn(gradcheck_rows()),
                         [](const auto& info) { return case_test_name(info.param); });

#ifdef DLT_WITH_CUDA
// Runs in every CUDA build, with or without a device: kernels register at start-up.
TEST(OpCoverage, EveryKernelOpHasACudaKernel) {
  std::vector<std::string> missing;
  for (int i = 0; i < ops::kNumOps; ++i) {
    const auto id = static_cast<ops::OpId>(i);
    if (ops::needs_kernel(id) && ops::find_kernel(id, DeviceType::cuda) == nullptr)
      missing.push_back(ops::op_name(id));
  }
  EXPECT_TRUE(missing.empty()) << missing.size() << " ops of the op list have no cuda kernel: "
                               << fmt::format("{}", fmt::join(missing, ", "));
}
#endif

}  // namespace
}  // namespace dlt::testing
