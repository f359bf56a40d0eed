// Autocast against the op list: every op has a cast policy, and every row of
// the op table run under autocast gives the policy's dtype and the very bits
// of the row run without autocast on inputs cast by hand (PyTorch's autocast
// test). Rows run from f32 inputs and from low-precision inputs, in bf16 and
// f16.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

#include "dlt/ops/autocast.h"
#include "dlt/ops/dispatch.h"
#include "tests/ops/op_case.h"
#include "tests/test_util.h"

namespace dlt::testing {
namespace {

using ops::CastPolicy;
using ops::OpId;

TEST(Autocast, OnlyBackwardKernelsAndOptimizerStepsRunOutsideIt) {
  for (int i = 0; i < ops::kNumOps; ++i) {
    const OpId id = static_cast<OpId>(i);
    // Backward kernels, and the passes over gradients after backward
    // (optimizer steps, loss scaling's unscale_check, clipping's sum_squares).
    const std::string name = ops::op_name(id);
    const bool outside = ops::op_info(id).kind == ops::OpKind::Backward || name.ends_with("_step") ||
                         name == "unscale_check" || name == "sum_squares";
    EXPECT_EQ(ops::cast_policy(id) == CastPolicy::Outside, outside) << ops::op_name(id);
  }
}

// docs/ARCHITECTURE.md's table of cast policies says what the op list says.
TEST(Autocast, TheArchitectureTableMatchesTheOpList) {
  std::ifstream in(std::string(DLT_SOURCE_DIR) + "/docs/ARCHITECTURE.md");
  ASSERT_TRUE(in) << "cannot read docs/ARCHITECTURE.md";
  std::map<std::string, std::string> documented;  // op -> policy
  bool inside = false;
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("<!-- cast policies")) inside = true;
    if (line.starts_with("<!-- end of cast policies")) inside = false;
    if (!inside || !line.starts_with("| ") || line.starts_with("| policy")) continue;
    const size_t bar = line.find(" | ", 2);
    const std::string policy = line.substr(2, bar - 2);
    std::istringstream ops(line.substr(bar + 3, line.rfind(" |") - bar - 3));
    for (std::string op; std::getline(ops, op, ',');) documented[op.substr(op.find_first_not_of(' '))] = policy;
  }
  ASSERT_FALSE(documented.empty()) << "no cast policy table in docs/ARCHITECTURE.md";
  for (int i = 0; i < ops::kNumOps; ++i) {
    const OpId id = static_cast<OpId>(i);
    const auto it = documented.find(ops::op_name(id));
    ASSERT_NE(it, documented.end()) << ops::op_name(id) << " is missing from the table";
    EXPECT_EQ(it->second, ops::cast_policy_name(ops::cast_policy(id))) << ops::op_name(id);
    documented.erase(it);
  }
  EXPECT_TRUE(documented.empty()) << documented.begin()->first << " is in the table but not in the op list";
}

struct AutocastRun {
  DType input_dtype, low;
};

class AutocastRows : public ::testing::TestWithParam<std::tuple<size_t, int>> {};

TEST_P(AutocastRows, GiveThePolicysDtypeAndTheHandCastBits) {
  const OpCase& c = op_cases()[std::get<0>(GetParam())];
  static const AutocastRun kRuns[] = {
      {DType::f32, DType::bf16}, {DType::bf16, DType::bf16}, {DType::f32, DType::f16}};
  const AutocastRun run = kRuns[std::get<1>(GetParam())];
  const OpId id = op_by_name(c.op);
  const CastPolicy policy = ops::cast_policy(id);
  if (policy == CastPolicy::Outside) GTEST_SKIP() << c.op << " never runs under autocast";

  const Inputs x = make_inputs(c, run.input_dtype, case_seed(c));
  Inputs by_hand = x;
  if (policy != CastPolicy::Keep && policy != CastPolicy::Promote) {
    const DType to = ops::autocast_target(policy, run.low, x);
    for (Tensor& t : by_hand)
      if (is_floating(t.dtype()) && t.dtype() != DType::f64) t = t.to(to);
  }
  const Tensor control = c.fn(by_hand);
  Tensor y;
  {
    const AutocastGuard autocast(run.low);
    y = c.fn(x);
  }
  EXPECT_EQ(y.dtype(), control.dtype()) << case_name(c) << " (" << ops::cast_policy_name(policy) << ")";
  if (is_floating(y.dtype()) && policy == CastPolicy::Lower) {
    EXPECT_EQ(y.dtype(), run.low) << case_name(c);
  }
  if (is_floating(y.dtype()) && policy == CastPolicy::Fp32) {
    EXPECT_EQ(y.dtype(), DType::f32) << case_name(c);
  }
  if (c.label.find("transposed") == std::string::npos) {
    EXPECT_TRUE(bitwise_equal(y, control)) << case_name(c) << ": the autocast result differs from the hand-cast one";
  } else {
    // The row transposes its input before the op: autocast casts the view
    // (a contiguous copy, summed in another order), the control the input.
    const std::string err = compare_close(to_vector<double>(y), to_vector<double>(control), 1e-6, 1e-7);
    EXPECT_TRUE(err.empty()) << case_name(c) << ": " << err;
  }
}

std::vector<std::tuple<size_t, int>> all_rows() {
  std::vector<std::tuple<size_t, int>> rows;
  for (size_t i = 0; i < op_cases().size(); ++i)
    for (int r = 0; r < 3; ++r) rows.emplace_back(i, r);
  return rows;
}

