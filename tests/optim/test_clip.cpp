// Gradient clipping by global norm against torch.nn.utils.clip_grad_norm_,
// and the finiteness checks the trainer relies on.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <fstream>
#include <limits>

#include "dlt/ops/optim_ops.h"
#include "dlt/optim/clip.h"
#include "tests/optim/optim_test_util.h"
#include "tests/optim/torch_runner.h"
#include "tests/test_util.h"

namespace dlt::testing {
namespace {

struct ClipCase {
  DType dtype;
  double max_norm;  // small: clips; large: leaves the gradients alone
};

class ClipVsTorch : public ::testing::TestWithParam<ClipCase> {};

TEST_P(ClipVsTorch, NormAndClippedGradients) {
  DLT_REQUIRE_TORCH();
  const ClipCase& c = GetParam();
  // The third parameter has no gradient: ignored by both.
  NamedParams params = make_params({{"a", {5, 7}}, {"b", {40000}}, {"none", {3}}, {"c", {4}}}, 11, c.dtype);
  set_grads(params, 11, 0);
  Tensor none = params[2].second;
  none.set_grad(Tensor());

  TempDir dir("optim_clip");
  std::ofstream spec(dir.root() / "spec.txt");
  spec << fmt::format("{} {:.17g}\n", dtype_name(c.dtype), c.max_norm);
  std::vector<Tensor> tensors;
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor& p = params[i].second;
    tensors.push_back(p);
    if (!p.grad().defined()) {
      spec << "-\n";
      continue;
    }
    spec << fmt::format("{}\n", fmt::join(p.shape(), ","));
    write_doubles(dir.root() / fmt::format("grad_{}.bin", i), to_vector<double>(p.grad()));
  }
  spec.close();
  ASSERT_EQ(run_torch_script("torch_clip.py", dir.root().string()), 0);

  const double norm = optim::clip_grad_norm(tensors, c.max_norm);
  const bool f32 = c.dtype == DType::f32;
  const double rtol = f32 ? 1e-6 : 1e-12, atol = f32 ? 1e-7 : 1e-14;
  const std::vector<double> torch_norm = read_doubles(dir.root() / "norm.bin");
  ASSERT_EQ(torch_norm.size(), 1u);
  EXPECT_NEAR(norm, torch_norm[0], rtol * torch_norm[0]);
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor& p = params[i].second;
    if (!p.grad().defined()) continue;
    const std::string mismatch = compare_close(
        to_vector<double>(p.grad()), read_doubles(dir.root() / fmt::format("clipped_{}.bin", i)), rtol, atol);
    EXPECT_TRUE(mismatch.empty()) << params[i].first << ": " << mismatch;
  }
}

INSTANTIATE_TEST_SUITE_P(Optim, ClipVsTorch,
                         ::testing::Values(ClipCase{DType::f32, 1.0}, ClipCase{DType::f32, 1e6},
                                           ClipCase{DType::f64, 0.5}, ClipCase{DType::f64, 1e6}),
                         [](const ::testing::TestParamInfo<ClipCase>& info) {
                           return fmt::format("{}_{}", dtype_name(info.param.dtype),
                                              info.param.max_norm < 10 ? "clips" : "keeps");
                         });

TEST(ClipGradNorm, NoGradientsGiveZero) {
  const NamedParams params = make_params({{"a", {3}}}, 1);
  EXPECT_EQ(optim::clip_grad_norm({params[0].second}, 1.0), 0.0);
}

TEST(ClipGradNorm, NonFiniteNormLeavesGradientsAlone) {
  Tensor w = zeros({3}).requires_grad_();
  w.set_grad(from_vector<float>({1, std::numeric_limits<float>::quiet_NaN(), 2}, {3}));
  EXPECT_TRUE(std::isnan(optim::clip_grad_norm({w}, 1.0)));
  EXPECT_EQ(to_vector<float>(w.grad())[0], 1.0f);
  EXPECT_FALSE(optim::all_finite({w.grad()}));
}

TEST(ClipGradNorm, BadMaxNormIsAnError) {
  expect_error([] { optim::clip_grad_norm({}, 0); }, {"clip_grad_norm: max_norm must be a positive number, got 0"});
}

// sum_squares, clip_grad_norm's one pass: tensors over several of its blocks
// and within one, f32 and f64, strided, empty; exact in double up to the
// order of the sums, and the same for every thread count.
TEST(SumSquares, MatchesDoubleAndIgnoresTheThreadCount) {
  ThreadCountGuard guard;
  Generator gen(5);
  const std::vector<Tensor> tensors{randn({100003}, {}, &gen), randn({7}, DType::f64, &gen),
                                    randn({30, 40}, {}, &gen).t(), zeros({0}),
                                    randn({70000}, DType::f64, &gen)};
  set_num_threads(1);
  const std::vector<double> one = to_vector<double>(sum_squares(tensors));
  set_num_threads(3);
  const std::vector<double> three = to_vector<double>(sum_squares(tensors));
  EXPECT_EQ(one, three);
  ASSERT_EQ(one.size(), tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    double want = 0;
    for (double v : to_vector<double>(tensors[i])) want += v * v;
    EXPECT_NEAR(one[i], want, 1e-6 * want) << i;
  }
  EXPECT_EQ(one[3], 0.0);
}

TEST(SumSquares, RejectsOtherDtypesAndUndefinedTensors) {
  expect_error([] { sum_squares(std::vector<Tensor>{ones({2}), ones({2}, DType::bf16)}); },
               {"sum_squares: tensor 1 is bfloat16; it sums float32 or float64 tensors"});
  expect_error([] { sum_squares(std::vector<Tensor>{Tensor()}); },
               {"sum_squares: tensor 0 is undefined"});
}

// Gradients sum_squares does not take (bf16) go through per-tensor norms.
TEST(ClipGradNorm, MixedDtypesTakeThePerTensorPath) {
  Tensor a = zeros({2}).requires_grad_(), b = zeros({1}, DType::bf16).requires_grad_();
  a.set_grad(from_vector<float>({3, 0}, {2}));
  b.set_grad(from_vector<float>({4}, {1}).to(DType::bf16));
  EXPECT_DOUBLE_EQ(optim::grad_norm({a, b}), 5.0);
}

TEST(AllFinite, NanAndBothInfinitiesAreCaught) {
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_TRUE(optim::all_finite(from_vector<float>({1, -2, 3e38f}, {3})));
  EXPECT_FALSE(optim::all_finite(from_vector<float>({1, inf}, {2})));
  EXPECT_FALSE(optim::all_finite(from_vector<float>({-inf, 1}, {2})));
  EXPECT_FALSE(optim::all_finite(from_vector<double>({0, std::nan("")}, {2})));
  EXPECT_TRUE(optim::all_finite(zeros({0})));
  EXPECT_TRUE(optim::all_finite(std::vector<Tensor>{ones({2}), Tensor(), zeros({2, 2})}));
  EXPECT_FALSE(optim::all_finite(std::vector<Tensor>{ones({2}), from_vector<float>({inf}, {1})}));
}

}  // namespace
}  // namespace dlt::testing
