// The op test table. Each row names an op of the op list, the inputs to draw,
// the dlt call and the equivalent torch expression. One table drives:
//   - the finite-difference gradcheck (float64) of every differentiable op,
//   - forward + backward parity with torch 1.13 (per-dtype tolerances),
//   - the coverage test: an op of the op list without a row fails the suite.
// Rows are registered per family in tests/ops/cases_<family>.cpp:
//
//   DLT_OP_CASES(unary) {
//     return {
//       {.op = "exp", .inputs = {{.shape = {3, 4}}},
//        .fn = [](const Inputs& x) { return dlt::exp(x[0]); }, .torch = "torch.exp(x0)"},
//     };
//   }
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "dlt/ops/op_list.h"
#include "dlt/ops/ops.h"

namespace dlt::testing {

using Inputs = std::vector<Tensor>;

// How an input's values are drawn (deterministically, from the row's seed).
enum class Values {
  normal,    // N(0, 1)
  uniform,   // U(lo, hi)
  positive,  // U(0.5, 2): logs, square roots, divisors
  integer,   // integers in [lo, hi), dtype i64 unless dtype says otherwise
  boolean,   // true with probability 1/2
  distinct,  // a shuffled arange scaled to (-1, 1): no ties (max, sort-like ops)
};

struct InputSpec {
  Shape shape;
  Values values = Values::normal;
  double lo = -1, hi = 1;
  bool grad = true;        // floating inputs: differentiate w.r.t. this one
  bool noncontig = false;  // pass a strided view (every other element of the last dim)
  std::optional<DType> dtype = std::nullopt;  // fixed dtype (indices, masks); else the test's float dtype
};

struct Tolerance {
  DType dtype;
  double rtol, atol;
};

struct OpCase {
  std::string op;     // the op list name this row tests
  std::string label;  // what is special about it: "broadcast", "noncontig", "dim=0"
  std::vector<InputSpec> inputs;
  std::function<Tensor(const Inputs&)> fn;  // the dlt call
  // The torch expression over x0, x1, ... (torch, F = torch.nn.functional in scope).
  std::string torch;
  // Parity tolerances per dtype (stated next to the row when not the default).
  std::vector<Tolerance> tolerances = {{DType::f32, 1e-5, 1e-5}};
  bool gradcheck = true;  // false for ops without gradients
  bool parity = true;
  double gradcheck_eps = 1e-6;
  // false: the op refuses this on a GPU by design, with a message (the row says why).
  bool on_gpu = true;
};

std::vector<OpCase>& op_cases();
bool register_op_cases(const char* family, std::vector<OpCase> (*make)());

// Draws the inputs of a row in `float_dtype`.
Inputs make_inputs(const OpCase& c, DType float_dtype, uint64_t seed);
std::string case_name(const OpCase& c);  // "exp[broadcast]"
ops::OpId op_by_name(const std::string& name);  // the op list's id of a row's op
uint64_t case_seed(const OpCase& c);      // stable per row
// Indices of the rows with gradcheck / parity set, for parameterised suites.
std::vector<size_t> gradcheck_rows();
std::vector<size_t> parity_rows();
// A gtest-safe identifier for row i: "exp_broadcast_12".
std::string case_test_name(size_t i);

}  // namespace dlt::testing

#define DLT_OP_CASES(family)                                                   \
  static std::vector<::dlt::testing::OpCase> dlt_cases_##family();             \
  static const bool dlt_cases_registered_##family =                            \
      ::dlt::testing::register_op_cases(#family, &dlt_cases_##family);         \
  static std::vector<::dlt::testing::OpCase> dlt_cases_##family()
