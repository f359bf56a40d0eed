// Bad arguments to matmul, linear, softmax and the losses raise dlt::Error
// with messages that name the op, the shapes, dtypes or values at fault.
#include "tests/test_util.h"

namespace dlt {
namespace {

using testing::expect_error;

Tensor targets(std::vector<int64_t> v) {
  const Shape shape{int64_t(v.size())};
  return from_vector(v, shape);
}

TEST(MatmulErrors, InnerDimensionsMismatch) {
  expect_error([] { matmul(zeros({2, 3}), zeros({4, 5})); },
               {"matmul", "[2, 3]", "[4, 5]", "3 != 4"});
  expect_error([] { matmul(zeros({3}), zeros({4})); }, {"matmul", "[3]", "[4]", "3 != 4"});
  expect_error([] { matmul(zeros({2, 2, 3}), zeros({5})); }, {"[2, 2, 3]", "[5]", "3 != 5"});
}

TEST(MatmulErrors, BatchDimensionsDoNotBroadcast) {
  expect_error([] { matmul(zeros({2, 2, 3}), zeros({3, 3, 5})); },
               {"matmul", "batch", "[2, 2, 3]", "[3, 3, 5]", "2 vs 3"});
}

TEST(MatmulErrors, ZeroDimOperandAndDtypes) {
  expect_error([] { matmul(scalar_tensor(1.0, DType::f32), zeros({3})); },
               {"matmul", "at least 1 dimension", "[]"});
  expect_error([] { matmul(zeros({2, 3}), zeros({3, 2}, DType::f64)); },
               {"matmul", "float32", "float64"});
}

TEST(LinearErrors, FeaturesAndBias) {
  expect_error([] { linear(zeros({2, 3}), zeros({5, 4})); },
               {"linear", "[2, 3]", "[5, 4]", "3 != in_features 4"});
  expect_error([] { linear(zeros({2, 4}), zeros({5, 4}), zeros({4})); },
               {"linear", "bias", "[4]", "[5]"});
  expect_error([] { linear(zeros({2, 4}), zeros({4})); }, {"linear", "weight must be 2-D", "[4]"});
}

TEST(SoftmaxErrors, DimAndDtype) {
  expect_error([] { softmax(zeros({2, 3}), 2); }, {"softmax dim", "2"});
  expect_error([] { log_softmax(zeros({2, 3}, DType::i64), 1); },
               {"log_softmax", "floating point", "int64"});
}

TEST(CrossEntropyErrors, TargetOutOfRange) {
  expect_error([] { cross_entropy(zeros({3, 5}), targets({1, 7, 3})); },
               {"cross_entropy", "target 7", "5 classes"});
  // Negative values other than ignore_index are out of range too.
  expect_error([] { cross_entropy(zeros({3, 5}), targets({1, -3, 3})); },
               {"target -3", "5 classes"});
  expect_error([] { cross_entropy(zeros({2, 4, 3}), from_vector<int64_t>({0, 1, 2, 3, 4, 0}, {2, 3})); },
               {"target 4", "4 classes"});
  expect_error([] { nll_loss(zeros({3, 5}), targets({5, 0, 0})); },
               {"nll_loss", "target 5", "5 classes"});
}

// A bad target among many, where the kernel splits the rows over threads:
// still a dlt::Error on the calling thread, not a crash.
TEST(CrossEntropyErrors, TargetOutOfRangeInALargeBatch) {
  std::vector<int64_t> t(50000, 2);
  t[31337] = 9;
  expect_error([&] { cross_entropy(zeros({50000, 4}), targets(t)); }, {"target 9", "4 classes"});
}

TEST(CrossEntropyErrors, TargetDtype) {
  expect_error([] { cross_entropy(zeros({3, 5}), zeros({3}, DType::i32)); },
               {"cross_entropy", "int64", "int32"});
  expect_error([] { cross_entropy(zeros({3, 5}), zeros({3, 5})); },
               {"cross_entropy", "int64", "float32"});
  expect_error([] { nll_loss(zeros({3, 5}), zeros({3}, DType::u8)); }, {"nll_loss", "uint8"});
}

TEST(CrossEntropyErrors, ShapeMismatch) {
  expect_error([] { cross_entropy(zeros({4, 5}), targets({1, 2, 3})); },
               {"cross_entropy", "[3]", "[4, 5]", "expected target shape [4]"});
  expect_error([] { cross_entropy(zeros({2, 5, 3}), zeros({2, 5}, DType::i64)); },
               {"[2, 5]", "[2, 5, 3]", "[2, 3]"});
  expect_error([] { cross_entropy(scalar_tensor(1.0, DType::f32), targets({0})); },
               {"cross_entropy", "class dimension"});
  expect_error([] { cross_entropy(zeros({3, 5}), targets({1, 2, 3}), -100, 1.5); },
               {"label_smoothing", "1.5"});
}

TEST(LossErrors, CompositeShapesAndDtypes) {
  expect_error([] { binary_cross_entropy_with_logits(zeros({3, 4}), zeros({4})); },
               {"binary_cross_entropy_with_logits", "[4]", "[3, 4]"});
  expect_error([] { mse_loss(zeros({3}), zeros({3}, DType::i64)); },
               {"mse_loss", "float32", "int64"});
}

}  // namespace
}  // namespace dlt
