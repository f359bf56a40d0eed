// CPU kernels of max / average / adaptive average 2-D pooling and their
// backward passes: direct loops over (B * C) planes, one plane per task, so
// every output element (and every scattered gradient) has a single writer
// and results do not depend on the thread count. Window and index
// semantics follow torch 1.13's CPU kernels exactly (NCHW); like them, the
// backward passes accumulate in the tensor's own dtype.
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "dlt/core/parallel.h"
#include "dlt/ops/dispatch.h"
#include "kernels/cpu/isa_namespace.h"

namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE {
namespace {

using ops::AdaptivePoolAttrs;
using ops::KernelCall;
using ops::Pool2dAttrs;

// An input (..., H, W) and an output (..., Ho, Wo) as planes of one image channel.
struct Planes {
  int64_t count, H, W, Ho, Wo;
};

Planes planes_of(const Shape& in, const Shape& out) {
  const size_t n = in.size();
  return {numel_of(in) / (in[n - 2] * in[n - 1]), in[n - 2], in[n - 1], out[n - 2], out[n - 1]};
}

// Splits the planes over threads; `cost` is the work per plane in element visits.
template <class F> void for_each_plane(const Planes& p, int64_t cost, F&& f) {
  const int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(cost, 1));
  parallel_for(0, p.count, grain, [&](int64_t begin, int64_t end) {
    for (int64_t plane = begin; plane < end; ++plane) f(plane);
  });
}

// ---- max pooling -------------------------------------------------------------

// The first maximum in scan order wins; a NaN always replaces it (torch 1.13).
template <class C> bool replaces(C v, C best) { return v > best || v != v; }

// Output columns [lo, hi) of one output row, whose windows lie wholly inside
// the input row, for a window width KW and stride SW known at compile time
// (dilation 1): the loads of a window row are contiguous, so the loop over
// output columns vectorises with permutes rather than gathers. Window rows
// are visited top to bottom and each left to right, the scalar scan order,
// so ties and NaNs pick the same index. values and indices point at the
// output row and carry the running maximum between window rows (a T holds
// every candidate exactly: each is an input value or -inf).
template <int64_t KW, int64_t SW, class T>
void max_pool_row_interior(const T* xp, int64_t W, int64_t h0, int64_t h1, int64_t dh, int64_t pw,
                           int64_t lo, int64_t hi, T* values, int64_t* indices) {
  using C = compute_t<T>;
  for (int64_t ow = lo; ow < hi; ++ow) {
    values[ow] = T(-std::numeric_limits<C>::infinity());
    indices[ow] = h0 * W + ow * SW - pw;
  }
  for (int64_t ih = h0; ih < h1; ih += dh) {
    const T* row = xp + ih * W;
    const int64_t first = ih * W - pw;  // flat index of the window row's column 0, less ow * SW
#pragma omp simd
    for (int64_t ow = lo; ow < hi; ++ow) {
      C best = C(values[ow]);
      int64_t arg = indices[ow];
      for (int64_t j = 0; j < KW; ++j) {
        const C v = C(row[ow * SW + j - pw]);
        const bool take = replaces(v, best);
        best = take ? v : best;
        arg = take ? first + ow * SW + j : arg;
      }
      values[ow] = T(best);
      indices[ow] = arg;
    }
  }
}

#if defined(__AVX512F__)
// max_pool_row_interior<2, 2, float> in AVX-512: 16 outputs per step and the
// last step masked, so the short rows of small images (14 or 7 outputs) run
// as vectors too, where the compiler's loop would leave them to its scalar
// remainder. Same scan order, so the same values and indices. Needs H * W
// below 2^31 (indices are computed in 32 bits).
void max_pool_row_2x2_avx512(const float* xp, int64_t W, int64_t h0, int64_t h1, int64_t dh,
                             int64_t pw, int64_t lo, int64_t hi, float* values, int64_t* indices) {
  const __m512i lane2 =
      _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_add_epi32(lane2, _mm512_set1_epi32(1));
  for (int64_t ow0 = lo; ow0 < hi; ow0 += 16) {
    const int n = int(std::min<int64_t>(16, hi - ow0));
    const __mmask16 out_mask = __mmask16((1u << n) - 1);
    // The 2n input columns of a window row, as two loads of 16.
    const __mmask16 first = __mmask16(n >= 8 ? 0xFFFFu : (1u << (2 * n)) - 1);
    const __mmask16 second = __mmask16(n > 8 ? (1u << (2 * n - 16)) - 1 : 0);
    __m512 best = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
    __m512i arg = _mm512_add_epi32(_mm512_set1_epi32(int32_t(h0 * W - pw + 2 * ow0)), lane2);
    for (int64_t ih = h0; ih < h1; ih += dh) {
      const int64_t base = ih * W - pw + 2 * ow0;  // flat index of lane 0's left column
      const __m512 v0 = _mm512_maskz_loadu_ps(first, xp + base);
      const __m512 v1 = _mm512_maskz_loadu_ps(second, xp + base + 16);
      const __m512i left = _mm512_add_epi32(_mm512_set1_epi32(int32_t(base)), lane2);
      const __m512 cols[2] = {_mm512_permutex2var_ps(v0, lane2, v1),
                              _mm512_permutex2var_ps(v0, odd, v1)};
      for (int j = 0; j < 2; ++j) {
        const __m512 v = cols[j];
        const __mmask16 take = _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ) |
                               _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
        best = _mm512_mask_mov_ps(best, take, v);
        arg = _mm512_mask_mov_epi32(arg, take, _mm512_add_epi32(left, _mm512_set1_epi32(j)));
      }
    }
    _mm512_mask_storeu_ps(values + ow0, out_mask, best);
    // Widened to int64 in two halves, through memory and with zeroing
    // conversions: GCC 12 warns (wrongly) about the undefined lanes that the
    // plain casts and conversions start from.
    alignas(64) int32_t arg32[16];
    _mm512_store_si512(arg32, arg);
    for (int half = 0; half < 2; ++half) {
      const __m256i a = _mm256_load_si256(reinterpret_cast<const __m256i*>(arg32 + 8 * half));
      _mm512_mask_storeu_epi64(indices + ow0 + 8 * half, __mmask8(out_mask >> (8 * half)),
                               _mm512_maskz_cvtepi32_epi64(__mmask8(0xFF), a));
    }
  }
}
#endif

