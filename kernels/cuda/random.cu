// Fill, ranges, random numbers and dropout. The random kernels give one
// thread each Philox block (two elements), the layout of philox_pair, and
// compute in the CPU kernels' (kernels/cpu/fill.cpp, dropout.cpp) precision
// with philox.h's helpers (scale_unit is an explicit fma on both sides), so
// f32 uniform/randint/dropout equal the CPU's bit for bit. normal() runs
// Box-Muller in double, where the device's log and cos may differ from the
// host libm in the last ulp (rarely visible after rounding to f32).
// Runtime names used: cudaStream_t, cudaGetLastError; device fma, fmaf.
#include "dlt/core/philox.h"
#include "kernels/cuda/loops.cuh"
#include "kernels/cuda/random.h"

namespace dlt::gpu {
namespace {

// Stores convert<T>(compute_t<T>(value)): double -> compute type -> storage,
// the CPU's T(compute_t<T>(value)).
template <class T> struct FillValue {
  double value;
  __device__ compute_t<T> operator()() const { return compute_t<T>(value); }
};

// As the CPU's range; the multiply-add may be fused on either side, as the
// CPU compiler does under -march=native, so values agree to the last ulp.
struct RangeValue {
  double start, step, end;
  bool linspace;
  int64_t n;
  __device__ double operator()(int64_t i) const {
    return (linspace && i >= n / 2) ? end - double(n - 1 - i) * step : start + double(i) * step;
  }
};

template <class T> struct RangeCast {
  RangeValue v;
  __device__ compute_t<T> operator()(int64_t i) const { return compute_t<T>(v(i)); }
};

// One value from two Philox words, per kind and dtype, as kernels/cpu/fill.cpp.
template <class T> struct UniformDraw {
  double a, b;       // double path
  float af, widthf;  // float path: float(a), float(b - a), rounded on the host as the CPU does
  __device__ compute_t<T> operator()(uint32_t w0, uint32_t w1) const {
    if constexpr (std::is_same_v<T, double>)
      return scale_unit(a, b - a, uint_to_unit_double(w0, w1));
    else
      return compute_t<T>(scale_unit(af, widthf, uint_to_unit_float(w0)));
  }
};
template <class T> struct NormalDraw {
  double mean, std;
  __device__ compute_t<T> operator()(uint32_t w0, uint32_t w1) const {
    return compute_t<T>(scale_unit(mean, std, box_muller(w0, w1)[0]));
  }
};
template <class T> struct RandintDraw {
  int64_t low;
  uint64_t span;
  __device__ compute_t<T> operator()(uint32_t w0, uint32_t w1) const {
    const uint64_t r = (uint64_t(w1) << 32) | w0;
    return compute_t<T>(low + int64_t(r % span));
  }
};

// Thread q draws the block at counter offset + q: elements 2q and 2q + 1.
template <class T, class Draw>
__global__ void random_kernel(T* out, int64_t n, uint64_t seed, uint64_t offset, Draw draw) {
  const int64_t pairs = (n + 1) / 2;
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t q = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; q < pairs; q += step) {
    const auto block = Philox4x32::generate(seed, offset + uint64_t(q));
    out[2 * q] = convert<T>(draw(block[0], block[1]));
    if (2 * q + 1 < n) out[2 * q + 1] = convert<T>(draw(block[2], block[3]));
  }
}

template <class T, class Draw>
void random_launch(TensorArg out, uint64_t seed, uint64_t offset, Draw draw, cudaStream_t s) {
  if (out.numel == 0) return;
  random_kernel<T><<<blocks_for((out.numel + 1) / 2), kThreads, 0, s>>>(
      static_cast<T*>(out.data), out.numel, seed, offset, draw);
  DLT_GPU_CHECK_LAUNCH();
}

template <class T>
__global__ void dropout_kernel(T* y, bool* mask, const T* x, int64_t n, double keep_prob,
                               compute_t<T> scale, uint64_t seed, uint64_t offset) {
  const int64_t pairs = (n + 1) / 2;
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t q = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; q < pairs; q += step) {
    const auto block = Philox4x32::generate(seed, offset + uint64_t(q));
    for (int h = 0; h < 2 && 2 * q + h < n; ++h) {
      const int64_t i = 2 * q + h;
      const bool keep = uint_to_unit_double(block[2 * h], block[2 * h + 1]) < keep_prob;
      mask[i] = keep;
      y[i] = convert<T>(keep ? convert<compute_t<T>>(x[i]) * scale : compute_t<T>(0));
    }
  }
}

}  // namespace

void launch_fill(TensorArg out, double value, cudaStream_t s) {
  visit_code(out.dtype, [&]<class T>() { gpu_map<T>(out, {}, FillValue<T>{value}, s); });
}

void launch_range(TensorArg out, double start, double step, double end, bool linspace,
                  cudaStream_t s) {
  const RangeValue v{start, step, end, linspace, out.numel};
  visit_numeric_code(out.dtype, [&]<class T>() { gpu_generate<T>(out, RangeCast<T>{v}, s); });
}

void launch_random(RandomKind kind, TensorArg out, double a, double b, uint64_t seed,
                   uint64_t offset, cudaStream_t s) {
  switch (kind) {
    case RandomKind::uniform:
      return visit_floating_code(out.dtype, [&]<class T>() {
        random_launch<T>(out, seed, offset, UniformDraw<T>{a, b, float(a), float(b - a)}, s);
      });
    case RandomKind::normal:
      return visit_floating_code(out.dtype, [&]<class T>() {
        random_launch<T>(out, seed, offset, NormalDraw<T>{a, b}, s);
      });
    case RandomKind::randint: {
      const int64_t low = int64_t(a);
      const uint64_t span = uint64_t(int64_t(b) - low);
      return visit_numeric_code(out.dtype, [&]<class T>() {
        random_launch<T>(out, seed, offset, RandintDraw<T>{low, span}, s);
      });
    }
  }
}

void launch_dropout(TensorArg y, TensorArg mask, TensorArg x, double p, uint64_t seed,
                    uint64_t offset, cudaStream_t s) {
  if (x.numel == 0) return;
  const double keep_prob = 1.0 - p;
  visit_floating_code(x.dtype, [&]<class T>() {
    using C = compute_t<T>;
    const C scale = keep_prob > 0 ? C(1.0 / keep_prob) : C(0);
    dropout_kernel<T><<<blocks_for((x.numel + 1) / 2), kThreads, 0, s>>>(
        static_cast<T*>(y.data), static_cast<bool*>(mask.data), static_cast<const T*>(x.data),
        x.numel, keep_prob, scale, seed, offset);
    DLT_GPU_CHECK_LAUNCH();
  });
}

}  // namespace dlt::gpu
