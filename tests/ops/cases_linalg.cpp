// Test rows for matmul and linear.
#include "tests/ops/op_case.h"

namespace dlt::testing {
namespace {

// f32 and an f64 row for every shape (f64 runs the plain loop, f32 oneDNN).
const std::vector<Tolerance> kF32F64 = {{DType::f32, 1e-5, 1e-5}, {DType::f64, 1e-10, 1e-10}};

OpCase matmul_row(std::string label, Shape a, Shape b) {
  return {.op = "matmul", .label = std::move(label),
          .inputs = {{.shape = std::move(a)}, {.shape = std::move(b)}},
          .fn = [](const Inputs& x) { return matmul(x[0], x[1]); },
          .torch = "torch.matmul(x0, x1)",
          .tolerances = kF32F64};
}

DLT_OP_CASES(linalg) {
  std::vector<OpCase> rows = {
      matmul_row("2-D", {3, 4}, {4, 5}),
      matmul_row("1-D @ 2-D", {4}, {4, 5}),
      matmul_row("2-D @ 1-D", {3, 4}, {4}),
      matmul_row("dot", {6}, {6}),
      matmul_row("batched", {2, 3, 4}, {2, 4, 5}),
      // (B, 1, T, C) @ (H, C, T): both operands broadcast along a batch dim.
      matmul_row("broadcast batch", {2, 1, 3, 4}, {3, 4, 3}),
      matmul_row("3-D @ 2-D", {2, 3, 4}, {4, 5}),  // folded into one GEMM
      matmul_row("2-D @ 3-D", {3, 4}, {2, 4, 5}),
      matmul_row("1-D @ 3-D", {4}, {2, 4, 5}),
      matmul_row("3-D @ 1-D", {2, 3, 4}, {4}),
      matmul_row("batch of one", {1, 3, 4}, {1, 4, 2}),
      matmul_row("wide", {5, 33}, {33, 70}),
  };
  rows.push_back({.op = "matmul", .label = "transposed",  // strided views read in place
                  .inputs = {{.shape = {4, 3}}, {.shape = {5, 4}}},
                  .fn = [](const Inputs& x) { return matmul(x[0].t(), x[1].t()); },
                  .torch = "torch.matmul(x0.t(), x1.t())",
                  .tolerances = kF32F64});
  rows.push_back({.op = "matmul", .label = "batched transposed",
                  .inputs = {{.shape = {2, 4, 3}}, {.shape = {4, 5}}},
                  .fn = [](const Inputs& x) { return matmul(x[0].transpose(-1, -2), x[1]); },
                  .torch = "torch.matmul(x0.transpose(-1, -2), x1)",
                  .tolerances = kF32F64});
  rows.push_back({.op = "matmul", .label = "noncontig",  // copied before the GEMM
                  .inputs = {{.shape = {3, 4}, .noncontig = true}, {.shape = {4, 5}, .noncontig = true}},
                  .fn = [](const Inputs& x) { return matmul(x[0], x[1]); },
                  .torch = "torch.matmul(x0, x1)",
                  .tolerances = kF32F64});
  rows.push_back({.op = "matmul", .label = "int64",  // exact, through the plain loop
                  .inputs = {{.shape = {2, 3, 4}, .values = Values::integer, .lo = -5, .hi = 5},
                             {.shape = {4, 2}, .values = Values::integer, .lo = -5, .hi = 5}},
                  .fn = [](const Inputs& x) { return matmul(x[0], x[1]); },
                  .torch = "torch.matmul(x0, x1)",
                  .tolerances = {{DType::f32, 0, 0}},
                  .gradcheck = false});
  // 16-bit rows against torch's own 16-bit matmul. bf16 keeps 8 significant
  // bits (1 ulp is up to 2^-7 relative) and torch rounds per-batch partial
  // gradients before summing them, so allow two ulps of values around 2..4.
  rows.push_back({.op = "matmul", .label = "bf16",
                  .inputs = {{.shape = {2, 4, 8}}, {.shape = {8, 4}}},
                  .fn = [](const Inputs& x) { return matmul(x[0], x[1]); },
                  .torch = "torch.matmul(x0, x1)",
                  .tolerances = {{DType::bf16, 1.6e-2, 3e-2}}});
  rows.push_back({.op = "matmul", .label = "f16",
                  .inputs = {{.shape = {8, 16}}, {.shape = {16, 8}}},
                  .fn = [](const Inputs& x) { return matmul(x[0], x[1]); },
                  .torch = "torch.matmul(x0, x1)",
                  // bf16 also under autocast from f32: 16 products summed, and
                  // torch 1.13's CPU bf16 GEMM rounds partial sums, so a gradient
                  // near cancellation may differ by 2 ulps of values around 4.
                  .tolerances = {{DType::f16, 4e-3, 4e-3}, {DType::bf16, 1.6e-2, 4e-2}}});

  auto linear_row = [](std::string label, Shape x, bool bias) {
    const int64_t out = 5, in = x.back();
    std::vector<InputSpec> inputs = {{.shape = std::move(x)}, {.shape = {out, in}}};
    if (bias) inputs.push_back({.shape = {out}});
    return OpCase{.op = "linear", .label = std::move(label), .inputs = std::move(inputs),
                  .fn = [bias](const Inputs& v) {
                    return bias ? linear(v[0], v[1], v[2]) : linear(v[0], v[1]);
                  },
                  .torch = bias ? "F.linear(x0, x1, x2)" : "F.linear(x0, x1)",
                  .tolerances = kF32F64};
  };
  rows.push_back(linear_row("bias", {3, 4}, true));
  rows.push_back(linear_row("no bias", {3, 4}, false));
  rows.push_back(linear_row("3-D input", {2, 3, 4}, true));
  rows.push_back(linear_row("1-D input", {4}, true));
  rows.push_back({.op = "linear", .label = "noncontig input",
                  .inputs = {{.shape = {3, 4}, .noncontig = true}, {.shape = {5, 4}}, {.shape = {5}}},
                  .fn = [](const Inputs& x) { return linear(x[0], x[1], x[2]); },
                  .torch = "F.linear(x0, x1, x2)",
                  .tolerances = kF32F64});
  // Rows of x not evenly spaced across the batch: a batched GEMM with the
  // weight and bias broadcast, not one folded GEMM.
  rows.push_back({.op = "linear", .label = "permuted 3-D input",
                  .inputs = {{.shape = {3, 2, 4}}, {.shape = {5, 4}}, {.shape = {5}}},
                  .fn = [](const Inputs& x) { return linear(x[0].transpose(0, 1), x[1], x[2]); },
                  .torch = "F.linear(x0.transpose(0, 1), x1, x2)",
                  .tolerances = kF32F64});
  rows.push_back({.op = "linear", .label = "transposed weight",
                  .inputs = {{.shape = {2, 3, 4}}, {.shape = {4, 5}}, {.shape = {5}}},
                  .fn = [](const Inputs& x) { return linear(x[0], x[1].t(), x[2]); },
                  .torch = "F.linear(x0, x1.t(), x2)",
                  .tolerances = kF32F64});
  rows.push_back({.op = "linear_gelu",
                  .inputs = {{.shape = {2, 3, 4}}, {.shape = {5, 4}}, {.shape = {5}}},
                  .fn = [](const Inputs& x) { return linear_gelu(x[0], x[1], x[2]); },
                  .torch = "F.gelu(F.linear(x0, x1, x2))",
                  .tolerances = kF32F64});
  rows.push_back({.op = "linear_gelu", .label = "tanh no bias",
                  .inputs = {{.shape = {3, 4}}, {.shape = {5, 4}}},
                  .fn = [](const Inputs& x) { return linear_gelu(x[0], x[1], Tensor(), true); },
                  .torch = "F.gelu(F.linear(x0, x1), approximate='tanh')",
                  .tolerances = kF32F64});
  rows.push_back({.op = "linear", .label = "bf16",
                  .inputs = {{.shape = {6, 16}}, {.shape = {8, 16}}, {.shape = {8}}},
                  .fn = [](const Inputs& x) { return linear(x[0], x[1], x[2]); },
                  .torch = "F.linear(x0, x1, x2)",
                  .tolerances = {{DType::bf16, 2e-2, 2e-2}}});
  return rows;
}

}  // namespace
}  // namespace dlt::testing
