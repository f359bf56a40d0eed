// Elementwise binary kernels (arithmetic, comparisons, where, masked_fill)
// over loops.cuh, the same formulas as kernels/cpu/binary.cpp.
// Runtime names used: none beyond loops.cuh.
#include "kernels/cuda/binary.h"
#include "kernels/cuda/loops.cuh"
#include "kernels/cuda/math.cuh"

namespace dlt::gpu {
namespace {

struct Add {
  double alpha;
  template <class C> __device__ C operator()(C x, C y) const { return C(x + C(alpha) * y); }
};
struct Sub {
  double alpha;
  template <class C> __device__ C operator()(C x, C y) const { return C(x - C(alpha) * y); }
};
struct Mul {
  template <class C> __device__ C operator()(C x, C y) const { return C(x * y); }
};
struct Div {  // integer division truncates, as C++ (and the CPU kernel)
  template <class C> __device__ C operator()(C x, C y) const { return C(x / y); }
};
struct Pow {  // integers go through double pow, as std::pow does on the CPU
  template <class C> __device__ C operator()(C x, C y) const {
    if constexpr (std::is_floating_point_v<C>)
      return math::pow(x, y);
    else
      return C(::pow(double(x), double(y)));
  }
};
struct Maximum {  // nan propagates, as torch.maximum
  template <class C> __device__ C operator()(C x, C y) const { return (x != x || x > y) ? x : y; }
};
struct Minimum {
  template <class C> __device__ C operator()(C x, C y) const { return (x != x || x < y) ? x : y; }
};

#define DLT_COMPARE_OP(Name, expr)                                                \
  struct Name {                                                                   \
    template <class C> __device__ bool operator()(C x, C y) const { return expr; } \
  };
DLT_COMPARE_OP(Eq, x == y)
DLT_COMPARE_OP(Ne, x != y)
DLT_COMPARE_OP(Lt, x < y)
DLT_COMPARE_OP(Le, x <= y)
DLT_COMPARE_OP(Gt, x > y)
DLT_COMPARE_OP(Ge, x >= y)
#undef DLT_COMPARE_OP

struct Where {
  template <class C> __device__ C operator()(bool m, C x, C y) const { return m ? x : y; }
};
struct MaskedFill {
  double value;
  template <class C> __device__ C operator()(C x, bool m) const { return m ? C(value) : x; }
};

template <class Op> void arith(TensorArg out, TensorArg a, TensorArg b, Op op, cudaStream_t s) {
  visit_code(out.dtype, [&]<class T>() { gpu_map<T, T, T>(out, {a, b}, op, s); });
}
template <class Op> void compare(TensorArg out, TensorArg a, TensorArg b, Op op, cudaStream_t s) {
  visit_code(a.dtype, [&]<class T>() { gpu_map<bool, T, T>(out, {a, b}, op, s); });
}

}  // namespace

void launch_binary(BinaryOp op, TensorArg out, TensorArg a, TensorArg b, double alpha,
                   cudaStream_t s) {
  switch (op) {
    case BinaryOp::add: return arith(out, a, b, Add{alpha}, s);
    case BinaryOp::sub: return arith(out, a, b, Sub{alpha}, s);
    case BinaryOp::mul: return arith(out, a, b, Mul{}, s);
    case BinaryOp::div: return arith(out, a, b, Div{}, s);
    case BinaryOp::pow: return arith(out, a, b, Pow{}, s);
    case BinaryOp::maximum: return arith(out, a, b, Maximum{}, s);
    case BinaryOp::minimum: return arith(out, a, b, Minimum{}, s);
  }
}

void launch_compare(CompareOp op, TensorArg out, TensorArg a, TensorArg b, cudaStream_t s) {
  switch (op) {
    case CompareOp::eq: return compare(out, a, b, Eq{}, s);
    case CompareOp::ne: return compare(out, a, b, Ne{}, s);
    case CompareOp::lt: return compare(out, a, b, Lt{}, s);
    case CompareOp::le: return compare(out, a, b, Le{}, s);
    case CompareOp::gt: return compare(out, a, b, Gt{}, s);
    case CompareOp::ge: return compare(out, a, b, Ge{}, s);
  }
}

void launch_where(TensorArg out, TensorArg cond, TensorArg a, TensorArg b, cudaStream_t s) {
  visit_code(out.dtype, [&]<class T>() { gpu_map<T, bool, T, T>(out, {cond, a, b}, Where{}, s); });
}

void launch_masked_fill(TensorArg out, TensorArg x, TensorArg mask, double value, cudaStream_t s) {
  visit_code(out.dtype,
             [&]<class T>() { gpu_map<T, T, bool>(out, {x, mask}, MaskedFill{value}, s); });
}

}  // namespace dlt::gpu
