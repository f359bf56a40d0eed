#include "tests/cuda/gpu_tolerance.h"

#include <algorithm>
#include <map>

namespace dlt::testing {

OpClass op_class(const std::string& op) {
  static const std::map<std::string, OpClass> classes = [] {
    std::map<std::string, OpClass> m;
    for (const char* op : {"neg", "abs", "relu", "clamp", "sign", "maximum", "minimum", "eq", "ne", "lt", "le",
                           "gt", "ge", "where", "masked_fill", "amax", "amin", "max_dim", "min_dim", "argmax",
                           "argmin", "max_pool2d", "cat", "stack", "split", "chunk", "index_select", "gather",
                           "tril", "triu", "one_hot", "view", "permute", "expand", "slice", "embedding"})
      m[op] = OpClass::exact;
    for (const char* op : {"add", "sub", "mul", "div", "sqrt", "copy", "dropout"}) m[op] = OpClass::arithmetic;
    for (const char* op : {"exp", "log", "log1p", "rsqrt", "sin", "cos", "tanh", "sigmoid", "gelu", "silu",
                           "softplus", "pow_scalar", "pow", "lstm_cell", "gru_cell"})
      m[op] = OpClass::transcendental;
    for (const char* op : {"matmul", "linear", "conv2d", "conv_transpose2d"}) m[op] = OpClass::contraction;
    return m;
  }();
  const auto it = classes.find(op);
  // Everything else sums: sum, mean, var, std, logsumexp, norm, softmax,
  // log_softmax, the losses, layer/batch norm, average pooling, scatter_add.
  return it == classes.end() ? OpClass::reduction : it->second;
}

const char* op_class_name(OpClass c) {
  switch (c) {
    case OpClass::exact: return "exact";
    case OpClass::arithmetic: return "arithmetic";
    case OpClass::transcendental: return "transcendental";
    case OpClass::reduction: return "reduction";
    case OpClass::contraction: return "contraction";
  }
  return "?";
}

namespace {

struct RelAbs {
  double rtol, atol;
};

// Rows: f32, f64, f16, bf16. Columns: the classes after `exact` (which is 0).
RelAbs table(OpClass c, DType dtype) {
  static const RelAbs f32[] = {{1e-6, 1e-6}, {1e-5, 1e-6}, {1e-5, 1e-5}, {1e-4, 1e-4}};
  static const RelAbs f64[] = {{1e-13, 1e-13}, {1e-12, 1e-12}, {1e-10, 1e-10}, {1e-10, 1e-10}};
  static const RelAbs f16[] = {{1e-3, 1e-3}, {2e-3, 2e-3}, {5e-3, 5e-3}, {1e-2, 1e-2}};
  static const RelAbs bf16[] = {{8e-3, 8e-3}, {1.6e-2, 1.6e-2}, {3e-2, 3e-2}, {3e-2, 3e-2}};
  if (c == OpClass::exact) return {0, 0};
  const size_t col = static_cast<size_t>(c) - 1;
  switch (dtype) {
    case DType::f64: return f64[col];
    case DType::f16: return f16[col];
    case DType::bf16: return bf16[col];
    default: return f32[col];
  }
}

}  // namespace

Tolerance gpu_tolerance(const std::string& op, DType dtype, bool backward) {
  OpClass c = op_class(op);
  if (backward) c = std::max(c, OpClass::reduction);
  const RelAbs t = table(c, dtype);
  return {dtype, t.rtol, t.atol};
}

}  // namespace dlt::testing