// in: x (B, C, H, W); out: values, indices (B, C, Ho, Wo), indices flat in H * W.
void max_pool2d_kernel(const KernelCall& c) {
  const auto& a = c.attrs<Pool2dAttrs>();
  const Planes p = planes_of(c.in[0].shape(), c.out[0].shape());
  // Plain names, not structured bindings: clang cannot use those inside omp simd.
  const int64_t kh = a.kernel[0], kw = a.kernel[1], sh = a.stride[0], sw = a.stride[1];
  const int64_t ph = a.padding[0], pw = a.padding[1], dh = a.dilation[0], dw = a.dilation[1];
  // Output columns whose windows need no clipping: [lo, hi).
  const int64_t lo = std::min(p.Wo, (pw + sw - 1) / sw);
  const int64_t hi = p.W - kw + pw >= 0 ? std::clamp((p.W - kw + pw) / sw + 1, lo, p.Wo) : lo;
  visit_floating(c.in[0].dtype(), "max_pool2d", [&]<class T>() {
    using C = compute_t<T>;
    using RowFn = void (*)(const T*, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,
                           T*, int64_t*);
    RowFn interior = nullptr;
    if (dw == 1 && kw == 2 && sw == 2) interior = max_pool_row_interior<2, 2, T>;
#if defined(__AVX512F__)
    if constexpr (std::is_same_v<T, float>)
      if (dw == 1 && kw == 2 && sw == 2 && p.H * p.W < (int64_t(1) << 31))
        interior = max_pool_row_2x2_avx512;
#endif
    if (dw == 1 && kw == 3 && sw == 2) interior = max_pool_row_interior<3, 2, T>;
    if (dw == 1 && kw == 3 && sw == 1) interior = max_pool_row_interior<3, 1, T>;
    const T* x = c.in[0].data_ptr<T>();
    T* values = c.out[0].data_ptr<T>();
    int64_t* indices = c.out[1].data_ptr<int64_t>();
    for_each_plane(p, p.Ho * p.Wo * kh * kw, [&](int64_t plane) {
      const T* xp = x + plane * p.H * p.W;
      const int64_t base = plane * p.Ho * p.Wo;
      for (int64_t oh = 0; oh < p.Ho; ++oh) {
        int64_t h0 = oh * sh - ph;
        const int64_t h1 = std::min(h0 + (kh - 1) * dh + 1, p.H);
        while (h0 < 0) h0 += dh;
        T* vrow = values + base + oh * p.Wo;
        int64_t* irow = indices + base + oh * p.Wo;
        auto scalar = [&](int64_t ow0, int64_t ow1) {
          for (int64_t ow = ow0; ow < ow1; ++ow) {
            int64_t w0 = ow * sw - pw;
            const int64_t w1 = std::min(w0 + (kw - 1) * dw + 1, p.W);
            while (w0 < 0) w0 += dw;
            int64_t arg = h0 * p.W + w0;
            C best = -std::numeric_limits<C>::infinity();
            for (int64_t ih = h0; ih < h1; ih += dh)
              for (int64_t iw = w0; iw < w1; iw += dw) {
                const C v = C(xp[ih * p.W + iw]);
                if (replaces(v, best)) {
                  best = v;
                  arg = ih * p.W + iw;
                }
              }
            vrow[ow] = T(best);
            irow[ow] = arg;
          }
        };
        if (!interior) {
          scalar(0, p.Wo);
          continue;
        }
        scalar(0, lo);
        interior(xp, p.W, h0, h1, dh, pw, lo, hi, vrow, irow);
        scalar(hi, p.Wo);
      }
    });
  });
}
DLT_REGISTER_KERNEL(max_pool2d, cpu, max_pool2d_kernel);

