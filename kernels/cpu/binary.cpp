// Elementwise binary and ternary kernels with broadcasting. The op layer
// has already cast both operands to the computation dtype.
#include <cmath>

#include "dlt/ops/dispatch.h"
#include "kernels/cpu/loops.h"
#include "kernels/cpu/isa_namespace.h"

namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE {
namespace {

using ops::KernelCall;

template <class MakeOp> void numeric_binary(const KernelCall& c, const char* name, MakeOp make_op) {
  visit_dtype(c.out[0].dtype(), [&]<class T>() {
    map<T, T, T>(c.out[0], {&c.in[0], &c.in[1]}, make_op.template operator()<compute_t<T>>());
  });
}

void add_kernel(const KernelCall& c) {
  const double alpha = c.attrs<ops::AlphaAttrs>().alpha;
  numeric_binary(c, "add", [&]<class C>() {
    const C a = C(alpha);
    return [a](C x, C y) -> C { return C(x + a * y); };
  });
}
DLT_REGISTER_KERNEL(add, cpu, add_kernel);

void sub_kernel(const KernelCall& c) {
  const double alpha = c.attrs<ops::AlphaAttrs>().alpha;
  numeric_binary(c, "sub", [&]<class C>() {
    const C a = C(alpha);
    return [a](C x, C y) -> C { return C(x - a * y); };
  });
}
DLT_REGISTER_KERNEL(sub, cpu, sub_kernel);

#define DLT_BINARY(op, expr)                                                              \
  void op##_kernel(const KernelCall& c) {                                                 \
    numeric_binary(c, #op, []<class C>() { return [](C x, C y) -> C { return expr; }; }); \
  }                                                                                       \
  DLT_REGISTER_KERNEL(op, cpu, op##_kernel)

DLT_BINARY(mul, C(x * y));
DLT_BINARY(div, C(x / y));
DLT_BINARY(pow, C(std::pow(x, y)));
// nan propagates, as torch.maximum.
DLT_BINARY(maximum, (x != x || x > y) ? x : y);
DLT_BINARY(minimum, (x != x || x < y) ? x : y);

#define DLT_COMPARE(op, expr)                                                        \
  void op##_kernel(const KernelCall& c) {                                            \
    visit_dtype(c.in[0].dtype(), [&]<class T>() {                                    \
      using C = compute_t<T>;                                                        \
      map<bool, T, T>(c.out[0], {&c.in[0], &c.in[1]}, [](C x, C y) { return expr; }); \
    });                                                                              \
  }                                                                                  \
  DLT_REGISTER_KERNEL(op, cpu, op##_kernel)

DLT_COMPARE(eq, x == y);
DLT_COMPARE(ne, x != y);
DLT_COMPARE(lt, x < y);
DLT_COMPARE(le, x <= y);
DLT_COMPARE(gt, x > y);
DLT_COMPARE(ge, x >= y);

// Bool masks are read as their bytes (0 or 1): GCC does not vectorise
// selects on loaded bools, and masked_fill over causal attention scores ran
// scalar, a branch per element.
using MaskByte = uint8_t;
static_assert(sizeof(bool) == sizeof(MaskByte));

// where(cond, a, b): inputs (cond bool, a, b).
void where_kernel(const KernelCall& c) {
  visit_dtype(c.out[0].dtype(), [&]<class T>() {
    using C = compute_t<T>;
    map<T, MaskByte, T, T>(c.out[0], {&c.in[0], &c.in[1], &c.in[2]},
                           [](MaskByte m, C x, C y) -> C { return m ? x : y; });
  });
}
DLT_REGISTER_KERNEL(where, cpu, where_kernel);

// masked_fill(x, mask): inputs (x, mask bool).
void masked_fill_kernel(const KernelCall& c) {
  const double value = c.attrs<ops::ScalarAttrs>().value;
  visit_dtype(c.out[0].dtype(), [&]<class T>() {
    using C = compute_t<T>;
    const C v = C(value);
    map<T, T, MaskByte>(c.out[0], {&c.in[0], &c.in[1]},
                        [v](C x, MaskByte m) -> C { return m ? v : x; });
  });
}
DLT_REGISTER_KERNEL(masked_fill, cpu, masked_fill_kernel);

}  // namespace
}  // namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE
