// Bad input to the shape, indexing, normalisation and embedding ops: each
// raises dlt::Error naming the shapes, dims or values at fault.
#include "tests/test_util.h"

namespace dlt::testing {
namespace {

Tensor idx(std::vector<int64_t> values) {
  const Shape shape{int64_t(values.size())};
  return from_vector(values, shape);
}

TEST(ShapeErrors, CatNamesTheMismatchedTensorAndDim) {
  expect_error([] { cat({zeros({2, 3}), zeros({2, 3}), zeros({2, 4})}, 0); },
               {"cat", "tensor 2", "[2, 4]", "[2, 3]", "dimension 1", "4 != 3"});
  expect_error([] { cat({zeros({2, 3}), zeros({2, 3, 1})}, 0); },
               {"cat", "tensor 1", "3 dimensions", "[2, 3, 1]"});
  expect_error([] { cat({}, 0); }, {"cat", "non-empty"});
  expect_error([] { cat({zeros({}), zeros({})}, 0); }, {"cat", "zero-dimensional", "position 0"});
  expect_error([] { cat({zeros({2, 3})}, 2); }, {"dim"});
}

TEST(ShapeErrors, StackNeedsEqualShapes) {
  expect_error([] { stack({zeros({2, 3}), zeros({3, 2})}); },
               {"stack", "[2, 3]", "[3, 2]", "entry 1"});
}

TEST(ShapeErrors, SplitSizesMustCoverTheDim) {
  expect_error([] { split(zeros({4, 5}), std::vector<int64_t>{2, 2}, 1); },
               {"split", "[2, 2]", "4", "dimension 1", "size 5"});
  expect_error([] { split(zeros({4}), int64_t(0)); }, {"split", "split_size", "0"});
  expect_error([] { chunk(zeros({4}), 0); }, {"chunk", "positive", "0"});
}

TEST(ShapeErrors, GatherIndexOutOfRange) {
  const Tensor x = zeros({2, 3});
  const Tensor index = from_vector<int64_t>({0, 1, 5, 2}, {2, 2});
  expect_error([&] { gather(x, 1, index); }, {"gather", "index 5", "dimension 1", "size 3"});
  expect_error([&] { gather(x, 1, from_vector<int64_t>({-1}, {1, 1})); }, {"gather", "index -1"});
  expect_error([&] { gather(x, 1, idx({0, 1})); }, {"gather", "[2]", "[2, 3]", "dimensions"});
  expect_error([&] { gather(x, 1, zeros({2, 2})); }, {"gather", "int64", "float32"});
  expect_error([&] { gather(x, 1, from_vector<int64_t>({0, 0, 0, 0, 0, 0}, {3, 2})); },
               {"gather", "[3, 2]", "[2, 3]", "dimension 0"});
}

TEST(ShapeErrors, ScatterAddIndexOutOfRangeOrTooLarge) {
  const Tensor x = zeros({2, 3});
  expect_error([&] { scatter_add(x, 0, from_vector<int64_t>({0, 2}, {1, 2}), zeros({1, 2})); },
               {"scatter_add", "index 2", "dimension 0", "size 2"});
  expect_error([&] { scatter_add(x, 1, from_vector<int64_t>({0, 1, 2}, {1, 3}), zeros({1, 2})); },
               {"scatter_add", "[1, 3]", "[1, 2]", "source"});
}

TEST(ShapeErrors, IndexSelectAndIndexAddIndexOutOfRange) {
  const Tensor x = zeros({4, 3});
  expect_error([&] { index_select(x, 0, idx({1, 7, 2})); },
               {"index_select", "index 7", "position 1", "dimension 0", "size 4"});
  expect_error([&] { index_select(x, 1, idx({-1})); }, {"index_select", "index -1", "size 3"});
  expect_error([&] { index_select(x, 0, from_vector<int64_t>({0, 1}, {1, 2})); },
               {"index_select", "1-D", "[1, 2]"});
  expect_error([&] { index_add(x, 0, idx({4}), zeros({1, 3})); },
               {"index_add", "index 4", "size 4"});
  expect_error([&] { index_add(x, 0, idx({0, 1}), zeros({3, 3})); },
               {"index_add", "[3, 3]", "[4, 3]", "[2, 3]"});
}

TEST(ShapeErrors, OneHotClassValues) {
  expect_error([] { one_hot(idx({0, -1, 2}), 3); }, {"one_hot", "non-negative", "-1"});
  expect_error([] { one_hot(idx({0, 3}), 3); }, {"one_hot", "3", "num_classes = 3"});
  expect_error([] { one_hot(from_vector<int64_t>({}, {0})); }, {"one_hot", "empty"});
  expect_error([] { one_hot(zeros({2}), 3); }, {"one_hot", "int64", "float32"});
}

TEST(ShapeErrors, TriangleNeedsAMatrix) {
  expect_error([] { tril(zeros({3})); }, {"tril", "2 dimensions", "[3]"});
  expect_error([] { triu(zeros({})); }, {"triu", "2 dimensions", "[]"});
}

TEST(NormErrors, LayerNormShapeMustMatchTrailingDims) {
  const Tensor x = zeros({2, 3, 4});
  expect_error([&] { layer_norm(x, {3}); }, {"layer_norm", "normalized_shape [3]", "[*, 3]", "[2, 3, 4]"});
  expect_error([&] { layer_norm(x, {5, 2, 3, 4}); }, {"layer_norm", "[5, 2, 3, 4]", "[2, 3, 4]"});
  expect_error([&] { layer_norm(x, {}); }, {"layer_norm", "normalized_shape"});
  expect_error([&] { layer_norm(x, {4}, zeros({3})); }, {"layer_norm", "weight", "[3]", "[4]"});
  expect_error([&] { layer_norm(x, {4}, Tensor(), zeros({2, 2})); }, {"layer_norm", "bias", "[2, 2]"});
  expect_error([&] { layer_norm(zeros({2, 4}, DType::i64), {4}); }, {"layer_norm", "int64"});
}

TEST(NormErrors, BatchNormChannelMismatch) {
  const Tensor x = zeros({4, 3, 2});
  expect_error([&] { batch_norm(x, Tensor(), Tensor(), zeros({4}), Tensor(), true); },
               {"batch_norm", "weight", "[4]", "3 channels", "[4, 3, 2]"});
  expect_error([&] { batch_norm(x, zeros({2}), ones({3}), Tensor(), Tensor(), true); },
               {"batch_norm", "running_mean", "[2]", "3 channels"});
  expect_error([&] { batch_norm(zeros({5}), Tensor(), Tensor(), Tensor(), Tensor(), true); },
               {"batch_norm", "(B, C, ...)", "[5]"});
  expect_error([&] { batch_norm(zeros({1, 3}), Tensor(), Tensor(), Tensor(), Tensor(), true); },
               {"batch_norm", "more than 1 value per channel", "[1, 3]"});
  expect_error([&] { batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), false); },
               {"batch_norm", "evaluation mode"});
}

TEST(NormErrors, EmbeddingIndexOutOfRange) {
  const Tensor weight = zeros({10, 4});
  expect_error([&] { embedding(weight, idx({3, 10})); },
               {"embedding", "index 10", "position 1", "10 rows"});
  expect_error([&] { embedding(weight, idx({-2})); }, {"embedding", "index -2", "10 rows"});
  expect_error([&] { embedding(weight, idx({1}), 10); }, {"embedding", "padding_idx 10", "10 rows"});
  expect_error([&] { embedding(zeros({10}), idx({1})); }, {"embedding", "2-D", "[10]"});
  expect_error([&] { embedding(weight, zeros({2})); }, {"embedding", "int64", "float32"});
}

}  // namespace
}  // namespace dlt::testing
