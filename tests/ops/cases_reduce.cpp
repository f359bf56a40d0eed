// Test rows for the reductions. Shapes are picked to reach every path of the
// CPU engine (kernels/cpu/reduce.h): rows (last dims), columns (leading dims,
// vectorised across the kept inner dims), gathered rows (non-adjacent dims),
// multi-block rows and columns, and narrow columns.
#include "tests/ops/op_case.h"

namespace dlt::testing {
namespace {

using I = InputSpec;
using Fn = std::function<Tensor(const Inputs&)>;

// One ulp of the storage type: f16/bf16 results are rounded from a float
// accumulator, and torch's summation order differs from ours.
const Tolerance kF32{DType::f32, 1e-5, 1e-5};
const Tolerance kF64{DType::f64, 1e-10, 1e-10};
const Tolerance kF16{DType::f16, 1e-3, 1e-3};
const Tolerance kBF16{DType::bf16, 8e-3, 8e-3};

OpCase row(std::string op, std::string label, std::vector<I> inputs, Fn fn, std::string torch,
           std::vector<Tolerance> tolerances = {kF32}) {
  return {.op = std::move(op), .label = std::move(label), .inputs = std::move(inputs),
          .fn = std::move(fn), .torch = std::move(torch), .tolerances = std::move(tolerances)};
}

// Parity only: for results without gradients (indices, integer sums), for
// inputs too big for finite differences, and for ties (no derivative there).
OpCase no_gradcheck(OpCase c) {
  c.gradcheck = false;
  return c;
}

std::vector<OpCase> sum_rows() {
  return {
      row("sum", "all", {{.shape = {3, 5}}}, [](const Inputs& x) { return sum(x[0]); },
          "torch.sum(x0)", {kF32, kF64, kF16, kBF16}),
      row("sum", "dim=0", {{.shape = {4, 6}}}, [](const Inputs& x) { return sum(x[0], {0}); },
          "x0.sum(0)", {kF32, kF64, kF16}),
      row("sum", "dim=-1 keepdim", {{.shape = {4, 6}}},
          [](const Inputs& x) { return sum(x[0], {-1}, true); }, "x0.sum(-1, keepdim=True)",
          {kF32, kF64}),
      row("sum", "dims 0,2", {{.shape = {2, 3, 4}}},
          [](const Inputs& x) { return sum(x[0], {0, 2}); }, "x0.sum((0, 2))", {kF32, kF64}),
      row("sum", "middle dims keepdim", {{.shape = {2, 3, 4, 5}}},
          [](const Inputs& x) { return sum(x[0], {-3, 2}, true); },
          "x0.sum((1, 2), keepdim=True)", {kF32, kF64}),
      row("sum", "dims 0,2 of 4-d", {{.shape = {2, 3, 4, 5}}},
          [](const Inputs& x) { return sum(x[0], {0, 2}); }, "x0.sum((0, 2))", {kF32, kF64}),
      row("sum", "dims 1,3 of 4-d", {{.shape = {2, 3, 4, 5}}},
          [](const Inputs& x) { return sum(x[0], {1, 3}, true); }, "x0.sum((1, 3), keepdim=True)",
          {kF32, kF64}),
      row("sum", "transposed", {{.shape = {5, 20}}},
          [](const Inputs& x) { return sum(x[0].t(), {1}); }, "x0.t().sum(1)", {kF32, kF64}),
      row("sum", "permuted kept dims out of order", {{.shape = {2, 3, 4}}},
          [](const Inputs& x) { return sum(x[0].permute({2, 0, 1}), {1}); },
          "x0.permute(2, 0, 1).sum(1)", {kF32, kF64}),
      row("sum", "noncontig", {{.shape = {4, 6}, .noncontig = true}},
          [](const Inputs& x) { return sum(x[0], {1}); }, "x0.sum(1)", {kF32, kF64}),
      row("sum", "noncontig dim=0", {{.shape = {5, 20}, .noncontig = true}},
          [](const Inputs& x) { return sum(x[0], {0}); }, "x0.sum(0)"),
      row("sum", "0-dim", {{.shape = {}}}, [](const Inputs& x) { return sum(x[0], {0}); },
          "x0.sum(0)", {kF32, kF64}),
      row("sum", "size-1 dims", {{.shape = {3, 1, 4}}},
          [](const Inputs& x) { return sum(x[0], {1}); }, "x0.sum(1)"),
      row("sum", "wide columns", {{.shape = {3, 300}}},
          [](const Inputs& x) { return sum(x[0], {0}); }, "x0.sum(0)", {kF32, kF64}),
      no_gradcheck(row("sum", "multi-block row", {{.shape = {3, 40000}}},
                       [](const Inputs& x) { return sum(x[0], {1}); }, "x0.sum(1)",
                       {kF32, kF64, kF16})),
      no_gradcheck(row("sum", "multi-block columns", {{.shape = {2000, 24}}},
                       [](const Inputs& x) { return sum(x[0], {0}); }, "x0.sum(0)",
                       {kF32, kF64})),
      no_gradcheck(row("sum", "narrow columns", {{.shape = {6000, 3}}},
                       [](const Inputs& x) { return sum(x[0], {0}, true); },
                       "x0.sum(0, keepdim=True)", {kF32, kF64})),
      no_gradcheck(row("sum", "int64 gives int64",
                       {{.shape = {4, 5}, .values = Values::integer, .lo = -50, .hi = 50}},
                       [](const Inputs& x) { return sum(x[0], {1}); }, "x0.sum(1)")),
      no_gradcheck(row("sum", "int32 gives int64",
                       {{.shape = {4, 5}, .values = Values::integer, .lo = -50, .hi = 50,
                         .dtype = DType::i32}},
                       [](const Inputs& x) { return sum(x[0]); }, "x0.sum()")),
      no_gradcheck(row("sum", "bool counts",
                       {{.shape = {6, 7}, .values = Values::boolean, .dtype = DType::boolean}},
                       [](const Inputs& x) { return sum(x[0], {0}); }, "x0.sum(0)")),
  };
}

std::vector<OpCase> mean_var_rows() {
  return {
      row("mean", "all", {{.shape = {3, 5}}}, [](const Inputs& x) { return mean(x[0]); },
          "torch.mean(x0)", {kF32, kF64, kF16}),
      row("mean", "dim=0 keepdim", {{.shape = {4, 6}}},
          [](const Inputs& x) { return mean(x[0], {0}, true); }, "x0.mean(0, keepdim=True)",
          {kF32, kF64}),
      row("mean", "dims -1,0", {{.shape = {2, 3, 4}}},
          [](const Inputs& x) { return mean(x[0], {-1, 0}); }, "x0.mean((2, 0))", {kF32, kF64}),
      row("mean", "noncontig", {{.shape = {3, 4}, .noncontig = true}},
          [](const Inputs& x) { return mean(x[0], {1}); }, "x0.mean(1)"),
      row("var", "all", {{.shape = {3, 5}}}, [](const Inputs& x) { return var(x[0]); },
          "torch.var(x0)", {kF32, kF64}),
      row("var", "dim=1", {{.shape = {4, 6}}}, [](const Inputs& x) { return var(x[0], {1}); },
          "x0.var(1)", {kF32, kF64}),
      row("var", "dim=0 correction=0", {{.shape = {5, 20}}},
          [](const Inputs& x) { return var(x[0], {0}, 0); }, "x0.var(0, unbiased=False)",
          {kF32, kF64}),
      row("var", "dims 0,2 keepdim", {{.shape = {2, 3, 4}}},
          [](const Inputs& x) { return var(x[0], {0, 2}, 1, true); },
          "x0.var((0, 2), keepdim=True)", {kF32, kF64}),
      row("var", "transposed dims 0,2 of 4-d", {{.shape = {2, 3, 4, 5}}},
          [](const Inputs& x) { return var(x[0].transpose(0, 2), {0, 2}); },
          "x0.transpose(0, 2).var((0, 2))", {kF32, kF64}),
      row("var", "noncontig", {{.shape = {3, 5}, .noncontig = true}},
          [](const Inputs& x) { return var(x[0], {-1}); }, "x0.var(-1)"),
      // A large offset: the one-pass E[x^2] - E[x]^2 would lose every digit in float.
      row("var", "offset 1000", {{.shape = {4, 50}, .values = Values::uniform, .lo = 1000, .hi = 1001}},
          [](const Inputs& x) { return var(x[0], {1}); }, "x0.var(1)",
          {{DType::f32, 1e-4, 1e-5}, kF64}),  // inputs are only exact to 6e-5 in float
      row("std", "all", {{.shape = {3, 5}}}, [](const Inputs& x) { return dlt::std(x[0]); },
          "torch.std(x0)", {kF32, kF64}),
      row("std", "dim=0 keepdim", {{.shape = {4, 3}}},
          [](const Inputs& x) { return dlt::std(x[0], {0}, 1, true); }, "x0.std(0, keepdim=True)",
          {kF32, kF64}),
  };
}

std::vector<OpCase> extremum_rows() {
  const I distinct_34{.shape = {3, 4}, .values = Values::distinct};
  // (3, 1) + zeros (1, 4): every row of the sum is a four-way tie.
  const std::vector<I> ties = {{.shape = {3, 1}},
                               {.shape = {1, 4}, .values = Values::uniform, .lo = 0, .hi = 0}};
  return {
      row("amax", "all", {distinct_34}, [](const Inputs& x) { return amax(x[0]); },
          "torch.amax(x0)", {kF32, kF64, kF16}),
      row("amax", "dim=0", {{.shape = {4, 20}, .values = Values::distinct}},
          [](const Inputs& x) { return amax(x[0], {0}); }, "torch.amax(x0, 0)", {kF32, kF64}),
      row("amax", "dims 0,2 keepdim", {{.shape = {2, 3, 4}, .values = Values::distinct}},
          [](const Inputs& x) { return amax(x[0], {0, -1}, true); },
          "torch.amax(x0, (0, 2), keepdim=True)", {kF32, kF64}),
      row("amax", "transposed", {{.shape = {20, 6}, .values = Values::distinct}},
          [](const Inputs& x) { return amax(x[0].t(), {-1}); }, "torch.amax(x0.t(), -1)"),
      row("amax", "noncontig", {{.shape = {3, 5}, .values = Values::distinct, .noncontig = true}},
          [](const Inputs& x) { return amax(x[0], {1}); }, "torch.amax(x0, 1)"),
      no_gradcheck(row("amax", "ties split the gradient", ties,
                       [](const Inputs& x) { return amax(x[0] + x[1], {1}); },
                       "torch.amax(x0 + x1, 1)", {kF32, kF64})),
      no_gradcheck(row("amax", "int64",
                       {{.shape = {4, 5}, .values = Values::integer, .lo = -50, .hi = 50}},
                       [](const Inputs& x) { return amax(x[0], {1}); }, "torch.amax(x0, 1)")),
      row("amin", "all", {distinct_34}, [](const Inputs& x) { return amin(x[0]); },
          "torch.amin(x0)", {kF32, kF64}),
      row("amin", "dim=-1 keepdim", {{.shape = {4, 6}, .values = Values::distinct}},
          [](const Inputs& x) { return amin(x[0], {-1}, true); },
          "torch.amin(x0, -1, keepdim=True)", {kF32, kF64}),
      row("amin", "dim=0", {{.shape = {3, 17}, .values = Values::distinct}},
          [](const Inputs& x) { return amin(x[0], {0}); }, "torch.amin(x0, 0)"),
      no_gradcheck(row("amin", "ties split the gradient", ties,
                       [](const Inputs& x) { return amin(x[0] + x[1]); }, "torch.amin(x0 + x1)",
                       {kF32, kF64})),

      row("max_dim", "dim=1", {{.shape = {4, 6}, .values = Values::distinct}},
          [](const Inputs& x) { return max(x[0], 1).values; }, "torch.max(x0, 1).values",
          {kF32, kF64, kF16}),
      row("max_dim", "dim=0 keepdim", {{.shape = {5, 20}, .values = Values::distinct}},
          [](const Inputs& x) { return max(x[0], 0, true).values; },
          "torch.max(x0, 0, keepdim=True).values", {kF32, kF64}),
      row("max_dim", "dim=-2 of 3-d", {{.shape = {2, 3, 4}, .values = Values::distinct}},
          [](const Inputs& x) { return max(x[0], -2).values; }, "torch.max(x0, -2).values"),
      row("max_dim", "noncontig", {{.shape = {3, 4}, .values = Values::distinct, .noncontig = true}},
          [](const Inputs& x) { return max(x[0], 1).values; }, "torch.max(x0, 1).values"),
      row("max_dim", "0-dim", {{.shape = {}}}, [](const Inputs& x) { return max(x[0], 0).values; },
          "torch.max(x0, 0).values"),
      no_gradcheck(row("max_dim", "ties: first index", ties,
                       [](const Inputs& x) { return max(x[0] + x[1], 1).values; },
                       "torch.max(x0 + x1, 1).values", {kF32, kF64})),
      no_gradcheck(row("max_dim", "indices", {{.shape = {4, 6}, .values = Values::distinct}},
                       [](const Inputs& x) { return max(x[0], 1).indices; },
                       "torch.max(x0, 1).indices")),
      no_gradcheck(row("max_dim", "indices dim=0", {{.shape = {7, 18}, .values = Values::distinct}},
                       [](const Inputs& x) { return max(x[0], 0, true).indices; },
                       "torch.max(x0, 0, keepdim=True).indices")),
      row("min_dim", "dim=1", {{.shape = {4, 6}, .values = Values::distinct}},
          [](const Inputs& x) { return min(x[0], 1).values; }, "torch.min(x0, 1).values",
          {kF32, kF64}),
      row("min_dim", "dim=0 keepdim", {{.shape = {5, 20}, .values = Values::distinct}},
          [](const Inputs& x) { return min(x[0], 0, true).values; },
          "torch.min(x0, 0, keepdim=True).values", {kF32, kF64}),
      no_gradcheck(row("min_dim", "indices", {{.shape = {3, 4, 5}, .values = Values::distinct}},
                       [](const Inputs& x) { return min(x[0], -1).indices; },
                       "torch.min(x0, -1).indices")),

      no_gradcheck(row("argmax", "dim=1", {{.shape = {4, 6}, .values = Values::distinct}},
                       [](const Inputs& x) { return argmax(x[0], 1); }, "torch.argmax(x0, 1)")),
      no_gradcheck(row("argmax", "dim=0 keepdim", {{.shape = {6, 17}, .values = Values::distinct}},
                       [](const Inputs& x) { return argmax(x[0], 0, true); },
                       "torch.argmax(x0, 0, keepdim=True)")),
      no_gradcheck(row("argmax", "noncontig",
                       {{.shape = {3, 5}, .values = Values::distinct, .noncontig = true}},
                       [](const Inputs& x) { return argmax(x[0], -1); }, "torch.argmax(x0, -1)")),
      no_gradcheck(row("argmax", "int64 ties: first index",
                       {{.shape = {5, 8}, .values = Values::integer, .lo = 0, .hi = 3}},
                       [](const Inputs& x) { return argmax(x[0], 1); }, "torch.argmax(x0, 1)")),
      no_gradcheck(row("argmin", "dim=1", {{.shape = {4, 6}, .values = Values::distinct}},
                       [](const Inputs& x) { return argmin(x[0], 1); }, "torch.argmin(x0, 1)")),
      no_gradcheck(row("argmin", "dim=0", {{.shape = {6, 17}, .values = Values::distinct}},
                       [](const Inputs& x) { return argmin(x[0], 0); }, "torch.argmin(x0, 0)")),
  };
}

std::vector<OpCase> logsumexp_norm_rows() {
  return {
      row("logsumexp", "dim=1", {{.shape = {3, 5}}},
          [](const Inputs& x) { return logsumexp(x[0], {1}); }, "torch.logsumexp(x0, 1)",
          {kF32, kF64}),
      row("logsumexp", "all", {{.shape = {3, 5}}}, [](const Inputs& x) { return logsumexp(x[0], {}); },
          "torch.logsumexp(x0, (0, 1))", {kF32, kF64}),
      row("logsumexp", "dim=0 keepdim", {{.shape = {4, 20}}},
          [](const Inputs& x) { return logsumexp(x[0], {0}, true); },
          "torch.logsumexp(x0, 0, keepdim=True)", {kF32, kF64}),
      row("logsumexp", "dims 0,2", {{.shape = {2, 3, 4}}},
          [](const Inputs& x) { return logsumexp(x[0], {0, 2}); }, "torch.logsumexp(x0, (0, 2))",
          {kF32, kF64}),
      // exp(100) overflows float: only a max-shifted sum survives.
      row("logsumexp", "large values",
          {{.shape = {4, 6}, .values = Values::uniform, .lo = -100, .hi = 100}},
          [](const Inputs& x) { return logsumexp(x[0], {1}); }, "torch.logsumexp(x0, 1)",
          {kF32, kF64}),
      row("logsumexp", "transposed", {{.shape = {20, 6}}},
          [](const Inputs& x) { return logsumexp(x[0].t(), {1}); }, "torch.logsumexp(x0.t(), 1)",
          {kF32, kF64}),
      row("logsumexp", "noncontig", {{.shape = {3, 4}, .noncontig = true}},
          [](const Inputs& x) { return logsumexp(x[0], {-1}); }, "torch.logsumexp(x0, -1)"),

      row("norm", "p=2 all", {{.shape = {3, 5}}}, [](const Inputs& x) { return norm(x[0]); },
          "torch.linalg.vector_norm(x0)", {kF32, kF64}),
      row("norm", "p=1 dim=1", {{.shape = {3, 5}}},
          [](const Inputs& x) { return norm(x[0], 1, {1}); },
          "torch.linalg.vector_norm(x0, 1, dim=1)", {kF32, kF64}),
      row("norm", "p=inf dim=0", {{.shape = {4, 5}}},  // distinct values would tie in abs
          [](const Inputs& x) { return norm(x[0], INFINITY, {0}); },
          "torch.linalg.vector_norm(x0, float('inf'), dim=0)", {kF32, kF64}),
      row("norm", "p=3 dims keepdim", {{.shape = {2, 3, 4}}},
          [](const Inputs& x) { return norm(x[0], 3, {0, 2}, true); },
          "torch.linalg.vector_norm(x0, 3, dim=(0, 2), keepdim=True)", {kF32, kF64}),
      row("norm", "p=0.5 positive", {{.shape = {3, 4}, .values = Values::positive}},
          [](const Inputs& x) { return norm(x[0], 0.5, {-1}); },
          "torch.linalg.vector_norm(x0, 0.5, dim=-1)", {kF32, kF64}),
      no_gradcheck(row("norm", "zeros: gradient 0",
                       {{.shape = {2, 3}, .values = Values::uniform, .lo = 0, .hi = 0}},
                       [](const Inputs& x) { return norm(x[0], 2, {1}); },
                       "torch.linalg.vector_norm(x0, 2, dim=1)", {kF32, kF64})),
      row("norm", "p=2 noncontig", {{.shape = {3, 4}, .noncontig = true}},
          [](const Inputs& x) { return norm(x[0], 2, {1}); },
          "torch.linalg.vector_norm(x0, 2, dim=1)"),
  };
}

DLT_OP_CASES(reduce) {
  std::vector<OpCase> rows;
  for (auto make : {sum_rows, mean_var_rows, extremum_rows, logsumexp_norm_rows})
    for (OpCase& c : make()) rows.push_back(std::move(c));
  return rows;
}

}  // namespace
}  // namespace dlt::testing
