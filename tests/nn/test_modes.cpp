// Train / eval switching: BatchNorm uses and updates batch statistics only in
// training; Dropout drops only in training, with masks from the build
// context's generator; mode changes reach every descendant.
#include <cmath>

#include "dlt/nn/layers/activation.h"
#include "dlt/nn/layers/batch_norm.h"
#include "dlt/nn/layers/dropout.h"
#include "dlt/nn/layers/linear.h"
#include "dlt/nn/layers/residual.h"
#include "dlt/nn/layers/sequential.h"
#include "tests/test_util.h"

namespace dlt::testing {
namespace {

using namespace dlt::nn;

TEST(NnModes, BatchNormTrainsOnBatchStatisticsAndEvaluatesOnRunningOnes) {
  BuildContext ctx{.dtype = DType::f64};
  BatchNorm1d bn({.momentum = 0.5}, {2}, ctx);
  // Channel 0: values 1, 3 (mean 2, unbiased var 2); channel 1: 10, 10.
  const Tensor x = from_vector<double>({1, 10, 3, 10}, {2, 2});
  const std::vector<double> y = to_vector<double>(bn.forward(x));
  EXPECT_NEAR(y[0], -1 / std::sqrt(1 + 1e-5), 1e-12);  // biased var 1 normalises
  EXPECT_NEAR(y[1], 0, 1e-12);
  EXPECT_EQ(to_vector<double>(bn.running_mean), (std::vector<double>{1, 5}));  // 0.5 * mean
  EXPECT_EQ(to_vector<double>(bn.running_var), (std::vector<double>{1.5, 0.5}));  // unbiased
  EXPECT_EQ(bn.num_batches_tracked.item<int64_t>(), 1);

  bn.eval();
  EXPECT_FALSE(bn.training());
  const std::vector<double> z = to_vector<double>(bn.forward(x));
  EXPECT_NEAR(z[0], (1 - 1) / std::sqrt(1.5 + 1e-5), 1e-12);
  EXPECT_NEAR(z[1], (10 - 5) / std::sqrt(0.5 + 1e-5), 1e-12);
  EXPECT_EQ(to_vector<double>(bn.running_mean), (std::vector<double>{1, 5}));  // unchanged
  EXPECT_EQ(bn.num_batches_tracked.item<int64_t>(), 1);
}

TEST(NnModes, BatchNormWithoutMomentumAveragesAllBatches) {
  BuildContext ctx{.dtype = DType::f64};
  BatchNorm1d bn({.momentum = std::nullopt}, {1}, ctx);
  bn.forward(from_vector<double>({0, 2}, {2, 1}));  // mean 1
  bn.forward(from_vector<double>({4, 6}, {2, 1}));  // mean 5
  bn.forward(from_vector<double>({8, 10}, {2, 1}));  // mean 9
  EXPECT_NEAR(bn.running_mean.item<double>(), 5, 1e-12);  // (1 + 5 + 9) / 3
  EXPECT_NEAR(bn.running_var.item<double>(), 2, 1e-12);   // each batch: unbiased var 2
  EXPECT_EQ(bn.num_batches_tracked.item<int64_t>(), 3);
}

TEST(NnModes, DropoutDropsInTrainingOnlyWithMasksFromTheContextGenerator) {
  const auto masks = [](uint64_t seed) {
    Generator gen(seed);
    BuildContext ctx{.gen = &gen};
    Dropout drop({.p = 0.25}, {1000}, ctx);
    const Tensor x = ones({4, 1000});
    std::vector<float> train = to_vector<float>(drop.forward(x));
    EXPECT_GT(gen.offset(), 0u);  // the mask came from this generator
    drop.eval();
    EXPECT_EQ(to_vector<float>(drop.forward(x)), std::vector<float>(4000, 1.0f));
    drop.train();
    std::vector<float> again = to_vector<float>(drop.forward(x));
    EXPECT_NE(train, again);  // a fresh mask per forward
    return train;
  };
  const std::vector<float> a = masks(9);
  EXPECT_EQ(a, masks(9));
  EXPECT_NE(a, masks(10));
  const double zeros = double(std::count(a.begin(), a.end(), 0.0f)) / double(a.size());
  EXPECT_NEAR(zeros, 0.25, 0.035);  // binomial sd 0.007: 5 sigma
  for (float v : a) EXPECT_TRUE(v == 0.0f || std::abs(v - 1 / 0.75f) < 1e-6f) << v;
}

TEST(NnModes, ModeReachesEveryDescendant) {
  BuildContext ctx;
  auto body = std::make_shared<Sequential>(Shape{4});
  body->push_back(make_layer<Linear>(LinearOptions{.out = 4}, {4}, ctx));
  body->push_back(make_layer<Dropout>(DropoutOptions{.p = 0.5}, {4}, ctx));
  auto bn = make_layer<BatchNorm1d>(BatchNormOptions{}, {4}, ctx);
  auto model = std::make_shared<Sequential>(Shape{4});
  model->push_back(make_layer<Residual>(ResidualParts{.body = {body, {4}}}, {4}, ctx));
  model->push_back(bn);
  model->eval();
  EXPECT_FALSE((*body)[1]->training());
  EXPECT_FALSE(bn.module->training());
  model->train();
  EXPECT_TRUE((*body)[1]->training());
  EXPECT_TRUE(bn.module->training());
}

}  // namespace
}  // namespace dlt::testing
