// Elementwise ONNX ops: arithmetic, comparisons, logic, activations, Cast.
// Floating inputs run dlt's ops (any device); integer inputs of functions dlt
// defines for floats only go through host_math.
#include <cmath>
#include <limits>

#include "dlt/onnx/import/host_math.h"
#include "dlt/onnx/import/op_registry.h"
#include "dlt/onnx/proto.h"
#include "dlt/ops/ops.h"

namespace dlt::onnx_import {
namespace {

Tensor scalar_like(double v, const Tensor& like) { return wrap_scalar(Scalar(v), like); }

// f for floating x, g on the host otherwise (same dtype out).
template <class F, class G>
std::vector<Tensor> unary(NodeContext& n, F f, G g) {
  const Tensor& x = n.input(0);
  if (is_floating(x.dtype())) return outs(f(x));
  return outs(host_unary(x, g, x.dtype()));
}

// A function of floats only (ONNX's T is a float type for these).
template <class F>
std::vector<Tensor> float_unary(NodeContext& n, F f) {
  const Tensor& x = n.input(0);
  DLT_ONNX_SUPPORTED(is_floating(x.dtype()), "{}: input of type {}", n.where(), dtype_name(x.dtype()));
  return outs(f(x));
}

std::vector<Tensor> host_float_unary(NodeContext& n, double (*f)(double)) {
  const Tensor& x = n.input(0);
  DLT_ONNX_SUPPORTED(is_floating(x.dtype()), "{}: input of type {}", n.where(), dtype_name(x.dtype()));
  return outs(host_unary(x, f, x.dtype()));
}

// ---- arithmetic ----------------------------------------------------------------
DLT_ONNX_OP(Add, [](NodeContext& n) { return outs(add(n.input(0), n.input(1))); });
DLT_ONNX_OP(Sub, [](NodeContext& n) { return outs(sub(n.input(0), n.input(1))); });
DLT_ONNX_OP(Mul, [](NodeContext& n) { return outs(mul(n.input(0), n.input(1))); });
DLT_ONNX_OP(Div, [](NodeContext& n) {
  const Tensor &a = n.input(0), &b = n.input(1);
  if (is_floating(a.dtype())) return outs(div(a, b));
  // Integer division truncates toward zero (C, numpy's int true-divide then cast).
  return outs(host_binary(a, b, [](double x, double y) { return std::trunc(x / y); }, a.dtype()));
});
DLT_ONNX_OP(Mod, [](NodeContext& n) {
  const Tensor &a = n.input(0), &b = n.input(1);
  if (n.attr_int("fmod", 0))
    return outs(host_binary(a, b, [](double x, double y) { return std::fmod(x, y); }, a.dtype()));
  // The result takes the divisor's sign (Python's %).
  return outs(host_binary(a, b, [](double x, double y) {
    const double r = std::fmod(x, y);
    return r != 0 && ((r < 0) != (y < 0)) ? r + y : r;
  }, a.dtype()));
});
DLT_ONNX_OP(Pow, [](NodeContext& n) {
  const Tensor &a = n.input(0), &b = n.input(1);
  if (is_floating(a.dtype())) return outs(pow(a, b.to(a.dtype())));
  return outs(host_binary(a, b, [](double x, double y) { return std::pow(x, y); }, a.dtype()));
});

std::vector<Tensor> fold(NodeContext& n, Tensor (*f)(const Tensor&, const Tensor&)) {
  Tensor acc = n.input(0);
  for (size_t i = 1; i < n.num_inputs(); ++i) acc = f(acc, n.input(i));
  return outs(acc);
}
DLT_ONNX_OP(Sum, [](NodeContext& n) { return fold(n, [](const Tensor& a, const Tensor& b) { return add(a, b); }); });
DLT_ONNX_OP(Max, [](NodeContext& n) { return fold(n, maximum); });
DLT_ONNX_OP(Min, [](NodeContext& n) { return fold(n, minimum); });
DLT_ONNX_OP(Mean, [](NodeContext& n) {
  Tensor s = fold(n, [](const Tensor& a, const Tensor& b) { return add(a, b); })[0];
  return outs(s / static_cast<double>(n.num_inputs()));
});

// ---- unary math ----------------------------------------------------------------
DLT_ONNX_OP(Neg, [](NodeContext& n) { return unary(n, [](const Tensor& x) { return neg(x); }, [](double v) { return -v; }); });
DLT_ONNX_OP(Abs, [](NodeContext& n) { return unary(n, [](const Tensor& x) { return abs(x); }, [](double v) { return std::abs(v); }); });
DLT_ONNX_OP(Sign, [](NodeContext& n) {
  return unary(n, [](const Tensor& x) { return sign(x); }, [](double v) { return double((v > 0) - (v < 0)); });
});
DLT_ONNX_OP(Exp, [](NodeContext& n) { return float_unary(n, [](const Tensor& x) { return exp(x); }); });
DLT_ONNX_OP(Log, [](NodeContext& n) { return float_unary(n, [](const Tensor& x) { return log(x); }); });
DLT_ONNX_OP(Sqrt, [](NodeContext& n) { return float_unary(n, [](const Tensor& x) { return sqrt(x); }); });
DLT_ONNX_OP(Reciprocal, [](NodeContext& n) { return float_unary(n, [](const Tensor& x) { return 1.0 / x; }); });
DLT_ONNX_OP(Sin, [](NodeContext& n) { return float_unary(n, [](const Tensor& x) { return sin(x); }); });
DLT_ONNX_OP(Cos, [](NodeContext& n) { return float_unary(n, [](const Tensor& x) { return cos(x); }); });
DLT_ONNX_OP(Tanh, [](NodeContext& n) { return float_unary(n, [](const Tensor& x) { return tanh(x); }); });
DLT_ONNX_OP(Erf, [](NodeContext& n) { return host_float_unary(n, std::erf); });
DLT_ONNX_OP(Floor, [](NodeContext& n) { return host_float_unary(n, std::floor); });
DLT_ONNX_OP(Ceil, [](NodeContext& n) { return host_float_unary(n, std::ceil); });
DLT_ONNX_OP(Round, [](NodeContext& n) { return host_float_unary(n, std::nearbyint); });  // half to even
DLT_ONNX_OP(Tan, [](NodeContext& n) { return host_float_unary(n, std::tan); });
DLT_ONNX_OP(Asin, [](NodeContext& n) { return host_float_unary(n, std::asin); });
DLT_ONNX_OP(Acos, [](NodeContext& n) { return host_float_unary(n, std::acos); });
DLT_ONNX_OP(Atan, [](NodeContext& n) { return host_float_unary(n, std::atan); });
DLT_ONNX_OP(Sinh, [](NodeContext& n) { return host_float_unary(n, std::sinh); });
DLT_ONNX_OP(Cosh, [](NodeContext& n) { return host_float_unary(n, std::cosh); });
DLT_ONNX_OP(Asinh, [](NodeContext& n) { return host_float_unary(n, std::asinh); });
DLT_ONNX_OP(Acosh, [](NodeContext& n) { return host_float_unary(n, std::acosh); });
DLT_ONNX_OP(Atanh, [](NodeContext& n) { return host_float_unary(n, std::atanh); });
DLT_ONNX_OP(IsNaN, [](NodeContext& n) {
  return outs(host_unary(n.input(0), [](double v) { return double(std::isnan(v)); }, DType::boolean));
});
DLT_ONNX_OP(IsInf, [](NodeContext& n) {
  const bool neg_inf = n.attr_int("detect_negative", 1), pos_inf = n.attr_int("detect_positive", 1);
  return outs(host_unary(n.input(0), [=](double v) {
    return double(std::isinf(v) && ((v > 0 && pos_inf) || (v < 0 && neg_inf)));
  }, DType::boolean));
});

// ---- activations ---------------------------------------------------------------
DLT_ONNX_OP(Relu, [](NodeContext& n) {
  return unary(n, [](const Tensor& x) { return relu(x); }, [](double v) { return v > 0 ? v : 0; });
});
DLT_ONNX_OP(Sigmoid, [](NodeContext& n) { return float_unary(n, [](const Tensor& x) { return sigmoid(x); }); });
DLT_ONNX_OP(LeakyRelu, [](NodeContext& n) {
  const double alpha = n.attr_float("alpha", 0.01);
  return float_unary(n, [&](const Tensor& x) { return leaky_relu(x, alpha); });
});
DLT_ONNX_OP(PRelu, [](NodeContext& n) {
  const Tensor &x = n.input(0), &slope = n.input(1);
  return outs(where(lt(x, scalar_like(0, x)), mul(x, slope), x));
});
DLT_ONNX_OP(Elu, [](NodeContext& n) {
  const double alpha = n.attr_float("alpha", 1.0);
  return float_unary(n, [&](const Tensor& x) {
    return where(gt(x, scalar_like(0, x)), x, (exp(x) - 1.0) * alpha);
  });
});
DLT_ONNX_OP(Selu, [](NodeContext& n) {
  const double alpha = n.attr_float("alpha", 1.67326319217681884765625);
  const double gamma = n.attr_float("gamma", 1.05070102214813232421875);
  return float_unary(n, [&](const Tensor& x) {
    return where(gt(x, scalar_like(0, x)), x, exp(x) * alpha - alpha) * gamma;
  });
});
DLT_ONNX_OP(Celu, [](NodeContext& n) {
  const double alpha = n.attr_float("alpha", 1.0);
  return float_unary(n, [&](const Tensor& x) {
    const Tensor zero = scalar_like(0, x);
    return maximum(x, zero) + minimum(zero, (exp(x / alpha) - 1.0) * alpha);
  });
});
DLT_ONNX_OP(ThresholdedRelu, [](NodeContext& n) {
  const double alpha = n.attr_float("alpha", 1.0);
  return float_unary(n, [&](const Tensor& x) {
    return where(gt(x, scalar_like(alpha, x)), x, scalar_like(0, x));
  });
});
DLT_ONNX_OP(HardSigmoid, [](NodeContext& n) {
  const double alpha = n.attr_float("alpha", 0.2), beta = n.attr_float("beta", 0.5);
  return float_unary(n, [&](const Tensor& x) { return clamp(x * alpha + beta, 0.0, 1.0); });
});
DLT_ONNX_OP(HardSwish, [](NodeContext& n) {
  return float_unary(n, [](const Tensor& x) { return x * clamp(x / 6.0 + 0.5, 0.0, 1.0); });
});
DLT_ONNX_OP(Softplus, [](NodeContext& n) {
  return float_unary(n, [](const Tensor& x) { return log1p(exp(neg(abs(x)))) + relu(x); });
});
DLT_ONNX_OP(Softsign, [](NodeContext& n) {
  return float_unary(n, [](const Tensor& x) { return x / (abs(x) + 1.0); });
});
DLT_ONNX_OP(Mish, [](NodeContext& n) {
  return float_unary(n, [](const Tensor& x) { return x * tanh(log1p(exp(neg(abs(x)))) + relu(x)); });
});
DLT_ONNX_OP(Gelu, [](NodeContext& n) {
  const std::string approximate = n.attr_string("approximate", "none");
  DLT_CHECK(approximate == "none" || approximate == "tanh",
            "{}: approximate must be none or tanh, got '{}'", n.where(), approximate);
  return float_unary(n, [&](const Tensor& x) { return gelu(x, approximate == "tanh"); });
});
DLT_ONNX_OP(Clip, [](NodeContext& n) {
  const Tensor& x = n.input(0);
  Tensor y = x;
  if (n.opset() < 11) {  // bounds as attributes
    y = clamp(x, n.attr_float("min", -std::numeric_limits<double>::infinity()),
              n.attr_float("max", std::numeric_limits<double>::infinity()));
    return outs(y);
  }
  if (n.has_input(1)) y = maximum(y, n.input(1).to(x.dtype()));
  if (n.has_input(2)) y = minimum(y, n.input(2).to(x.dtype()));
  return outs(y);
});

// ---- comparisons and logic -----------------------------------------------------
DLT_ONNX_OP(Equal, [](NodeContext& n) { return outs(eq(n.input(0), n.input(1))); });
DLT_ONNX_OP(Less, [](NodeContext& n) { return outs(lt(n.input(0), n.input(1))); });
DLT_ONNX_OP(LessOrEqual, [](NodeContext& n) { return outs(le(n.input(0), n.input(1))); });
DLT_ONNX_OP(Greater, [](NodeContext& n) { return outs(gt(n.input(0), n.input(1))); });
DLT_ONNX_OP(GreaterOrEqual, [](NodeContext& n) { return outs(ge(n.input(0), n.input(1))); });
DLT_ONNX_OP(Where, [](NodeContext& n) { return outs(where(n.input(0), n.input(1), n.input(2))); });

std::vector<Tensor> logic(NodeContext& n, double (*f)(double, double)) {
  return outs(host_binary(n.input(0), n.input(1), f, DType::boolean));
}
DLT_ONNX_OP(And, [](NodeContext& n) { return logic(n, [](double a, double b) { return double(a && b); }); });
DLT_ONNX_OP(Or, [](NodeContext& n) { return logic(n, [](double a, double b) { return double(a || b); }); });
DLT_ONNX_OP(Xor, [](NodeContext& n) { return logic(n, [](double a, double b) { return double(bool(a) != bool(b)); }); });
DLT_ONNX_OP(Not, [](NodeContext& n) {
  return outs(host_unary(n.input(0), [](double v) { return double(!v); }, DType::boolean));
});

std::vector<Tensor> bitwise(NodeContext& n, int64_t (*f)(int64_t, int64_t)) {
  const Tensor& a = n.input(0);
  DLT_ONNX_SUPPORTED(is_integral(a.dtype()), "{}: input of type {}", n.where(), dtype_name(a.dtype()));
  return outs(host_binary(a, n.input(1), [f](double x, double y) {
    return double(f(int64_t(x), int64_t(y)));
  }, a.dtype()));
}
DLT_ONNX_OP(BitwiseAnd, [](NodeContext& n) { return bitwise(n, [](int64_t a, int64_t b) { return a & b; }); });
DLT_ONNX_OP(BitwiseOr, [](NodeContext& n) { return bitwise(n, [](int64_t a, int64_t b) { return a | b; }); });
DLT_ONNX_OP(BitwiseXor, [](NodeContext& n) { return bitwise(n, [](int64_t a, int64_t b) { return a ^ b; }); });

// ---- types ---------------------------------------------------------------------
DType target_dtype(NodeContext& n, int32_t elem_type) {
  const auto t = onnx_io::dtype_from_onnx(elem_type);
  DLT_ONNX_SUPPORTED(t, "{}: data type {} has no dlt tensor type", n.where(),
                     onnx_io::onnx_dtype_name(elem_type));
  return *t;
}
DLT_ONNX_OP(Cast, [](NodeContext& n) {
  return outs(n.input(0).to(target_dtype(n, static_cast<int32_t>(n.attr_int("to")))));
});
DLT_ONNX_OP(CastLike, [](NodeContext& n) { return outs(n.input(0).to(n.input(1).dtype())); });

}  // namespace
}  // namespace dlt::onnx_import