// in: dy, indices (B, C, Ho, Wo); out: dx (B, C, H, W)
void max_pool2d_backward_kernel(const KernelCall& c) {
  const Planes p = planes_of(c.out[0].shape(), c.in[0].shape());
  visit_floating(c.in[0].dtype(), "max_pool2d_backward", [&]<class T>() {
    using C = compute_t<T>;
    const T* dy = c.in[0].data_ptr<T>();
    const int64_t* indices = c.in[1].data_ptr<int64_t>();
    T* dx = c.out[0].data_ptr<T>();
    for_each_plane(p, p.H * p.W + p.Ho * p.Wo, [&](int64_t plane) {
      T* dxp = dx + plane * p.H * p.W;
      std::fill(dxp, dxp + p.H * p.W, T(0));
      const int64_t base = plane * p.Ho * p.Wo;
      for (int64_t o = 0; o < p.Ho * p.Wo; ++o) {
        T& target = dxp[indices[base + o]];
        target = T(C(target) + C(dy[base + o]));
      }
    });
  });
}
DLT_REGISTER_KERNEL(max_pool2d_backward, cpu, max_pool2d_backward_kernel);

// ---- average pooling -------------------------------------------------------------

// One output's window, clipped to the input, and the count it is divided by.
struct AvgWindow {
  int64_t h0, h1, w0, w1, divisor;
};

