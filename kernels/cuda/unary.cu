// Elementwise unary kernels over loops.cuh, the same formulas as
// kernels/cpu/unary.cpp (f16/bf16 compute in float; device libm may differ
// from the CPU's vectorised exp/log/tanh/erfc by a few ulp).
// Runtime names used: none beyond loops.cuh.
#include "kernels/cuda/loops.cuh"
#include "kernels/cuda/math.cuh"
#include "kernels/cuda/unary.h"

namespace dlt::gpu {
namespace {

constexpr double kSqrt2OverPi = 0.7978845608028654;
constexpr double kInvSqrt2 = 0.7071067811865476;
constexpr double kInvSqrt2Pi = 0.3989422804014327;

// ---- numeric ops (every dtype but bool) ----
struct Neg {
  template <class C> __device__ C operator()(C x) const { return C(-x); }
};
struct Abs {
  template <class C> __device__ C operator()(C x) const {
    if constexpr (std::is_unsigned_v<C>) return x;
    else return x < C(0) ? C(-x) : x;
  }
};
struct Relu {  // nan stays nan, as torch
  template <class C> __device__ C operator()(C x) const { return (x != x || x > C(0)) ? x : C(0); }
};
struct Sign {
  template <class C> __device__ C operator()(C x) const {
    if constexpr (std::is_unsigned_v<C>) return C(C(0) < x);
    else return C((C(0) < x) - (x < C(0)));
  }
};
struct Square {
  template <class C> __device__ C operator()(C x) const { return C(x * x); }
};
struct PowScalar {
  double e;
  template <class C> __device__ C operator()(C x) const {
    if constexpr (std::is_floating_point_v<C>)
      return math::pow(x, C(e));
    else
      return C(::llround(::pow(double(x), e)));
  }
};
struct Clamp {  // nan stays nan; with lo > hi the result is hi, as torch
  double lo, hi;
  template <class C> __device__ C operator()(C x) const {
    const C r = double(x) < lo ? C(lo) : x;
    return double(r) > hi ? C(hi) : r;
  }
};

// ---- floating ops ----
#define DLT_FLOAT_OP(Name, expr)                                   \
  struct Name {                                                    \
    template <class C> __device__ C operator()(C x) const { return expr; } \
  };
DLT_FLOAT_OP(Exp, math::exp(x))
DLT_FLOAT_OP(Log, math::log(x))
DLT_FLOAT_OP(Log1p, math::log1p(x))
DLT_FLOAT_OP(Sqrt, math::sqrt(x))
DLT_FLOAT_OP(Rsqrt, C(1) / math::sqrt(x))
DLT_FLOAT_OP(Sin, math::sin(x))
DLT_FLOAT_OP(Cos, math::cos(x))
DLT_FLOAT_OP(Tanh, math::tanh(x))
DLT_FLOAT_OP(Sigmoid, math::sigmoid(x))
DLT_FLOAT_OP(Silu, x * math::sigmoid(x))
DLT_FLOAT_OP(Gelu, C(0.5) * x * math::erfc(-x * C(kInvSqrt2)))
DLT_FLOAT_OP(GeluTanh,
             C(0.5) * x * (C(1) + math::tanh(C(kSqrt2OverPi) * (x + C(0.044715) * x * x * x))))
#undef DLT_FLOAT_OP

struct Softplus {  // linear above the threshold, as torch, to avoid exp overflow
  double beta, threshold;
  template <class C> __device__ C operator()(C x) const {
    const C b = C(beta);
    return x * b > C(threshold) ? x : math::log1p(math::exp(x * b)) / b;
  }
};

// in: grad, y = relu(x): grad where y > 0 or y is NaN, else 0 (as the CPU).
struct ReluBackward {
  template <class C> __device__ C operator()(C g, C y) const { return y <= C(0) ? C(0) : g; }
};

// d/dx gelu: exact  Phi(x) + x phi(x); tanh  0.5 (1 + t) + 0.5 x (1 - t^2) k (1 + 3 a x^2).
// One slope for gelu_backward and gelu_and_slope, as on the CPU.
struct GeluSlope {
  template <class C> __device__ C operator()(C x) const {
    const C cdf = C(0.5) * math::erfc(-x * C(kInvSqrt2));
    const C pdf = C(kInvSqrt2Pi) * math::exp(C(-0.5) * x * x);
    return cdf + x * pdf;
  }
};
struct GeluTanhSlope {
  template <class C> __device__ C operator()(C x) const {
    const C k = C(kSqrt2OverPi), a = C(0.044715);
    const C t = math::tanh(k * (x + a * x * x * x));
    return C(0.5) * (C(1) + t) + C(0.5) * x * (C(1) - t * t) * k * (C(1) + C(3) * a * x * x);
  }
};
template <class Slope> struct GeluBackwardOf {
  template <class C> __device__ C operator()(C g, C x) const { return g * Slope{}(x); }
};
// f(x + bias), the sum in the compute type as on the CPU.
template <class F> struct OfBiased {
  template <class C> __device__ C operator()(C x, C bias) const { return F{}(x + bias); }
};

template <class Op> void numeric(TensorArg out, TensorArg in, Op op, cudaStream_t s) {
  visit_numeric_code(out.dtype, [&]<class T>() { gpu_map<T, T>(out, {in}, op, s); });
}
template <class Op> void floating(TensorArg out, TensorArg in, Op op, cudaStream_t s) {
  visit_floating_code(out.dtype, [&]<class T>() { gpu_map<T, T>(out, {in}, op, s); });
}

}  // namespace

void launch_unary(UnaryOp op, TensorArg out, TensorArg in, UnaryScalars sc, cudaStream_t s) {
  switch (op) {
    case UnaryOp::neg: return numeric(out, in, Neg{}, s);
    case UnaryOp::abs: return numeric(out, in, Abs{}, s);
    case UnaryOp::relu: return numeric(out, in, Relu{}, s);
    case UnaryOp::sign: return numeric(out, in, Sign{}, s);
    case UnaryOp::pow_scalar:
      if (sc.a == 2) return numeric(out, in, Square{}, s);
      return numeric(out, in, PowScalar{sc.a}, s);
    case UnaryOp::clamp: return numeric(out, in, Clamp{sc.a, sc.b}, s);
    case UnaryOp::exp: return floating(out, in, Exp{}, s);
    case UnaryOp::log: return floating(out, in, Log{}, s);
    case UnaryOp::log1p: return floating(out, in, Log1p{}, s);
    case UnaryOp::sqrt: return floating(out, in, Sqrt{}, s);
    case UnaryOp::rsqrt: return floating(out, in, Rsqrt{}, s);
    case UnaryOp::sin: return floating(out, in, Sin{}, s);
    case UnaryOp::cos: return floating(out, in, Cos{}, s);
    case UnaryOp::tanh: return floating(out, in, Tanh{}, s);
    case UnaryOp::sigmoid: return floating(out, in, Sigmoid{}, s);
    case UnaryOp::silu: return floating(out, in, Silu{}, s);
    case UnaryOp::gelu: return floating(out, in, Gelu{}, s);
    case UnaryOp::gelu_tanh: return floating(out, in, GeluTanh{}, s);
    case UnaryOp::softplus: return floating(out, in, Softplus{sc.a, sc.b}, s);
  }
}

void launch_gelu_backward(TensorArg grad_in, TensorArg grad, TensorArg x, bool tanh_approx,
                          cudaStream_t s) {
  visit_floating_code(grad_in.dtype, [&]<class T>() {
    if (tanh_approx)
      gpu_map<T, T, T>(grad_in, {grad, x}, GeluBackwardOf<GeluTanhSlope>{}, s);
    else
      gpu_map<T, T, T>(grad_in, {grad, x}, GeluBackwardOf<GeluSlope>{}, s);
  });
}

void launch_gelu_slope(TensorArg slope, TensorArg x, bool tanh_approx, cudaStream_t s) {
  visit_floating_code(slope.dtype, [&]<class T>() {
    if (tanh_approx)
      gpu_map<T, T>(slope, {x}, GeluTanhSlope{}, s);
    else
      gpu_map<T, T>(slope, {x}, GeluSlope{}, s);
  });
}

void launch_gelu_and_slope(TensorArg y, TensorArg slope, TensorArg x, TensorArg bias,
                           bool tanh_approx, cudaStream_t s) {
  visit_floating_code(y.dtype, [&]<class T>() {
    if (tanh_approx) {
      gpu_map<T, T, T>(y, {x, bias}, OfBiased<GeluTanh>{}, s);
      gpu_map<T, T, T>(slope, {x, bias}, OfBiased<GeluTanhSlope>{}, s);
    } else {
      gpu_map<T, T, T>(y, {x, bias}, OfBiased<Gelu>{}, s);
      gpu_map<T, T, T>(slope, {x, bias}, OfBiased<GeluSlope>{}, s);
    }
  });
}

void launch_relu_backward(TensorArg grad_in, TensorArg grad, TensorArg y, cudaStream_t s) {
  visit_floating_code(grad_in.dtype, [&]<class T>() {
    gpu_map<T, T, T>(grad_in, {grad, y}, ReluBackward{}, s);
  });
}

}  // namespace dlt::gpu
