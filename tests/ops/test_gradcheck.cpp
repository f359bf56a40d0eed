// Finite-difference gradcheck (float64) of every row of the op table whose
// op is differentiable: central differences of L = <fn(x), w> for a random w
// against the gradients backward() accumulates.
#include "dlt/core/grad_mode.h"
#include "tests/ops/op_case.h"
#include "tests/test_util.h"

namespace dlt::testing {
namespace {

// torch.autograd.gradcheck's defaults.
constexpr double kRtol = 1e-3, kAtol = 1e-5;

double loss_on_host(const OpCase& c, const Inputs& x, const std::vector<double>& w) {
  NoGradGuard no_grad;
  const std::vector<double> y = to_vector<double>(c.fn(x));
  double l = 0;
  for (size_t i = 0; i < y.size(); ++i) l += y[i] * w[i];
  return l;
}

class Gradcheck : public ::testing::TestWithParam<size_t> {};

TEST_P(Gradcheck, MatchesFiniteDifferences) {
  const OpCase& c = op_cases()[GetParam()];
  Inputs x = make_inputs(c, DType::f64, case_seed(c));
  std::vector<size_t> wrt;
  for (size_t k = 0; k < x.size(); ++k)
    if (c.inputs[k].grad && is_floating(x[k].dtype())) {
      x[k].requires_grad_(true);
      wrt.push_back(k);
    }
  ASSERT_FALSE(wrt.empty()) << case_name(c) << ": no input to differentiate";

  const Tensor y = c.fn(x);
  ASSERT_TRUE(is_floating(y.dtype())) << case_name(c) << ": output is not floating";
  Generator gen(case_seed(c) ^ 0xabcdef);
  const Tensor w = randn(y.shape(), DType::f64, &gen);
  ASSERT_TRUE(y.requires_grad()) << case_name(c) << ": output does not require grad";
  y.backward(w);
  const std::vector<double> wv = to_vector<double>(w);

  for (size_t k : wrt) {
    ASSERT_TRUE(x[k].grad().defined()) << case_name(c) << ": no gradient for input " << k;
    ASSERT_EQ(x[k].grad().shape(), x[k].shape());
    const std::vector<double> analytic = to_vector<double>(x[k].grad());
    std::vector<double> numeric(analytic.size());
    std::vector<double> base = to_vector<double>(x[k]);
    for (size_t j = 0; j < base.size(); ++j) {
      Inputs xp = x, xm = x;
      const double eps = c.gradcheck_eps;
      std::vector<double> plus = base, minus = base;
      plus[j] += eps;
      minus[j] -= eps;
      xp[k] = from_vector(plus, x[k].shape());
      xm[k] = from_vector(minus, x[k].shape());
      numeric[j] = (loss_on_host(c, xp, wv) - loss_on_host(c, xm, wv)) / (2 * eps);
    }
    const std::string err = compare_close(analytic, numeric, kRtol, kAtol);
    EXPECT_TRUE(err.empty()) << case_name(c) << ", gradient of input " << k << ": " << err;
  }
}

INSTANTIATE_TEST_SUITE_P(Ops, Gradcheck, ::testing::ValuesIn(gradcheck_rows()),
                         [](const auto& info) { return case_test_name(info.param); });

}  // namespace
}  // namespace dlt::testing
