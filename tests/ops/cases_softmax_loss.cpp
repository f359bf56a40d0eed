// Test rows for softmax, log_softmax and the losses.
#include "tests/ops/op_case.h"

namespace dlt::testing {
namespace {

const std::vector<Tolerance> kF32F64 = {{DType::f32, 1e-5, 1e-5}, {DType::f64, 1e-10, 1e-10}};

// Class indices in [0, n): drawn as integers, never differentiated.
InputSpec classes(Shape shape, int64_t n) {
  return {.shape = std::move(shape), .values = Values::integer, .lo = 0, .hi = double(n),
          .grad = false};
}

std::string reduction_name(Reduction r) {
  return r == Reduction::none ? "none" : r == Reduction::sum ? "sum" : "mean";
}

DLT_OP_CASES(softmax_loss) {
  std::vector<OpCase> rows;

  // ---- softmax / log_softmax over dims of a 3-D tensor ----
  for (const bool log : {false, true}) {
    const std::string op = log ? "log_softmax" : "softmax";
    auto f = [log](const Tensor& x, int64_t dim) { return log ? log_softmax(x, dim) : softmax(x, dim); };
    auto row = [&](std::string label, InputSpec in, int64_t dim,
                   std::vector<Tolerance> tol = kF32F64) {
      return OpCase{.op = op, .label = std::move(label), .inputs = {std::move(in)},
                    .fn = [f, dim](const Inputs& x) { return f(x[0], dim); },
                    .torch = fmt::format("torch.{}(x0, {})", op, dim),
                    .tolerances = std::move(tol)};
    };
    rows.push_back(row("dim=-1", {.shape = {2, 3, 5}}, -1));
    rows.push_back(row("dim=0", {.shape = {2, 3, 5}}, 0));
    rows.push_back(row("dim=1", {.shape = {2, 3, 5}}, 1));
    rows.push_back(row("noncontig", {.shape = {3, 2, 4}, .noncontig = true}, -1));
    rows.push_back(row("noncontig dim=1", {.shape = {3, 2, 4}, .noncontig = true}, 1));
    // Rows longer than a vector plus a remainder; lanes beyond one group of 64.
    rows.push_back(row("long rows", {.shape = {3, 37}}, 1));
    rows.push_back(row("wide lanes", {.shape = {2, 3, 70}}, 1));
    // exp(x) alone would overflow float: only x - max is ever exponentiated.
    rows.push_back(row("large values", {.shape = {4, 6}, .values = Values::uniform, .lo = -200, .hi = 200}, -1));
    rows.push_back(row("1-D", {.shape = {7}}, 0));
    rows.push_back(row("0-dim", {.shape = {}}, -1));
    // Inputs rounded to 16 bits, math in float, output rounded once.
    rows.push_back(row("bf16", {.shape = {4, 9}}, -1, {{DType::bf16, 1e-2, 1e-2}}));
    rows.push_back(row("f16 dim=0", {.shape = {4, 9}}, 0, {{DType::f16, 2e-3, 2e-3}}));
  }

  // ---- cross_entropy ----
  auto ce_row = [](std::string label, Shape logits, Shape target, int64_t n, int64_t ignore,
                   double smoothing, Reduction r, std::vector<Tolerance> tol = kF32F64) {
    return OpCase{
        .op = "cross_entropy", .label = std::move(label),
        .inputs = {{.shape = std::move(logits)}, classes(std::move(target), n)},
        .fn = [=](const Inputs& x) { return cross_entropy(x[0], x[1], ignore, smoothing, r); },
        .torch = fmt::format("F.cross_entropy(x0, x1, ignore_index={}, label_smoothing={}, "
                             "reduction='{}')",
                             ignore, smoothing, reduction_name(r)),
        .tolerances = std::move(tol)};
  };
  const auto mean = Reduction::mean, sum = Reduction::sum, none = Reduction::none;
  rows.push_back(ce_row("2-D", {4, 5}, {4}, 5, -100, 0, mean));
  rows.push_back(ce_row("(B, N, T)", {2, 5, 3}, {2, 3}, 5, -100, 0, mean));
  rows.push_back(ce_row("(B, N, H, W) none", {2, 4, 2, 3}, {2, 2, 3}, 4, -100, 0, none));
  rows.push_back(ce_row("reduction=none", {4, 5}, {4}, 5, -100, 0, none));
  rows.push_back(ce_row("reduction=sum", {4, 5}, {4}, 5, -100, 0, sum));
  // Targets 0..3 with class 1 ignored: the mean is over the other targets.
  rows.push_back(ce_row("ignore_index", {8, 4}, {8}, 4, 1, 0, mean));
  rows.push_back(ce_row("ignore_index none", {8, 4}, {8}, 4, 1, 0, none));
  rows.push_back(ce_row("label_smoothing", {4, 5}, {4}, 5, -100, 0.1, mean));
  rows.push_back(ce_row("label_smoothing ignore_index", {2, 4, 5}, {2, 5}, 4, 2, 0.25, mean));
  rows.push_back(ce_row("label_smoothing sum", {2, 4, 5}, {2, 5}, 4, 2, 0.25, sum));
  rows.push_back(ce_row("many classes", {3, 70}, {3}, 70, -100, 0.05, mean));
  rows.push_back(ce_row("wide lanes", {2, 3, 70}, {2, 70}, 3, 0, 0, mean));
  // Few classes: 64 rows at a time, a row per lane (two whole groups and two rows).
  rows.push_back(ce_row("rows as lanes", {130, 10}, {130}, 10, 3, 0.1, mean));
  rows.push_back(ce_row("rows as lanes none", {70, 7}, {70}, 7, -100, 0, none));
  rows.push_back(ce_row("unbatched", {5}, {}, 5, -100, 0, mean));
  rows.push_back(ce_row("bf16", {6, 10}, {6}, 10, -100, 0.1, mean, {{DType::bf16, 1e-2, 1e-2}}));
  // Every target ignored: the mean over no targets is nan, as in torch, and
  // the gradient is zero (no finite differences of a nan: parity only).
  OpCase all_ignored = ce_row("all ignored", {3, 4}, {3}, 1, 0, 0.1, mean);
  all_ignored.gradcheck = false;
  rows.push_back(all_ignored);
  rows.push_back({.op = "cross_entropy", .label = "noncontig",
                  .inputs = {{.shape = {4, 5}, .noncontig = true}, classes({4}, 5)},
                  .fn = [](const Inputs& x) { return cross_entropy(x[0], x[1]); },
                  .torch = "F.cross_entropy(x0, x1)",
                  .tolerances = kF32F64});

  // ---- nll_loss (inputs are any values: the loss only reads them) ----
  auto nll_row = [](std::string label, Shape input, Shape target, int64_t n, int64_t ignore,
                    Reduction r) {
    return OpCase{.op = "nll_loss", .label = std::move(label),
                  .inputs = {{.shape = std::move(input)}, classes(std::move(target), n)},
                  .fn = [=](const Inputs& x) { return nll_loss(x[0], x[1], ignore, r); },
                  .torch = fmt::format("F.nll_loss(x0, x1, ignore_index={}, reduction='{}')",
                                       ignore, reduction_name(r)),
                  .tolerances = kF32F64};
  };
  rows.push_back(nll_row("2-D", {4, 5}, {4}, 5, -100, mean));
  rows.push_back(nll_row("(B, N, T) none", {2, 5, 3}, {2, 3}, 5, -100, none));
  rows.push_back(nll_row("ignore_index", {8, 3}, {8}, 3, 0, mean));
  rows.push_back(nll_row("reduction=sum", {2, 3, 4}, {2, 4}, 3, 1, sum));
  rows.push_back({.op = "nll_loss", .label = "of log_softmax",
                  .inputs = {{.shape = {4, 6}}, classes({4}, 6)},
                  .fn = [](const Inputs& x) { return nll_loss(log_softmax(x[0], 1), x[1]); },
                  .torch = "F.nll_loss(torch.log_softmax(x0, 1), x1)",
                  .tolerances = kF32F64});

  // ---- composites ----
  for (const Reduction r : {mean, sum, none}) {
    const std::string red = reduction_name(r);
    rows.push_back({.op = "mse_loss", .label = red,
                    .inputs = {{.shape = {3, 4}}, {.shape = {3, 4}}},
                    .fn = [r](const Inputs& x) { return mse_loss(x[0], x[1], r); },
                    .torch = "F.mse_loss(x0, x1, reduction='" + red + "')",
                    .tolerances = kF32F64});
    rows.push_back({.op = "bce_with_logits", .label = red,
                    .inputs = {{.shape = {3, 4}, .values = Values::uniform, .lo = -6, .hi = 6},
                               {.shape = {3, 4}, .values = Values::uniform, .lo = 0, .hi = 1}},
                    .fn = [r](const Inputs& x) {
                      return binary_cross_entropy_with_logits(x[0], x[1], r);
                    },
                    .torch = "F.binary_cross_entropy_with_logits(x0, x1, reduction='" + red + "')",
                    .tolerances = kF32F64});
  }
  // Logits far beyond exp's range in float: the stable formula stays finite.
  rows.push_back({.op = "bce_with_logits", .label = "large logits",
                  .inputs = {{.shape = {8}, .values = Values::uniform, .lo = -120, .hi = 120},
                             {.shape = {8}, .values = Values::uniform, .lo = 0, .hi = 1, .grad = false}},
                  .fn = [](const Inputs& x) { return binary_cross_entropy_with_logits(x[0], x[1]); },
                  .torch = "F.binary_cross_entropy_with_logits(x0, x1)",
                  .tolerances = kF32F64});
  return rows;
}

}  // namespace
}  // namespace dlt::testing
