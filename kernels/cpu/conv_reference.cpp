#include "kernels/cpu/conv_reference.h"

#include <vector>

#include "dlt/core/parallel.h"

namespace dlt::cpu {
namespace {

// Planes are the unit of work: one output plane costs Cin/groups * kH * kW
// passes over Ho * Wo, so even small planes are worth a thread.
constexpr int64_t kPlaneGrain = 1;

template <class T> void forward(const ConvGeometry& g, const Tensor& x_t, const Tensor& w_t,
                                const Tensor& b_t, Tensor& y_t) {
  using C = compute_t<T>;
  const T* x = x_t.data_ptr<T>();
  const T* w = w_t.data_ptr<T>();
  const T* bias = b_t.defined() ? b_t.data_ptr<T>() : nullptr;
  T* y = y_t.data_ptr<T>();
  const int64_t cin_g = g.cin_per_group(), cout_g = g.cout_per_group();
  const int64_t sh = g.stride[0], sw = g.stride[1];  // not a structured binding: clang cannot capture one in omp simd
  const int64_t plane = g.Ho * g.Wo;
  // One (b, oc) output plane per task: y[b, oc] = bias[oc] + sum_ic,kh,kw w * x.
  parallel_for(0, g.B * g.Cout, kPlaneGrain, [&](int64_t begin, int64_t end) {
    std::vector<C> acc(plane);
    for (int64_t task = begin; task < end; ++task) {
      const int64_t b = task / g.Cout, oc = task % g.Cout;
      std::fill(acc.begin(), acc.end(), bias ? C(bias[oc]) : C(0));
      for (int64_t icg = 0; icg < cin_g; ++icg) {
        const int64_t ic = oc / cout_g * cin_g + icg;
        const T* xp = x + (b * g.Cin + ic) * g.H * g.W;
        const T* wp = w + (oc * cin_g + icg) * g.kH * g.kW;
        for (int64_t kh = 0; kh < g.kH; ++kh) {
          const int64_t hoff = kh * g.dilation[0] - g.padding[0];
          const TapRange rows = valid_taps(hoff, sh, g.H, g.Ho);
          for (int64_t kw = 0; kw < g.kW; ++kw) {
            const int64_t woff = kw * g.dilation[1] - g.padding[1];
            const TapRange cols = valid_taps(woff, sw, g.W, g.Wo);
            const C wv = C(wp[kh * g.kW + kw]);
            for (int64_t oh = rows.lo; oh < rows.hi; ++oh) {
              const T* xrow = xp + (oh * sh + hoff) * g.W + woff;
              C* arow = acc.data() + oh * g.Wo;
#pragma omp simd
              for (int64_t ow = cols.lo; ow < cols.hi; ++ow) arow[ow] += wv * C(xrow[ow * sw]);
            }
          }
        }
      }
      T* yp = y + task * plane;
      for (int64_t i = 0; i < plane; ++i) yp[i] = T(acc[i]);
    }
  });
}

template <class T> void backward_input(const ConvGeometry& g, const Tensor& dy_t,
                                       const Tensor& w_t, Tensor& dx_t) {
  using C = compute_t<T>;
  const T* dy = dy_t.data_ptr<T>();
  const T* w = w_t.data_ptr<T>();
  T* dx = dx_t.data_ptr<T>();
  const int64_t cin_g = g.cin_per_group(), cout_g = g.cout_per_group();
  const int64_t sh = g.stride[0], sw = g.stride[1];  // not a structured binding: clang cannot capture one in omp simd
  const int64_t plane = g.H * g.W;
  // One (b, ic) input plane per task, so the scatter below has one writer.
  parallel_for(0, g.B * g.Cin, kPlaneGrain, [&](int64_t begin, int64_t end) {
    std::vector<C> acc(plane);
    for (int64_t task = begin; task < end; ++task) {
      const int64_t b = task / g.Cin, ic = task % g.Cin;
      const int64_t group = ic / cin_g, icg = ic % cin_g;
      std::fill(acc.begin(), acc.end(), C(0));
      for (int64_t oc = group * cout_g; oc < (group + 1) * cout_g; ++oc) {
        const T* dyp = dy + (b * g.Cout + oc) * g.Ho * g.Wo;
        const T* wp = w + (oc * cin_g + icg) * g.kH * g.kW;
        for (int64_t kh = 0; kh < g.kH; ++kh) {
          const int64_t hoff = kh * g.dilation[0] - g.padding[0];
          const TapRange rows = valid_taps(hoff, sh, g.H, g.Ho);
          for (int64_t kw = 0; kw < g.kW; ++kw) {
            const int64_t woff = kw * g.dilation[1] - g.padding[1];
            const TapRange cols = valid_taps(woff, sw, g.W, g.Wo);
            const C wv = C(wp[kh * g.kW + kw]);
            for (int64_t oh = rows.lo; oh < rows.hi; ++oh) {
              C* arow = acc.data() + (oh * sh + hoff) * g.W + woff;
              const T* dyrow = dyp + oh * g.Wo;
#pragma omp simd
              for (int64_t ow = cols.lo; ow < cols.hi; ++ow) arow[ow * sw] += wv * C(dyrow[ow]);
            }
          }
        }
      }
      T* dxp = dx + task * plane;
      for (int64_t i = 0; i < plane; ++i) dxp[i] = T(acc[i]);
    }
  });
}

template <class T> void backward_weight(const ConvGeometry& g, const Tensor& dy_t,
                                        const Tensor& x_t, Tensor& dw_t, Tensor& db_t) {
  using C = compute_t<T>;
  const T* dy = dy_t.data_ptr<T>();
  const T* x = x_t.data_ptr<T>();
  T* dw = dw_t.data_ptr<T>();
  const int64_t cin_g = g.cin_per_group(), cout_g = g.cout_per_group();
  const int64_t sh = g.stride[0], sw = g.stride[1];  // not a structured binding: clang cannot capture one in omp simd
  const int64_t out_plane = g.Ho * g.Wo;
  // One (oc, icg) kernel slice per task; each tap sums over batch and output
  // positions in a fixed order.
  parallel_for(0, g.Cout * cin_g, kPlaneGrain, [&](int64_t begin, int64_t end) {
    for (int64_t task = begin; task < end; ++task) {
      const int64_t oc = task / cin_g, icg = task % cin_g;
      const int64_t ic = oc / cout_g * cin_g + icg;
      for (int64_t kh = 0; kh < g.kH; ++kh) {
        const int64_t hoff = kh * g.dilation[0] - g.padding[0];
        const TapRange rows = valid_taps(hoff, sh, g.H, g.Ho);
        for (int64_t kw = 0; kw < g.kW; ++kw) {
          const int64_t woff = kw * g.dilation[1] - g.padding[1];
          const TapRange cols = valid_taps(woff, sw, g.W, g.Wo);
          C sum = 0;
          for (int64_t b = 0; b < g.B; ++b) {
            const T* dyp = dy + (b * g.Cout + oc) * out_plane;
            const T* xp = x + (b * g.Cin + ic) * g.H * g.W;
            for (int64_t oh = rows.lo; oh < rows.hi; ++oh) {
              const T* xrow = xp + (oh * sh + hoff) * g.W + woff;
              const T* dyrow = dyp + oh * g.Wo;
#pragma omp simd reduction(+ : sum)
              for (int64_t ow = cols.lo; ow < cols.hi; ++ow) sum += C(dyrow[ow]) * C(xrow[ow * sw]);
            }
          }
          dw[(task * g.kH + kh) * g.kW + kw] = T(sum);
        }
      }
    }
  });
  if (!db_t.defined()) return;
  T* db = db_t.data_ptr<T>();
  parallel_for(0, g.Cout, kPlaneGrain, [&](int64_t begin, int64_t end) {
    for (int64_t oc = begin; oc < end; ++oc) {
      C sum = 0;
      for (int64_t b = 0; b < g.B; ++b) {
        const T* dyp = dy + (b * g.Cout + oc) * out_plane;
#pragma omp simd reduction(+ : sum)
        for (int64_t i = 0; i < out_plane; ++i) sum += C(dyp[i]);
      }
      db[oc] = T(sum);
    }
  });
}

}  // namespace

void reference_conv2d_forward(const ConvGeometry& g, const Tensor& x, const Tensor& weight,
                              const Tensor& bias, Tensor& y) {
  visit_floating(x.dtype(), "conv2d",
                 [&]<class T>() { forward<T>(g, x, weight, bias, y); });
}

void reference_conv2d_backward_input(const ConvGeometry& g, const Tensor& dy,
                                     const Tensor& weight, Tensor& dx) {
  visit_floating(dy.dtype(), "conv2d_backward_input",
                 [&]<class T>() { backward_input<T>(g, dy, weight, dx); });
}

void reference_conv2d_backward_weight(const ConvGeometry& g, const Tensor& dy, const Tensor& x,
                                      Tensor& dweight, Tensor& dbias) {
  visit_floating(dy.dtype(), "conv2d_backward_weight",
                 [&]<class T>() { backward_weight<T>(g, dy, x, dweight, dbias); });
}

}  // namespace dlt::cpu
