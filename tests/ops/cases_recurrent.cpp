// Test rows for the fused recurrent cells, against the same math written with
// torch ops. A row's result is h and c side by side (B, 2H) for lstm_cell, so
// one loss reaches both outputs.
#include "dlt/ops/recurrent.h"
#include "tests/ops/op_case.h"

namespace dlt::testing {
namespace {

// Pointwise math in float / double with the vectorised exp and tanh of the
// CPU kernels (a few ulps from libm); the backward's products chain about
// five roundings.
const std::vector<Tolerance> kCellTol = {{DType::f32, 1e-5, 1e-5}, {DType::f64, 1e-10, 1e-10}};
// Half inputs against torch computing in float32 from the same rounded inputs
// and rounding its results back. dlt also computes in float, but its backward
// reads the gates and c the forward rounded to the half type: a few ulps of it.
const std::vector<Tolerance> kCellHalfTol = {{DType::f16, 4e-3, 4e-3}, {DType::bf16, 3e-2, 3e-2}};

// x0 gates (B, 4H), x1 c_prev (B, H).
const char* kTorchLstm =
    "(lambda i, f, g, o: (lambda c: torch.cat([torch.sigmoid(o) * torch.tanh(c), c], 1))"
    "(torch.sigmoid(f) * x1 + torch.sigmoid(i) * torch.tanh(g)))(*x0.chunk(4, 1))";
const char* kTorchLstmHalf =
    "(lambda i, f, g, o: (lambda c: torch.cat([torch.sigmoid(o) * torch.tanh(c), c], 1))"
    "(torch.sigmoid(f) * x1.float() + torch.sigmoid(i) * torch.tanh(g)))"
    "(*x0.float().chunk(4, 1)).to(x0.dtype)";
// x0 input gates, x1 hidden gates (B, 3H), x2 h_prev (B, H).
const char* kTorchGru =
    "(lambda ir, iz, i_n, hr, hz, hn: (lambda r, z: (lambda n: n + z * (x2 - n))"
    "(torch.tanh(i_n + r * hn)))(torch.sigmoid(ir + hr), torch.sigmoid(iz + hz)))"
    "(*x0.chunk(3, 1), *x1.chunk(3, 1))";
const char* kTorchGruHalf =
    "(lambda ir, iz, i_n, hr, hz, hn: (lambda r, z: (lambda n: n + z * (x2.float() - n))"
    "(torch.tanh(i_n + r * hn)))(torch.sigmoid(ir + hr), torch.sigmoid(iz + hz)))"
    "(*x0.float().chunk(3, 1), *x1.float().chunk(3, 1)).to(x0.dtype)";

Tensor lstm_h_and_c(const Inputs& x) {
  const LstmCellOutput o = lstm_cell(x[0], x[1]);
  return cat({o.h, o.c}, 1);
}
Tensor gru_h(const Inputs& x) { return gru_cell(x[0], x[1], x[2]).h; }

OpCase lstm_row(std::string label, int64_t B, int64_t H, bool noncontig,
                std::vector<Tolerance> tol, const char* torch) {
  // Gates of +-3 reach the flat ends of sigmoid and tanh.
  return {.op = "lstm_cell", .label = std::move(label),
          .inputs = {{.shape = {B, 4 * H}, .values = Values::uniform, .lo = -3, .hi = 3,
                      .noncontig = noncontig},
                     {.shape = {B, H}, .noncontig = noncontig}},
          .fn = lstm_h_and_c, .torch = torch, .tolerances = std::move(tol)};
}

OpCase gru_row(std::string label, int64_t B, int64_t H, bool noncontig, std::vector<Tolerance> tol,
               const char* torch) {
  return {.op = "gru_cell", .label = std::move(label),
          .inputs = {{.shape = {B, 3 * H}, .values = Values::uniform, .lo = -3, .hi = 3,
                      .noncontig = noncontig},
                     {.shape = {B, 3 * H}, .noncontig = noncontig},
                     {.shape = {B, H}, .noncontig = noncontig}},
          .fn = gru_h, .torch = torch, .tolerances = std::move(tol)};
}

DLT_OP_CASES(recurrent) {
  return {
      lstm_row("small", 3, 5, false, kCellTol, kTorchLstm),
      // 37 is not a multiple of any vector width: the loops' tails.
      lstm_row("wide", 4, 37, false, kCellTol, kTorchLstm),
      lstm_row("noncontig", 2, 6, true, kCellTol, kTorchLstm),
      lstm_row("half", 3, 8, false, kCellHalfTol, kTorchLstmHalf),
      gru_row("small", 3, 5, false, kCellTol, kTorchGru),
      gru_row("wide", 4, 37, false, kCellTol, kTorchGru),
      gru_row("noncontig", 2, 6, true, kCellTol, kTorchGru),
      gru_row("half", 3, 8, false, kCellHalfTol, kTorchGruHalf),
  };
}

}  // namespace
}  // namespace dlt::testing
