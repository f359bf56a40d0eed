// Test rows for layer_norm, batch_norm, dropout and embedding.
#include "tests/ops/op_case.h"

namespace dlt::testing {
namespace {

// f32 results differ from torch only by summation order of the statistics.
const std::vector<Tolerance> kNormTol = {{DType::f32, 1e-5, 1e-5}, {DType::f64, 1e-10, 1e-10}};
// Half types against torch computing in float32 from the same rounded inputs
// and rounding its results back (torch's own bf16 layer_norm backward is ~9
// bf16 ulps off the float64 result, measured: -2.1875 for -2.0521, where dlt
// gives -2.0469). Both sides then differ only where float summation order
// flips a final rounding (none do on these rows): 2 ulps, 2^-11 for f16 and
// 2^-8 for bf16 relative.
const std::vector<Tolerance> kHalfTol = {{DType::f16, 1e-3, 1e-3}, {DType::bf16, 8e-3, 8e-3}};
// Plain row copies (forward) and sums of a few rows (backward).
const std::vector<Tolerance> kCopyTol = {{DType::f32, 1e-6, 1e-6}, {DType::f64, 1e-12, 1e-12}};

Tensor running(int64_t c, const Tensor& like, double value) {
  return full({c}, value, TensorOptions(like.dtype()).device(like.device()));
}

DLT_OP_CASES(norm) {
  std::vector<OpCase> rows;

  // ---- layer_norm ----
  // Each shape once in f32/f64 against torch's kernel, once in f16/bf16
  // against torch in float32 (its expression upcasts, then rounds back).
  auto layer_norm_rows = [&rows](std::string label, Shape x, Shape normalized, bool affine) {
    const std::string ns = fmt::format("({},)", fmt::join(normalized, ", "));
    std::vector<InputSpec> inputs = {{.shape = x}};
    if (affine) inputs.insert(inputs.end(), {{.shape = normalized}, {.shape = normalized}});
    auto fn = [normalized, affine](const Inputs& in) {
      return affine ? layer_norm(in[0], normalized, in[1], in[2]) : layer_norm(in[0], normalized);
    };
    rows.push_back({.op = "layer_norm", .label = label, .inputs = inputs, .fn = fn,
                    .torch = affine ? fmt::format("F.layer_norm(x0, {}, x1, x2)", ns)
                                    : fmt::format("F.layer_norm(x0, {})", ns),
                    .tolerances = kNormTol});
    rows.push_back({.op = "layer_norm", .label = label + " half", .inputs = inputs, .fn = fn,
                    .torch = affine ? fmt::format("F.layer_norm(x0.float(), {}, x1.float(), "
                                                  "x2.float()).to(x0.dtype)", ns)
                                    : fmt::format("F.layer_norm(x0.float(), {}).to(x0.dtype)", ns),
                    .tolerances = kHalfTol});
  };
  layer_norm_rows("affine", {2, 3, 8}, {8}, true);
  layer_norm_rows("two normalized dims", {3, 4, 5}, {4, 5}, true);
  layer_norm_rows("no affine", {4, 16}, {16}, false);
  layer_norm_rows("long rows", {3, 300}, {300}, true);
  rows.push_back({.op = "layer_norm", .label = "weight only",
                  .inputs = {{.shape = {5, 7}}, {.shape = {7}}},
                  .fn = [](const Inputs& x) { return layer_norm(x[0], {7}, x[1]); },
                  .torch = "F.layer_norm(x0, (7,), x1)",
                  .tolerances = kNormTol});
  rows.push_back({.op = "layer_norm", .label = "bias only",
                  .inputs = {{.shape = {3, 6}}, {.shape = {6}}},
                  .fn = [](const Inputs& x) { return layer_norm(x[0], {6}, Tensor(), x[1]); },
                  .torch = "F.layer_norm(x0, (6,), None, x1)",
                  .tolerances = kNormTol});
  rows.push_back({.op = "layer_norm", .label = "noncontig",
                  .inputs = {{.shape = {3, 6}, .noncontig = true}, {.shape = {6}}, {.shape = {6}}},
                  .fn = [](const Inputs& x) { return layer_norm(x[0], {6}, x[1], x[2]); },
                  .torch = "F.layer_norm(x0, (6,), x1, x2)",
                  .tolerances = kNormTol});
  // Rows whose mean (about 10) dwarfs their spread (about 0.3): the one-pass
  // statistics must not cancel. float32 inputs near 10 carry ~1e-6 absolute
  // rounding, ~3e-6 after normalising: 2e-5 covers both implementations.
  rows.push_back({.op = "layer_norm", .label = "large mean, eps 1e-3",
                  .inputs = {{.shape = {4, 10}, .values = Values::uniform, .lo = 10, .hi = 11},
                             {.shape = {10}}, {.shape = {10}}},
                  .fn = [](const Inputs& x) { return layer_norm(x[0], {10}, x[1], x[2], 1e-3); },
                  .torch = "F.layer_norm(x0, (10,), x1, x2, 1e-3)",
                  .tolerances = {{DType::f32, 2e-5, 2e-5}, {DType::f64, 1e-10, 1e-10}}});

  // ---- batch_norm ----
  // Training rows build fresh running statistics inside the call, so every
  // evaluation (gradcheck runs many) sees the same state.
  rows.push_back({.op = "batch_norm", .label = "training BCHW",
                  .inputs = {{.shape = {4, 3, 2, 5}}, {.shape = {3}}, {.shape = {3}}},
                  .fn = [](const Inputs& x) {
                    return batch_norm(x[0], running(3, x[0], 0), running(3, x[0], 1), x[1], x[2],
                                      true);
                  },
                  .torch = "F.batch_norm(x0, torch.zeros(3, dtype=x0.dtype), torch.ones(3, "
                           "dtype=x0.dtype), x1, x2, training=True)",
                  .tolerances = kNormTol});
  // Planes of 35: the NCHW kernel's 16-lane blocks plus a tail of 3.
  rows.push_back({.op = "batch_norm", .label = "training BCHW wide planes",
                  .inputs = {{.shape = {3, 2, 5, 7}}, {.shape = {2}}, {.shape = {2}}},
                  .fn = [](const Inputs& x) {
                    return batch_norm(x[0], running(2, x[0], 0), running(2, x[0], 1), x[1], x[2],
                                      true);
                  },
                  .torch = "F.batch_norm(x0, torch.zeros(2, dtype=x0.dtype), torch.ones(2, "
                           "dtype=x0.dtype), x1, x2, training=True)",
                  .tolerances = kNormTol});
  rows.push_back({.op = "batch_norm", .label = "training BC",
                  .inputs = {{.shape = {6, 4}}, {.shape = {4}}, {.shape = {4}}},
                  .fn = [](const Inputs& x) {
                    return batch_norm(x[0], running(4, x[0], 0), running(4, x[0], 1), x[1], x[2],
                                      true, 0.2, 1e-3);
                  },
                  .torch = "F.batch_norm(x0, torch.zeros(4, dtype=x0.dtype), torch.ones(4, "
                           "dtype=x0.dtype), x1, x2, training=True, momentum=0.2, eps=1e-3)",
                  .tolerances = kNormTol});
  rows.push_back({.op = "batch_norm", .label = "training no affine no running stats",
                  .inputs = {{.shape = {8, 2, 3}}},
                  .fn = [](const Inputs& x) {
                    return batch_norm(x[0], Tensor(), Tensor(), Tensor(), Tensor(), true);
                  },
                  .torch = "F.batch_norm(x0, None, None, training=True)",
                  .tolerances = kNormTol});
  rows.push_back({.op = "batch_norm", .label = "training noncontig",
                  .inputs = {{.shape = {5, 3}, .noncontig = true}, {.shape = {3}}, {.shape = {3}}},
                  .fn = [](const Inputs& x) {
                    return batch_norm(x[0], Tensor(), Tensor(), x[1], x[2], true);
                  },
                  .torch = "F.batch_norm(x0, None, None, x1, x2, training=True)",
                  .tolerances = kNormTol});
  // As layer_norm's large-mean row: the one-pass statistics must not cancel.
  rows.push_back({.op = "batch_norm", .label = "training large mean",
                  .inputs = {{.shape = {6, 2, 4}, .values = Values::uniform, .lo = 10, .hi = 11},
                             {.shape = {2}}, {.shape = {2}}},
                  .fn = [](const Inputs& x) {
                    return batch_norm(x[0], Tensor(), Tensor(), x[1], x[2], true);
                  },
                  .torch = "F.batch_norm(x0, None, None, x1, x2, training=True)",
                  .tolerances = {{DType::f32, 2e-5, 2e-5}, {DType::f64, 1e-10, 1e-10}}});
  rows.push_back({.op = "batch_norm", .label = "eval BCHW",
                  .inputs = {{.shape = {2, 3, 4, 4}}, {.shape = {3}}, {.shape = {3}},
                             {.shape = {3}, .grad = false},
                             {.shape = {3}, .values = Values::positive, .grad = false}},
                  .fn = [](const Inputs& x) {
                    return batch_norm(x[0], x[3], x[4], x[1], x[2], false);
                  },
                  .torch = "F.batch_norm(x0, x3, x4, x1, x2, training=False)",
                  .tolerances = kNormTol});
  rows.push_back({.op = "batch_norm", .label = "eval BC eps 1e-2",
                  .inputs = {{.shape = {5, 3}}, {.shape = {3}}, {.shape = {3}},
                             {.shape = {3}, .grad = false},
                             {.shape = {3}, .values = Values::positive, .grad = false}},
                  .fn = [](const Inputs& x) {
                    return batch_norm(x[0], x[3], x[4], x[1], x[2], false, 0.1, 1e-2);
                  },
                  .torch = "F.batch_norm(x0, x3, x4, x1, x2, training=False, eps=1e-2)",
                  .tolerances = kNormTol});

  // ---- dropout ----
  // torch's random stream differs, so no parity; a generator seeded inside
  // the call fixes the mask for the finite differences. Statistics,
  // determinism and the exact gradient are in test_dropout.cpp.
  rows.push_back({.op = "dropout", .label = "fixed mask",
                  .inputs = {{.shape = {4, 5}}},
                  .fn = [](const Inputs& x) {
                    Generator gen(1234);
                    return dropout(x[0], 0.4, true, &gen);
                  },
                  .torch = "",
                  .parity = false});

  // ---- embedding ----
  rows.push_back({.op = "embedding", .label = "2-D indices",
                  .inputs = {{.shape = {10, 4}}, {.shape = {3, 5}, .values = Values::integer, .lo = 0, .hi = 10}},
                  .fn = [](const Inputs& x) { return embedding(x[0], x[1]); },
                  .torch = "F.embedding(x1, x0)",
                  .tolerances = kCopyTol});
  rows.push_back({.op = "embedding", .label = "repeated rows",
                  .inputs = {{.shape = {3, 6}}, {.shape = {20}, .values = Values::integer, .lo = 0, .hi = 3}},
                  .fn = [](const Inputs& x) { return embedding(x[0], x[1]); },
                  .torch = "F.embedding(x1, x0)",
                  .tolerances = kCopyTol});
  // The padding row gets a zero gradient by definition although the output
  // reads it, so finite differences do not apply; torch parity checks it.
  rows.push_back({.op = "embedding", .label = "padding_idx",
                  .inputs = {{.shape = {5, 3}}, {.shape = {12}, .values = Values::integer, .lo = 0, .hi = 5}},
                  .fn = [](const Inputs& x) { return embedding(x[0], x[1], 2); },
                  .torch = "F.embedding(x1, x0, padding_idx=2)",
                  .tolerances = kCopyTol,
                  .gradcheck = false});
  rows.push_back({.op = "embedding", .label = "int32 indices",
                  .inputs = {{.shape = {7, 2}},
                             {.shape = {2, 3}, .values = Values::integer, .lo = 0, .hi = 7, .dtype = DType::i32}},
                  .fn = [](const Inputs& x) { return embedding(x[0], x[1]); },
                  .torch = "F.embedding(x1, x0)",
                  .tolerances = kCopyTol});
  rows.push_back({.op = "embedding", .label = "noncontig weight",
                  .inputs = {{.shape = {6, 3}, .noncontig = true},
                             {.shape = {4}, .values = Values::integer, .lo = 0, .hi = 6}},
                  .fn = [](const Inputs& x) { return embedding(x[0], x[1]); },
                  .torch = "F.embedding(x1, x0)",
                  .tolerances = kCopyTol});

  // ---- rms_norm (composite; torch 1.13 has no F.rms_norm: its formula) ----
  auto rms_norm_row = [&rows](std::string label, Shape x, Shape normalized, bool weight,
                              double eps) {
    std::vector<InputSpec> inputs = {{.shape = x}};
    if (weight) inputs.push_back({.shape = normalized});
    std::string dims;
    for (size_t d = 0; d < normalized.size(); ++d) dims += fmt::format("{}-{}", d ? ", " : "", d + 1);
    const std::string torch = fmt::format(
        "x0 * torch.rsqrt(x0.pow(2).mean(({},), keepdim=True) + {}){}", dims, eps,
        weight ? " * x1" : "");
    rows.push_back({.op = "rms_norm", .label = label, .inputs = inputs,
                    .fn = [normalized, weight, eps](const Inputs& in) {
                      return rms_norm(in[0], normalized, weight ? in[1] : Tensor(), eps);
                    },
                    .torch = torch, .tolerances = kNormTol});
  };
  rms_norm_row("weight", {2, 3, 8}, {8}, true, 1e-6);
  rms_norm_row("no weight, eps 1e-5", {4, 16}, {16}, false, 1e-5);
  rms_norm_row("two normalized dims", {3, 4, 5}, {4, 5}, true, 1e-6);
  rms_norm_row("long rows", {2, 300}, {300}, true, 1e-6);

  // ---- group_norm (composite: layer_norm over each group, then the affine) ----
  auto group_norm_row = [&rows](std::string label, Shape x, int64_t groups, bool affine) {
    const int64_t c = x[1];
    std::vector<InputSpec> inputs = {{.shape = x}};
    if (affine) inputs.insert(inputs.end(), {{.shape = {c}}, {.shape = {c}}});
    rows.push_back({.op = "group_norm", .label = label, .inputs = inputs,
                    .fn = [groups, affine](const Inputs& in) {
                      return affine ? group_norm(in[0], groups, in[1], in[2])
                                    : group_norm(in[0], groups);
                    },
                    .torch = affine ? fmt::format("F.group_norm(x0, {}, x1, x2)", groups)
                                    : fmt::format("F.group_norm(x0, {})", groups),
                    .tolerances = kNormTol});
  };
  group_norm_row("affine NCHW", {2, 6, 3, 4}, 3, true);
  group_norm_row("one group, no affine", {3, 4, 5}, 1, false);
  group_norm_row("a group per channel NCL", {4, 6, 5}, 6, true);
  return rows;
}

}  // namespace
}  // namespace dlt::testing