AvgWindow avg_window(const Pool2dAttrs& a, const Planes& p, int64_t oh, int64_t ow) {
  int64_t h0 = oh * a.stride[0] - a.padding[0], w0 = ow * a.stride[1] - a.padding[1];
  int64_t h1 = std::min(h0 + a.kernel[0], p.H + a.padding[0]);
  int64_t w1 = std::min(w0 + a.kernel[1], p.W + a.padding[1]);
  const int64_t padded_count = (h1 - h0) * (w1 - w0);  // the window within the padded input
  h0 = std::max<int64_t>(h0, 0);
  w0 = std::max<int64_t>(w0, 0);
  h1 = std::min(h1, p.H);
  w1 = std::min(w1, p.W);
  const int64_t count = a.count_include_pad ? padded_count : (h1 - h0) * (w1 - w0);
  return {h0, h1, w0, w1, count};
}

bool is_empty(const AvgWindow& win) { return win.h0 >= win.h1 || win.w0 >= win.w1; }

// in: x (B, C, H, W); out: y (B, C, Ho, Wo)
void avg_pool2d_kernel(const KernelCall& c) {
  const auto& a = c.attrs<Pool2dAttrs>();
  const Planes p = planes_of(c.in[0].shape(), c.out[0].shape());
  visit_floating(c.in[0].dtype(), "avg_pool2d", [&]<class T>() {
    using C = compute_t<T>;
    const T* x = c.in[0].data_ptr<T>();
    T* y = c.out[0].data_ptr<T>();
    for_each_plane(p, p.Ho * p.Wo * a.kernel[0] * a.kernel[1], [&](int64_t plane) {
      const T* xp = x + plane * p.H * p.W;
      T* yp = y + plane * p.Ho * p.Wo;
      for (int64_t oh = 0; oh < p.Ho; ++oh)
        for (int64_t ow = 0; ow < p.Wo; ++ow) {
          const AvgWindow win = avg_window(a, p, oh, ow);
          C sum = 0;
          if (!is_empty(win))
            for (int64_t ih = win.h0; ih < win.h1; ++ih) {
              const T* row = xp + ih * p.W;
#pragma omp simd reduction(+ : sum)
              for (int64_t iw = win.w0; iw < win.w1; ++iw) sum += C(row[iw]);
            }
          yp[oh * p.Wo + ow] = is_empty(win) ? T(0) : T(sum / C(win.divisor));
        }
    });
  });
}
DLT_REGISTER_KERNEL(avg_pool2d, cpu, avg_pool2d_kernel);

// in: dy (B, C, Ho, Wo); out: dx (B, C, H, W)
void avg_pool2d_backward_kernel(const KernelCall& c) {
  const auto& a = c.attrs<Pool2dAttrs>();
  const Planes p = planes_of(c.out[0].shape(), c.in[0].shape());
  visit_floating(c.in[0].dtype(), "avg_pool2d_backward", [&]<class T>() {
    using C = compute_t<T>;
    const T* dy = c.in[0].data_ptr<T>();
    T* dx = c.out[0].data_ptr<T>();
    for_each_plane(p, p.Ho * p.Wo * a.kernel[0] * a.kernel[1] + p.H * p.W, [&](int64_t plane) {
      const T* dyp = dy + plane * p.Ho * p.Wo;
      T* dxp = dx + plane * p.H * p.W;
      std::fill(dxp, dxp + p.H * p.W, T(0));
      for (int64_t oh = 0; oh < p.Ho; ++oh)
        for (int64_t ow = 0; ow < p.Wo; ++ow) {
          const AvgWindow win = avg_window(a, p, oh, ow);
          if (is_empty(win)) continue;
          const C share = C(dyp[oh * p.Wo + ow]) / C(win.divisor);
          for (int64_t ih = win.h0; ih < win.h1; ++ih) {
            T* row = dxp + ih * p.W;
#pragma omp simd
            for (int64_t iw = win.w0; iw < win.w1; ++iw) row[iw] = T(C(row[iw]) + share);
          }
        }
    });
  });
}
DLT_REGISTER_KERNEL(avg_pool2d_backward, cpu, avg_pool2d_backward_kernel);

