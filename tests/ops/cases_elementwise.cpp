// Test rows for elementwise unary and binary ops.
#include "tests/ops/op_case.h"

namespace dlt::testing {
namespace {

using I = InputSpec;

OpCase unary(std::string op, std::function<Tensor(const Tensor&)> f, std::string torch,
             Values v = Values::normal) {
  return {.op = op,
          .inputs = {{.shape = {3, 5}, .values = v}},
          .fn = [f](const Inputs& x) { return f(x[0]); },
          .torch = torch};
}

DLT_OP_CASES(elementwise) {
  std::vector<OpCase> rows = {
      unary("neg", [](const Tensor& x) { return neg(x); }, "-x0"),
      unary("abs", [](const Tensor& x) { return abs(x); }, "torch.abs(x0)"),
      unary("exp", [](const Tensor& x) { return exp(x); }, "torch.exp(x0)"),
      unary("log", [](const Tensor& x) { return log(x); }, "torch.log(x0)", Values::positive),
      unary("log1p", [](const Tensor& x) { return log1p(x); }, "torch.log1p(x0)", Values::positive),
      unary("sqrt", [](const Tensor& x) { return sqrt(x); }, "torch.sqrt(x0)", Values::positive),
      unary("rsqrt", [](const Tensor& x) { return rsqrt(x); }, "torch.rsqrt(x0)", Values::positive),
      unary("sin", [](const Tensor& x) { return sin(x); }, "torch.sin(x0)"),
      unary("cos", [](const Tensor& x) { return cos(x); }, "torch.cos(x0)"),
      unary("tanh", [](const Tensor& x) { return tanh(x); }, "torch.tanh(x0)"),
      unary("sigmoid", [](const Tensor& x) { return sigmoid(x); }, "torch.sigmoid(x0)"),
      unary("relu", [](const Tensor& x) { return relu(x); }, "torch.relu(x0)"),
      unary("gelu", [](const Tensor& x) { return gelu(x); }, "F.gelu(x0)"),
      unary("silu", [](const Tensor& x) { return silu(x); }, "F.silu(x0)"),
      unary("leaky_relu", [](const Tensor& x) { return leaky_relu(x); }, "F.leaky_relu(x0)"),
      unary("leaky_relu", [](const Tensor& x) { return leaky_relu(x, 0.2); },
            "F.leaky_relu(x0, 0.2)"),
      unary("softplus", [](const Tensor& x) { return softplus(x); }, "F.softplus(x0)"),
      unary("pow_scalar", [](const Tensor& x) { return pow(x, 3); }, "torch.pow(x0, 3)"),
      unary("clamp", [](const Tensor& x) { return clamp(x, -0.5, 0.7); },
            "torch.clamp(x0, -0.5, 0.7)"),
      unary("sign", [](const Tensor& x) { return sign(x); }, "torch.sign(x0)"),
  };
  rows.push_back({.op = "gelu", .label = "tanh",
                  .inputs = {{.shape = {4, 6}, .values = Values::uniform, .lo = -6, .hi = 6}},
                  .fn = [](const Inputs& x) { return gelu(x[0], true); },
                  .torch = "F.gelu(x0, approximate='tanh')"});
  // What gelu runs in training on the CPU: the value and, through its
  // backward (grad * slope), the slope.
  rows.push_back({.op = "gelu_and_slope",
                  .inputs = {{.shape = {4, 6}, .values = Values::uniform, .lo = -6, .hi = 6}},
                  .fn = [](const Inputs& x) { return ops::gelu_and_slope(x[0], false).value; },
                  .torch = "F.gelu(x0)"});
  rows.push_back({.op = "gelu_and_slope", .label = "tanh",
                  .inputs = {{.shape = {37}, .values = Values::uniform, .lo = -6, .hi = 6}},
                  .fn = [](const Inputs& x) { return ops::gelu_and_slope(x[0], true).value; },
                  .torch = "F.gelu(x0, approximate='tanh')"});
  // With the bias linear_gelu adds in GELU's pass: the bias's gradient is
  // summed in the backward's pass (gelu_bias_backward), in blocks.
  rows.push_back({.op = "gelu_and_slope", .label = "bias",
                  .inputs = {{.shape = {3, 4, 6}, .values = Values::uniform, .lo = -4, .hi = 4},
                             {.shape = {6}, .values = Values::uniform, .lo = -2, .hi = 2}},
                  .fn = [](const Inputs& x) { return ops::gelu_and_slope(x[0], x[1], false).value; },
                  .torch = "F.gelu(x0 + x1)"});
  rows.push_back({.op = "gelu_and_slope", .label = "tanh bias",
                  .inputs = {{.shape = {70, 37}, .values = Values::uniform, .lo = -4, .hi = 4},
                             {.shape = {37}, .values = Values::uniform, .lo = -2, .hi = 2}},
                  .fn = [](const Inputs& x) { return ops::gelu_and_slope(x[0], x[1], true).value; },
                  .torch = "F.gelu(x0 + x1, approximate='tanh')"});
  rows.push_back({.op = "gelu", .label = "wide range",
                  .inputs = {{.shape = {64}, .values = Values::uniform, .lo = -8, .hi = 8}},
                  .fn = [](const Inputs& x) { return gelu(x[0]); }, .torch = "F.gelu(x0)"});
  rows.push_back({.op = "exp", .label = "noncontig",
                  .inputs = {{.shape = {4, 3}, .noncontig = true}},
                  .fn = [](const Inputs& x) { return exp(x[0]); }, .torch = "torch.exp(x0)"});
  rows.push_back({.op = "tanh", .label = "wide range",
                  .inputs = {{.shape = {200}, .values = Values::uniform, .lo = -10, .hi = 10}},
                  .fn = [](const Inputs& x) { return tanh(x[0]); }, .torch = "torch.tanh(x0)"});
  rows.push_back({.op = "pow_scalar", .label = "fractional",
                  .inputs = {{.shape = {3, 4}, .values = Values::positive}},
                  .fn = [](const Inputs& x) { return pow(x[0], 1.5); },
                  .torch = "torch.pow(x0, 1.5)"});
  rows.push_back({.op = "softplus", .label = "beta threshold",
                  .inputs = {{.shape = {40}, .values = Values::uniform, .lo = -8, .hi = 8}},
                  .fn = [](const Inputs& x) { return softplus(x[0], 2, 5); },
                  .torch = "F.softplus(x0, beta=2, threshold=5)"});

  auto binary = [](std::string op, Shape a, Shape b, std::function<Tensor(const Tensor&, const Tensor&)> f,
                   std::string torch, Values vb = Values::normal, std::string label = "broadcast") {
    return OpCase{.op = op, .label = label,
                  .inputs = {{.shape = a}, {.shape = b, .values = vb}},
                  .fn = [f](const Inputs& x) { return f(x[0], x[1]); }, .torch = torch};
  };
  rows.push_back(binary("add", {3, 4}, {4}, [](auto& a, auto& b) { return add(a, b, 2.5); },
                        "torch.add(x0, x1, alpha=2.5)"));
  rows.push_back(binary("sub", {2, 1, 4}, {3, 1}, [](auto& a, auto& b) { return a - b; }, "x0 - x1"));
  rows.push_back(binary("mul", {3, 1}, {1, 5}, [](auto& a, auto& b) { return a * b; }, "x0 * x1"));
  rows.push_back(binary("div", {3, 4}, {3, 1}, [](auto& a, auto& b) { return a / b; }, "x0 / x1",
                        Values::positive));
  rows.push_back(binary("maximum", {3, 4}, {4}, [](auto& a, auto& b) { return maximum(a, b); },
                        "torch.maximum(x0, x1)"));
  rows.push_back(binary("minimum", {3, 4}, {3, 4}, [](auto& a, auto& b) { return minimum(a, b); },
                        "torch.minimum(x0, x1)", Values::normal, "same shape"));
  rows.push_back({.op = "pow", .label = "broadcast",
                  .inputs = {{.shape = {3, 4}, .values = Values::positive}, {.shape = {4}}},
                  .fn = [](const Inputs& x) { return pow(x[0], x[1]); },
                  .torch = "torch.pow(x0, x1)"});
  rows.push_back({.op = "mul", .label = "noncontig",
                  .inputs = {{.shape = {4, 3}, .noncontig = true}, {.shape = {4, 3}}},
                  .fn = [](const Inputs& x) { return x[0] * x[1]; }, .torch = "x0 * x1"});
  rows.push_back({.op = "add", .label = "scalar",
                  .inputs = {{.shape = {5}}},
                  .fn = [](const Inputs& x) { return x[0] + 1.5; }, .torch = "x0 + 1.5"});
  for (const char* cmp : {"eq", "ne", "lt", "le", "gt", "ge"}) {
    const std::string name = cmp;
    rows.push_back({.op = name, .label = "broadcast",
                    .inputs = {{.shape = {3, 4}, .values = Values::integer, .lo = 0, .hi = 3},
                               {.shape = {4}, .values = Values::integer, .lo = 0, .hi = 3}},
                    .fn = [name](const Inputs& x) {
                      if (name == "eq") return eq(x[0], x[1]);
                      if (name == "ne") return ne(x[0], x[1]);
                      if (name == "lt") return lt(x[0], x[1]);
                      if (name == "le") return le(x[0], x[1]);
                      if (name == "gt") return gt(x[0], x[1]);
                      return ge(x[0], x[1]);
                    },
                    .torch = "torch." + name + "(x0, x1)",
                    .gradcheck = false});
  }
  rows.push_back({.op = "where", .label = "broadcast",
                  .inputs = {{.shape = {3, 4}, .values = Values::boolean, .dtype = DType::boolean},
                             {.shape = {3, 4}}, {.shape = {4}}},
                  .fn = [](const Inputs& x) { return where(x[0], x[1], x[2]); },
                  .torch = "torch.where(x0, x1, x2)"});
  rows.push_back({.op = "masked_fill", .label = "broadcast mask",
                  .inputs = {{.shape = {3, 4}},
                             {.shape = {4}, .values = Values::boolean, .dtype = DType::boolean}},
                  .fn = [](const Inputs& x) { return masked_fill(x[0], x[1], -2.5); },
                  .torch = "x0.masked_fill(x1, -2.5)"});
  rows.push_back({.op = "copy", .label = "to float64 and back",
                  .inputs = {{.shape = {3, 4}, .noncontig = true}},
                  .fn = [](const Inputs& x) { return x[0].to(DType::f64).to(x[0].dtype()) * 2; },
                  .torch = "x0.double().to(x0.dtype) * 2"});
  return rows;
}

}  // namespace
}  // namespace dlt::testing