std::string row_name(const ::testing::TestParamInfo<std::tuple<size_t, int>>& info) {
  static const char* const kRunNames[] = {"f32_bf16", "bf16_bf16", "f32_f16"};
  return case_test_name(std::get<0>(info.param)) + "_" + kRunNames[std::get<1>(info.param)];
}

INSTANTIATE_TEST_SUITE_P(Ops, AutocastRows, ::testing::ValuesIn(all_rows()), row_name);

TEST(Autocast, MixedFloatInputsOfAnElementwiseOpRunInTheWidest) {
  const AutocastGuard autocast(DType::bf16);
  const Tensor a = randn({4}), b = randn({4}).to(DType::bf16);
  EXPECT_EQ((a + b).dtype(), DType::f32);
  EXPECT_EQ(cat({a, b}).dtype(), DType::f32);
  EXPECT_EQ((b * 2.0).dtype(), DType::bf16);  // a number does not widen
}

TEST(Autocast, F64IsNeverCast) {
  const AutocastGuard autocast(DType::bf16);
  const Tensor a = randn({3, 4}, DType::f64), b = randn({4, 2}, DType::f64);
  EXPECT_EQ(matmul(a, b).dtype(), DType::f64);
}

TEST(Autocast, AWeightIsCastOncePerRegionAndItsGradientArrivesInF32) {
  Tensor w = randn({8, 8});
  w.requires_grad_(true);
  const Tensor x = randn({2, 8});
  Tensor loss;
  {
    const AutocastGuard autocast(DType::bf16);
    const Tensor h = linear(linear(x, w), w);  // the weight used twice
    EXPECT_EQ(h.dtype(), DType::bf16);
    loss = sum(h);
    EXPECT_EQ(loss.dtype(), DType::f32);  // sums run in f32
    EXPECT_EQ(autocast_cache_stats().casts, 1);
    EXPECT_EQ(autocast_cache_stats().hits, 1);
  }
  loss.backward();
  ASSERT_TRUE(w.grad().defined());
  EXPECT_EQ(w.grad().dtype(), DType::f32);
  {
    const AutocastGuard again(DType::bf16);  // a new region: a new cast (the weight may have changed)
    (void)linear(x, w);
    EXPECT_EQ(autocast_cache_stats().casts, 1);
    EXPECT_EQ(autocast_cache_stats().hits, 0);
  }
}

TEST(Autocast, BackwardRunsInTheForwardsDtypesEvenInsideARegion) {
  Tensor w = randn({4, 4});
  w.requires_grad_(true);
  const AutocastGuard autocast(DType::bf16);
  const Tensor loss = sum(gelu(linear(randn({3, 4}), w)));
  loss.backward();  // would fail its dtype checks if the formulas were autocast
  EXPECT_EQ(w.grad().dtype(), DType::f32);
}

// Under bf16 autocast a convolution's gradients are the float64 gradients of
// the bf16 operands rounded once to bf16: within one bf16 ulp of that result
// (the f32 accumulation may tip a rounding), element by element. Torch 2.15's
// stray further where sums cancel, which the op-table parity against it
// allows for (test_parity_torch.cpp, gradient_tolerance).
TEST(AutocastAccuracy, ConvGradientsAreTheFloat64ResultRounded) {
  struct Conv {
    Shape x, w;
    int64_t padding, groups;
  };
  Generator gen(1);
  for (const Conv& c : {Conv{{2, 16, 8, 8}, {32, 16, 3, 3}, 1, 1}, Conv{{2, 3, 6, 6}, {3, 1, 3, 3}, 1, 3},
                        Conv{{2, 4, 5, 7}, {6, 2, 2, 3}, 0, 2}}) {
    SCOPED_TRACE(fmt::format("x {} weight {} groups {}", shape_str(c.x), shape_str(c.w), c.groups));
    Tensor x = randn(c.x, DType::f32, &gen), w = randn(c.w, DType::f32, &gen);
    x.requires_grad_(true);
    w.requires_grad_(true);
    const std::array<int64_t, 2> pad = {c.padding, c.padding};
    Tensor y;
    {
      const AutocastGuard region(DType::bf16);
      y = conv2d(x, w, Tensor(), {1, 1}, pad, {1, 1}, c.groups);
    }
    const Tensor g = randn(y.shape(), DType::f32, &gen).to(DType::bf16);
    y.backward(g);
    Tensor x64 = x.detach().to(DType::bf16).to(DType::f64), w64 = w.detach().to(DType::bf16).to(DType::f64);
    x64.requires_grad_(true);
    w64.requires_grad_(true);
    conv2d(x64, w64, Tensor(), {1, 1}, pad, {1, 1}, c.groups).backward(g.to(DType::f64));
    for (const auto& [name, got, exact] : {std::tuple{"dx", x.grad(), x64.grad()}, std::tuple{"dw", w.grad(), w64.grad()}}) {
      const std::vector<double> a = to_vector<double>(got), t = to_vector<double>(exact.to(DType::bf16));
      int64_t off = 0;
      for (size_t i = 0; i < t.size(); ++i) off += std::abs(a[i] - t[i]) > std::ldexp(std::abs(t[i]), -7);
      EXPECT_EQ(off, 0) << name << ": elements more than one bf16 ulp from the rounded float64 gradient";
    }
  }
}

TEST(Autocast, RefusesOtherDtypes) {
  EXPECT_THROW(AutocastGuard(DType::f32), Error);
  EXPECT_THROW(AutocastGuard(DType::i32), Error);
}

}  // namespace
}  // namespace dlt::testing