// ---- adaptive average pooling ------------------------------------------------------

// Output cell i of n over an input of size `in` covers [floor(i in / n), ceil((i + 1) in / n)).
int64_t adaptive_start(int64_t i, int64_t n, int64_t in) { return (i / n) * in + (i % n) * in / n; }
int64_t adaptive_end(int64_t i, int64_t n, int64_t in) { return 1 + ((i + 1) * in - 1) / n; }

// in: x (B, C, H, W); out: y (B, C, Ho, Wo)
void adaptive_avg_pool2d_kernel(const KernelCall& c) {
  const Planes p = planes_of(c.in[0].shape(), c.out[0].shape());
  if (c.out[0].numel() == 0) return;
  visit_floating(c.in[0].dtype(), "adaptive_avg_pool2d", [&]<class T>() {
    using C = compute_t<T>;
    const T* x = c.in[0].data_ptr<T>();
    T* y = c.out[0].data_ptr<T>();
    for_each_plane(p, p.H * p.W + p.Ho * p.Wo, [&](int64_t plane) {
      const T* xp = x + plane * p.H * p.W;
      T* yp = y + plane * p.Ho * p.Wo;
      for (int64_t oh = 0; oh < p.Ho; ++oh) {
        const int64_t h0 = adaptive_start(oh, p.Ho, p.H), h1 = adaptive_end(oh, p.Ho, p.H);
        for (int64_t ow = 0; ow < p.Wo; ++ow) {
          const int64_t w0 = adaptive_start(ow, p.Wo, p.W), w1 = adaptive_end(ow, p.Wo, p.W);
          C sum = 0;
          for (int64_t ih = h0; ih < h1; ++ih) {
            const T* row = xp + ih * p.W;
#pragma omp simd reduction(+ : sum)
            for (int64_t iw = w0; iw < w1; ++iw) sum += C(row[iw]);
          }
          yp[oh * p.Wo + ow] = T(sum / C((h1 - h0) * (w1 - w0)));
        }
      }
    });
  });
}
DLT_REGISTER_KERNEL(adaptive_avg_pool2d, cpu, adaptive_avg_pool2d_kernel);

// in: dy (B, C, Ho, Wo); out: dx (B, C, H, W)
void adaptive_avg_pool2d_backward_kernel(const KernelCall& c) {
  const Planes p = planes_of(c.out[0].shape(), c.in[0].shape());
  visit_floating(c.in[0].dtype(), "adaptive_avg_pool2d_backward", [&]<class T>() {
    using C = compute_t<T>;
    const T* dy = c.in[0].data_ptr<T>();
    T* dx = c.out[0].data_ptr<T>();
    for_each_plane(p, p.H * p.W + p.Ho * p.Wo, [&](int64_t plane) {
      const T* dyp = dy + plane * p.Ho * p.Wo;
      T* dxp = dx + plane * p.H * p.W;
      std::fill(dxp, dxp + p.H * p.W, T(0));
      for (int64_t oh = 0; oh < p.Ho; ++oh) {
        const int64_t h0 = adaptive_start(oh, p.Ho, p.H), h1 = adaptive_end(oh, p.Ho, p.H);
        for (int64_t ow = 0; ow < p.Wo; ++ow) {
          const int64_t w0 = adaptive_start(ow, p.Wo, p.W), w1 = adaptive_end(ow, p.Wo, p.W);
          const C share = C(dyp[oh * p.Wo + ow]) / C((h1 - h0) * (w1 - w0));
          for (int64_t ih = h0; ih < h1; ++ih) {
            T* row = dxp + ih * p.W;
#pragma omp simd
            for (int64_t iw = w0; iw < w1; ++iw) row[iw] = T(C(row[iw]) + share);
          }
        }
      }
    });
  });
}
DLT_REGISTER_KERNEL(adaptive_avg_pool2d_backward, cpu, adaptive_avg_pool2d_backward_kernel);

}  // namespace
}  // namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE
