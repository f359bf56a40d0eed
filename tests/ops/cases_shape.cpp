// Test rows for the shape and indexing ops: cat, stack, split, chunk,
// index_select, index_add, gather, scatter_add, tril, triu, one_hot.
#include "tests/ops/op_case.h"

namespace dlt::testing {
namespace {

// Pure data movement, forward and backward: bit-exact in every dtype.
const std::vector<Tolerance> kExact = {
    {DType::f32, 0, 0}, {DType::f64, 0, 0}, {DType::bf16, 0, 0}};
// Ops whose backward adds repeated indices (summation order may differ from torch).
const std::vector<Tolerance> kSums = {{DType::f32, 1e-6, 1e-6}, {DType::f64, 1e-12, 1e-12}};

InputSpec integers(Shape shape, int64_t lo, int64_t hi) {
  return {.shape = std::move(shape), .values = Values::integer, .lo = double(lo), .hi = double(hi)};
}

DLT_OP_CASES(shape) {
  std::vector<OpCase> rows;

  // ---- cat / stack ----
  rows.push_back({.op = "cat", .label = "dim=0",
                  .inputs = {{.shape = {2, 3}}, {.shape = {4, 3}}},
                  .fn = [](const Inputs& x) { return cat({x[0], x[1]}, 0); },
                  .torch = "torch.cat([x0, x1], 0)", .tolerances = kExact});
  rows.push_back({.op = "cat", .label = "dim=1 three tensors",
                  .inputs = {{.shape = {2, 3}}, {.shape = {2, 1}}, {.shape = {2, 4}}},
                  .fn = [](const Inputs& x) { return cat({x[0], x[1], x[2]}, 1); },
                  .torch = "torch.cat([x0, x1, x2], 1)", .tolerances = kExact});
  rows.push_back({.op = "cat", .label = "dim=-1 3-D",
                  .inputs = {{.shape = {2, 3, 4}}, {.shape = {2, 3, 2}}},
                  .fn = [](const Inputs& x) { return cat({x[0], x[1]}, -1); },
                  .torch = "torch.cat([x0, x1], -1)", .tolerances = kExact});
  rows.push_back({.op = "cat", .label = "noncontig",
                  .inputs = {{.shape = {3, 4}, .noncontig = true}, {.shape = {3, 2}}},
                  .fn = [](const Inputs& x) { return cat({x[0], x[1]}, 1); },
                  .torch = "torch.cat([x0, x1], 1)", .tolerances = kExact});
  rows.push_back({.op = "cat", .label = "float and int64 promote",
                  .inputs = {{.shape = {2, 3}}, integers({1, 3}, -3, 3)},
                  .fn = [](const Inputs& x) { return cat({x[0], x[1]}, 0); },
                  .torch = "torch.cat([x0, x1], 0)", .tolerances = kExact});
  rows.push_back({.op = "cat", .label = "float and float64 promote",
                  .inputs = {{.shape = {1, 2}}, {.shape = {3, 2}, .dtype = DType::f64}},
                  .fn = [](const Inputs& x) { return cat({x[0], x[1]}, 0); },
                  .torch = "torch.cat([x0, x1], 0)", .tolerances = kExact});
  // torch skips 1-D empty tensors (legacy rule) whatever the others' rank.
  rows.push_back({.op = "cat", .label = "skips 1-D empty",
                  .inputs = {{.shape = {2, 3}}, {.shape = {0}}, {.shape = {1, 3}}},
                  .fn = [](const Inputs& x) { return cat({x[0], x[1], x[2]}, 0); },
                  .torch = "torch.cat([x0, x1, x2], 0)", .tolerances = kExact});
  rows.push_back({.op = "stack", .label = "dim=0",
                  .inputs = {{.shape = {2, 3}}, {.shape = {2, 3}}, {.shape = {2, 3}}},
                  .fn = [](const Inputs& x) { return stack({x[0], x[1], x[2]}, 0); },
                  .torch = "torch.stack([x0, x1, x2], 0)", .tolerances = kExact});
  rows.push_back({.op = "stack", .label = "dim=-1",
                  .inputs = {{.shape = {4, 3}}, {.shape = {4, 3}, .noncontig = true}},
                  .fn = [](const Inputs& x) { return stack({x[0], x[1]}, -1); },
                  .torch = "torch.stack([x0, x1], -1)", .tolerances = kExact});

  // ---- split / chunk: the pieces are recombined in a new order with
  // distinct scales, so each piece's gradient is checked separately ----
  rows.push_back({.op = "split", .label = "split_size",
                  .inputs = {{.shape = {5, 3}}},
                  .fn = [](const Inputs& x) {
                    const auto p = split(x[0], 2, 0);
                    return cat({p[2], p[0] * 2.0, p[1] * 3.0}, 0);
                  },
                  .torch = "(lambda p: torch.cat([p[2], p[0] * 2.0, p[1] * 3.0], 0))"
                           "(torch.split(x0, 2, 0))",
                  .tolerances = kExact});
  rows.push_back({.op = "split", .label = "sizes dim=1",
                  .inputs = {{.shape = {2, 6}, .noncontig = true}},
                  .fn = [](const Inputs& x) {
                    const auto p = split(x[0], std::vector<int64_t>{1, 3, 2}, 1);
                    return cat({p[1], p[0] * 2.0, p[2] * -1.0}, 1);
                  },
                  .torch = "(lambda p: torch.cat([p[1], p[0] * 2.0, p[2] * -1.0], 1))"
                           "(torch.split(x0, [1, 3, 2], 1))",
                  .tolerances = kExact});
  rows.push_back({.op = "chunk", .label = "uneven",
                  .inputs = {{.shape = {7, 2}}},
                  .fn = [](const Inputs& x) {
                    const auto p = chunk(x[0], 3, 0);
                    return cat({p[2] * 2.0, p[0], p[1] * 3.0}, 0);
                  },
                  .torch = "(lambda p: torch.cat([p[2] * 2.0, p[0], p[1] * 3.0], 0))"
                           "(torch.chunk(x0, 3, 0))",
                  .tolerances = kExact});
  // 6 split 4 ways gives 3 chunks of 2, as torch: stack fails on any other count.
  rows.push_back({.op = "chunk", .label = "fewer chunks dim=-1",
                  .inputs = {{.shape = {2, 6}}},
                  .fn = [](const Inputs& x) { return stack(chunk(x[0], 4, -1), 0); },
                  .torch = "torch.stack(torch.chunk(x0, 4, -1), 0)", .tolerances = kExact});

  // ---- index_select / index_add ----
  rows.push_back({.op = "index_select", .label = "dim=0",
                  .inputs = {{.shape = {5, 3}}, integers({4}, 0, 5)},
                  .fn = [](const Inputs& x) { return index_select(x[0], 0, x[1]); },
                  .torch = "torch.index_select(x0, 0, x1)", .tolerances = kSums});
  rows.push_back({.op = "index_select", .label = "dim=1 repeats",
                  .inputs = {{.shape = {2, 6, 3}}, integers({9}, 0, 6)},
                  .fn = [](const Inputs& x) { return index_select(x[0], 1, x[1]); },
                  .torch = "torch.index_select(x0, 1, x1)", .tolerances = kSums});
  rows.push_back({.op = "index_select", .label = "dim=-1 noncontig int32",
                  .inputs = {{.shape = {4, 5}, .noncontig = true},
                             {.shape = {3}, .values = Values::integer, .lo = 0, .hi = 5, .dtype = DType::i32}},
                  .fn = [](const Inputs& x) { return index_select(x[0], -1, x[1]); },
                  .torch = "torch.index_select(x0, -1, x1)", .tolerances = kSums});
  // index_add is a Backward op (no gradient of its own) that users may call.
  rows.push_back({.op = "index_add", .label = "dim=0",
                  .inputs = {{.shape = {5, 3}, .grad = false}, integers({4}, 0, 5),
                             {.shape = {4, 3}, .grad = false}},
                  .fn = [](const Inputs& x) { return index_add(x[0], 0, x[1], x[2]); },
                  .torch = "torch.index_add(x0, 0, x1, x2)", .tolerances = kSums,
                  .gradcheck = false});
  rows.push_back({.op = "index_add", .label = "dim=1 repeats",
                  .inputs = {{.shape = {2, 4, 3}, .grad = false}, integers({6}, 0, 4),
                             {.shape = {2, 6, 3}, .grad = false, .noncontig = true}},
                  .fn = [](const Inputs& x) { return index_add(x[0], 1, x[1], x[2]); },
                  .torch = "torch.index_add(x0, 1, x1, x2)", .tolerances = kSums,
                  .gradcheck = false});

  // ---- gather / scatter_add ----
  rows.push_back({.op = "gather", .label = "dim=1",
                  .inputs = {{.shape = {3, 4}}, integers({3, 5}, 0, 4)},
                  .fn = [](const Inputs& x) { return gather(x[0], 1, x[1]); },
                  .torch = "torch.gather(x0, 1, x1)", .tolerances = kSums});
  rows.push_back({.op = "gather", .label = "dim=0 smaller index",
                  .inputs = {{.shape = {4, 3}}, integers({6, 2}, 0, 4)},
                  .fn = [](const Inputs& x) { return gather(x[0], 0, x[1]); },
                  .torch = "torch.gather(x0, 0, x1)", .tolerances = kSums});
  rows.push_back({.op = "gather", .label = "dim=-2 3-D",
                  .inputs = {{.shape = {2, 5, 3}}, integers({2, 4, 3}, 0, 5)},
                  .fn = [](const Inputs& x) { return gather(x[0], -2, x[1]); },
                  .torch = "torch.gather(x0, -2, x1)", .tolerances = kSums});
  rows.push_back({.op = "gather", .label = "noncontig",
                  .inputs = {{.shape = {3, 4}, .noncontig = true}, integers({3, 2}, 0, 4)},
                  .fn = [](const Inputs& x) { return gather(x[0], 1, x[1]); },
                  .torch = "torch.gather(x0, 1, x1)", .tolerances = kSums});
  rows.push_back({.op = "scatter_add", .label = "dim=1",
                  .inputs = {{.shape = {3, 5}}, integers({3, 4}, 0, 5), {.shape = {3, 4}}},
                  .fn = [](const Inputs& x) { return scatter_add(x[0], 1, x[1], x[2]); },
                  .torch = "torch.scatter_add(x0, 1, x1, x2)", .tolerances = kSums});
  rows.push_back({.op = "scatter_add", .label = "dim=-1 3-D noncontig src",
                  .inputs = {{.shape = {2, 3, 4}}, integers({2, 3, 5}, 0, 4),
                             {.shape = {2, 3, 5}, .noncontig = true}},
                  .fn = [](const Inputs& x) { return scatter_add(x[0], -1, x[1], x[2]); },
                  .torch = "torch.scatter_add(x0, -1, x1, x2)", .tolerances = kSums});
  // An index smaller than the source: torch 1.13's backward rejects the
  // source gradient's shape, so parity covers x only...
  rows.push_back({.op = "scatter_add", .label = "dim=0 smaller index",
                  .inputs = {{.shape = {4, 3}}, integers({5, 2}, 0, 4),
                             {.shape = {6, 3}, .grad = false}},
                  .fn = [](const Inputs& x) { return scatter_add(x[0], 0, x[1], x[2]); },
                  .torch = "torch.scatter_add(x0, 0, x1, x2)", .tolerances = kSums});
  // ...and the finite differences check the source's zero-padded gradient.
  rows.push_back({.op = "scatter_add", .label = "dim=0 smaller index, source gradient",
                  .inputs = {{.shape = {4, 3}}, integers({5, 2}, 0, 4), {.shape = {6, 3}}},
                  .fn = [](const Inputs& x) { return scatter_add(x[0], 0, x[1], x[2]); },
                  .torch = "", .parity = false});

  // ---- tril / triu ----
  rows.push_back({.op = "tril", .label = "square",
                  .inputs = {{.shape = {4, 4}}},
                  .fn = [](const Inputs& x) { return tril(x[0]); },
                  .torch = "torch.tril(x0)", .tolerances = kExact});
  rows.push_back({.op = "tril", .label = "batched diagonal=-1",
                  .inputs = {{.shape = {3, 4, 5}}},
                  .fn = [](const Inputs& x) { return tril(x[0], -1); },
                  .torch = "torch.tril(x0, -1)", .tolerances = kExact});
  rows.push_back({.op = "tril", .label = "noncontig diagonal=2",
                  .inputs = {{.shape = {5, 3}, .noncontig = true}},
                  .fn = [](const Inputs& x) { return tril(x[0], 2); },
                  .torch = "torch.tril(x0, 2)", .tolerances = kExact});
  rows.push_back({.op = "triu", .label = "wide diagonal=1",
                  .inputs = {{.shape = {3, 5}}},
                  .fn = [](const Inputs& x) { return triu(x[0], 1); },
                  .torch = "torch.triu(x0, 1)", .tolerances = kExact});
  rows.push_back({.op = "triu", .label = "batched diagonal=-2",
                  .inputs = {{.shape = {2, 4, 3}}},
                  .fn = [](const Inputs& x) { return triu(x[0], -2); },
                  .torch = "torch.triu(x0, -2)", .tolerances = kExact});
  rows.push_back({.op = "triu", .label = "diagonal beyond the matrix",
                  .inputs = {{.shape = {3, 3}}},
                  .fn = [](const Inputs& x) { return triu(x[0], 7); },
                  .torch = "torch.triu(x0, 7)", .tolerances = kExact});

  // ---- one_hot (integer in, int64 out) ----
  rows.push_back({.op = "one_hot", .label = "num_classes=5",
                  .inputs = {integers({6}, 0, 4)},
                  .fn = [](const Inputs& x) { return one_hot(x[0], 5); },
                  .torch = "F.one_hot(x0, 5)", .tolerances = kExact, .gradcheck = false});
  rows.push_back({.op = "one_hot", .label = "inferred 2-D",
                  .inputs = {integers({2, 3}, 0, 7)},
                  .fn = [](const Inputs& x) { return one_hot(x[0]); },
                  .torch = "F.one_hot(x0)", .tolerances = kExact, .gradcheck = false});
  return rows;
}

}  // namespace
}  // namespace dlt::testing
