// Copy with dtype conversion and broadcasting, fill, ranges and random numbers.
#include "dlt/core/philox.h"
#include "dlt/ops/dispatch.h"
#include "kernels/cpu/loops.h"
#include "kernels/cpu/isa_namespace.h"

namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE {
namespace {

using ops::KernelCall;

// out (any strides) = in (broadcast to out), converting the dtype.
void copy_kernel(const KernelCall& c) {
  visit_dtype(c.out[0].dtype(), [&]<class D>() {
    visit_dtype(c.in[0].dtype(), [&]<class S>() {
      map<D, S>(c.out[0], {&c.in[0]}, [](compute_t<S> v) { return v; });
    });
  });
}
DLT_REGISTER_KERNEL(copy, cpu, copy_kernel);

void fill_kernel(const KernelCall& c) {
  const double value = c.attrs<ops::ScalarAttrs>().value;
  visit_dtype(c.out[0].dtype(), [&]<class T>() {
    const T v = T(compute_t<T>(value));
    map<T>(c.out[0], {}, [v]() { return compute_t<T>(v); });
  });
}
DLT_REGISTER_KERNEL(fill, cpu, fill_kernel);

void range_kernel(const KernelCall& c) {
  const auto& a = c.attrs<ops::RangeAttrs>();
  const int64_t n = c.out[0].numel();
  visit_numeric(c.out[0].dtype(), "arange", [&]<class T>() {
    generate<T>(c.out[0], [&](int64_t i) {
      // linspace fills the second half from the end, so both endpoints are exact.
      const double v = (a.linspace && i >= n / 2) ? a.end - double(n - 1 - i) * a.step
                                                  : a.start + double(i) * a.step;
      return compute_t<T>(v);
    });
  });
}
DLT_REGISTER_KERNEL(range, cpu, range_kernel);

void uniform_kernel(const KernelCall& c) {
  const auto& a = c.attrs<ops::RandomAttrs>();
  visit_floating(c.out[0].dtype(), "uniform", [&]<class T>() {
    generate<T>(c.out[0], [&](int64_t i) {
      const auto w = philox_pair(a.seed, a.offset, uint64_t(i));
      if constexpr (std::is_same_v<T, double>)
        return scale_unit(a.a, a.b - a.a, uint_to_unit_double(w[0], w[1]));
      else
        return compute_t<T>(scale_unit(float(a.a), float(a.b - a.a), uint_to_unit_float(w[0])));
    });
  });
}
DLT_REGISTER_KERNEL(uniform, cpu, uniform_kernel);

void normal_kernel(const KernelCall& c) {
  const auto& a = c.attrs<ops::RandomAttrs>();
  visit_floating(c.out[0].dtype(), "normal", [&]<class T>() {
    generate<T>(c.out[0], [&](int64_t i) {
      const auto w = philox_pair(a.seed, a.offset, uint64_t(i));
      return compute_t<T>(scale_unit(a.a, a.b, box_muller(w[0], w[1])[0]));
    });
  });
}
DLT_REGISTER_KERNEL(normal, cpu, normal_kernel);

void randint_kernel(const KernelCall& c) {
  const auto& a = c.attrs<ops::RandomAttrs>();
  const int64_t low = int64_t(a.a);
  const uint64_t span = uint64_t(int64_t(a.b) - low);
  visit_numeric(c.out[0].dtype(), "randint", [&]<class T>() {
    generate<T>(c.out[0], [&](int64_t i) {
      const auto w = philox_pair(a.seed, a.offset, uint64_t(i));
      const uint64_t r = (uint64_t(w[1]) << 32) | w[0];
      return compute_t<T>(low + int64_t(r % span));
    });
  });
}
DLT_REGISTER_KERNEL(randint, cpu, randint_kernel);

}  // namespace
}  // namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE
