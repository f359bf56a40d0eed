// Bad arguments to the fused recurrent cells raise dlt::Error naming the op and
// the shapes or dtypes at fault; the workspace holds the activated gates.
#include "dlt/ops/recurrent.h"
#include "tests/test_util.h"

namespace dlt {
namespace {

using testing::expect_error;

TEST(RecurrentCellErrors, LstmShapesAndDtypes) {
  expect_error([] { lstm_cell(zeros({2, 12}), zeros({2, 4})); },
               {"lstm_cell", "gates (B, 4H)", "[2, 12]", "[2, 4]"});
  expect_error([] { lstm_cell(zeros({3, 16}), zeros({2, 4})); }, {"lstm_cell", "[3, 16]", "[2, 4]"});
  expect_error([] { lstm_cell(zeros({2, 4, 4}), zeros({2, 4})); }, {"lstm_cell", "[2, 4, 4]"});
  expect_error([] { lstm_cell(zeros({2, 16}), zeros({2, 4}, DType::f64)); },
               {"lstm_cell", "float32", "float64"});
  expect_error([] { lstm_cell(zeros({2, 16}, DType::i64), zeros({2, 4}, DType::i64)); },
               {"lstm_cell", "floating point"});
}

TEST(RecurrentCellErrors, GruShapesAndDtypes) {
  expect_error([] { gru_cell(zeros({2, 12}), zeros({2, 9}), zeros({2, 4})); },
               {"gru_cell", "(B, 3H)", "[2, 12]", "[2, 9]", "[2, 4]"});
  expect_error([] { gru_cell(zeros({2, 12}), zeros({2, 12}), zeros({2, 5})); },
               {"gru_cell", "h_prev [2, 5]"});
  expect_error([] { gru_cell(zeros({2, 12}), zeros({2, 12}, DType::f64), zeros({2, 4})); },
               {"gru_cell", "hidden_gates float64"});
}

TEST(RecurrentCells, WorkspaceHoldsTheActivatedGates) {
  // Gates 0: i = f = o = 1/2, g = 0; with c_prev = 2: c = 1, h = tanh(1) / 2.
  const LstmCellOutput l = lstm_cell(zeros({1, 8}), full({1, 2}, 2.0));
  EXPECT_EQ(testing::to_vector<float>(l.workspace),
            (std::vector<float>{0.5f, 0.5f, 0.5f, 0.5f, 0, 0, 0.5f, 0.5f}));
  EXPECT_EQ(testing::to_vector<float>(l.c), (std::vector<float>{1, 1}));
  EXPECT_NEAR(testing::to_vector<float>(l.h)[0], std::tanh(1.0) / 2, 1e-6);
  // r = z = 1/2, n = tanh(0 + r * 1) with hidden n gate 1; h = (n + h_prev) / 2.
  const Tensor gh = from_vector(std::vector<float>{0, 0, 1}, {1, 3});
  const GruCellOutput g = gru_cell(zeros({1, 3}), gh, full({1, 1}, 3.0));
  const std::vector<float> w = testing::to_vector<float>(g.workspace);
  EXPECT_FLOAT_EQ(w[0], 0.5f);
  EXPECT_FLOAT_EQ(w[1], 0.5f);
  EXPECT_NEAR(w[2], std::tanh(0.5), 1e-6);
  EXPECT_FLOAT_EQ(w[3], 1.0f);
  EXPECT_NEAR(testing::to_vector<float>(g.h)[0], (std::tanh(0.5) + 3) / 2, 1e-6);
}

}  // namespace
}  // namespace dlt
