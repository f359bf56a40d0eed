// Fused cross_entropy and nll_loss, forward and backward (torch 1.13
// semantics: ignore_index, label smoothing, mean over non-ignored targets).
// The input is contiguous (B, N, D): N classes, and B * D positions each
// with one target; class c of position p = (b, d) is at b*N*D + c*D + d.
// Targets are validated in a serial pass before any parallel work, so a bad
// target raises dlt::Error from the calling thread, never inside OpenMP.
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "dlt/ops/dispatch.h"
#include "kernels/cpu/loops.h"
#include "kernels/cpu/vec_math.h"
#include "kernels/cpu/isa_namespace.h"

namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE {
namespace {

using ops::KernelCall;
using ops::Reduction;

constexpr int64_t kLanes = 64;

struct ClassLayout {
  int64_t batch = 1, classes = 1, inner = 1;
  int64_t positions() const { return batch * inner; }
  // Element offset of class 0 of position p.
  int64_t base(int64_t p) const { return p / inner * classes * inner + p % inner; }
};

// input (B, N, d...) or unbatched (N).
ClassLayout layout_of(const Tensor& input) {
  if (input.dim() == 1) return {1, input.size(0), 1};
  ClassLayout l{input.size(0), input.size(1), 1};
  for (int64_t d = 2; d < input.dim(); ++d) l.inner *= input.size(d);
  return l;
}

// Number of targets that are not ignore_index; any other target outside
// [0, N) is a user error.
int64_t count_targets(const char* op, const int64_t* target, const ClassLayout& l,
                      int64_t ignore_index) {
  int64_t count = 0;
  for (int64_t p = 0; p < l.positions(); ++p) {
    const int64_t t = target[p];
    if (t == ignore_index) continue;
    DLT_CHECK(t >= 0 && t < l.classes,
              "{}: target {} is out of bounds for {} classes (at flat position {}; valid targets "
              "are 0..{} or ignore_index {})",
              op, t, l.classes, p, l.classes - 1, ignore_index);
    ++count;
  }
  return count;
}

// Writes per-position losses (none) or their sum / mean over `count`
// targets, summed in position order in double. A mean over no targets is
// nan, as torch.
template <class T>
void write_loss(const std::vector<double>& losses, int64_t count, Reduction r, T* out) {
  if (r == Reduction::none) {
    for (size_t p = 0; p < losses.size(); ++p) out[p] = T(losses[p]);
    return;
  }
  double total = 0;
  for (double v : losses) total += v;
  out[0] = T(r == Reduction::mean ? total / double(count) : total);
}

// d loss / d loss_p, for a position whose target is not ignored.
template <class T>
double grad_scale(const T* grad, int64_t p, Reduction r, int64_t count) {
  if (r == Reduction::none) return double(grad[p]);
  return r == Reduction::mean ? double(grad[0]) / double(count) : double(grad[0]);
}

// Rows with fewer classes than this run kLanes rows at a time, one per
// lane: the classes of one row are too few for whole vectors (a (128, 10)
// loss took 39 us a step forward and backward one row at a time).
constexpr int64_t kMinRowClasses = 32;

// A group of w positions from p0, each a lane of the loops over j: class c
// of position p0 + j is element at(j, c). A row group (w = 1, classes
// contiguous) runs its classes as the lanes instead.
struct Group {
  int64_t p0, w, base, position_stride, class_stride;
  bool row;
  int64_t at(int64_t j, int64_t c) const { return base + j * position_stride + c * class_stride; }
};

// Positions (B * D of them) in groups: adjacent positions of one batch index
// (D > 1), single rows (D == 1, many classes), or adjacent rows (D == 1).
template <class F> void for_each_group(const ClassLayout& l, F f) {
  const bool rows = l.inner == 1 && l.classes >= kMinRowClasses;
  const int64_t width = rows ? 1 : kLanes;
  // Positions are grouped within (D > 1) or across (D == 1) batch indices.
  const int64_t span = l.inner == 1 ? l.batch : l.inner, outer = l.inner == 1 ? 1 : l.batch;
  const int64_t groups = (span + width - 1) / width;
  const int64_t grain = std::max<int64_t>(1, kElementwiseGrain / (l.classes * width));
  parallel_for(0, outer * groups, grain, [&](int64_t b, int64_t e) {
    for (int64_t task = b; task < e; ++task) {
      const int64_t first = task % groups * width, p0 = task / groups * span + first;
      const int64_t w = std::min(width, span - first);
      if (l.inner == 1)
        f(Group{p0, w, p0 * l.classes, l.classes, 1, rows});
      else
        f(Group{p0, w, l.base(p0), 1, l.inner, false});
    }
  });
}

// f(stride) with the group's position stride, a compile-time 1 where it is
// 1 (contiguous lanes: vector loads, no gathers).
template <class F> void for_stride(const Group& g, F f) {
  if (g.position_stride == 1)
    f(std::integral_constant<int64_t, 1>{});
  else
    f(g.position_stride);
}

// Log-sum-exp over the n classes of each position of the group (x is the
// whole input), and the mean logit when label smoothing needs it.
template <class T>
void class_stats(const T* x, const Group& g, int64_t n, bool want_mean, compute_t<T>* lse,
                 compute_t<T>* mean_x) {
  using C = compute_t<T>;
  if (g.row) {  // one contiguous row
    const T* r = x + g.base;
    C mx = -std::numeric_limits<C>::infinity(), sum = 0, sum_x = 0;
#pragma omp simd reduction(max : mx)
    for (int64_t c = 0; c < n; ++c) mx = std::max(mx, C(r[c]));
#pragma omp simd reduction(+ : sum, sum_x)
    for (int64_t c = 0; c < n; ++c) {
      sum += fexp(C(r[c]) - mx);
      sum_x += C(r[c]);
    }
    lse[0] = mx + flog(sum);
    if (want_mean) mean_x[0] = sum_x / C(n);
    return;
  }
  const int64_t w = g.w;
  C mx[kLanes], sum[kLanes], sum_x[kLanes];
  std::fill_n(mx, w, -std::numeric_limits<C>::infinity());
  std::fill_n(sum, w, C(0));
  std::fill_n(sum_x, w, C(0));
  for_stride(g, [&](auto stride) {
    for (int64_t c = 0; c < n; ++c) {
      const T* xc = x + g.base + c * g.class_stride;
#pragma omp simd
      for (int64_t j = 0; j < w; ++j) mx[j] = std::max(mx[j], C(xc[j * stride]));
    }
    for (int64_t c = 0; c < n; ++c) {
      const T* xc = x + g.base + c * g.class_stride;
#pragma omp simd
      for (int64_t j = 0; j < w; ++j) {
        sum[j] += fexp(C(xc[j * stride]) - mx[j]);
        sum_x[j] += C(xc[j * stride]);
      }
    }
  });
  for (int64_t j = 0; j < w; ++j) {
    lse[j] = mx[j] + flog(sum[j]);
    if (want_mean) mean_x[j] = sum_x[j] / C(n);
  }
}

// ---- cross_entropy -----------------------------------------------------------------
// loss_p = (1 - eps) (lse_p - x[t_p]) + eps (lse_p - mean_c x_c), 0 where ignored.

// ins: logits (B, N, d...), target (B, d...); out: loss (none) or 0-dim.
void cross_entropy_kernel(const KernelCall& call) {
  const auto& a = call.attrs<ops::CrossEntropyAttrs>();
  const ClassLayout l = layout_of(call.in[0]);
  const int64_t* target = call.in[1].data_ptr<int64_t>();
  const int64_t count = count_targets("cross_entropy", target, l, a.ignore_index);
  std::vector<double> losses(size_t(l.positions()), 0.0);
  visit_floating(call.in[0].dtype(), "cross_entropy", [&]<class T>() {
    using C = compute_t<T>;
    const T* x = call.in[0].data_ptr<T>();
    const C eps = C(a.label_smoothing);
    for_each_group(l, [&](const Group& g) {
      C lse[kLanes], mean_x[kLanes];
      class_stats(x, g, l.classes, eps != 0, lse, mean_x);
      for (int64_t j = 0; j < g.w; ++j) {
        const int64_t t = target[g.p0 + j];
        if (t == a.ignore_index) continue;
        C loss = lse[j] - C(x[g.at(j, t)]);
        if (eps != 0) loss = (1 - eps) * loss + eps * (lse[j] - mean_x[j]);
        losses[size_t(g.p0 + j)] = double(loss);
      }
    });
    write_loss(losses, count, a.reduction, call.out[0].data_ptr<T>());
  });
}
DLT_REGISTER_KERNEL(cross_entropy, cpu, cross_entropy_kernel);

// d loss_p / d x_c = softmax_c - (1 - eps) [c == t_p] - eps / N.
// ins: grad, logits, target; out: grad of logits.
void cross_entropy_backward_kernel(const KernelCall& call) {
  const auto& a = call.attrs<ops::CrossEntropyAttrs>();
  const ClassLayout l = layout_of(call.in[1]);
  const int64_t* target = call.in[2].data_ptr<int64_t>();
  const int64_t count = count_targets("cross_entropy", target, l, a.ignore_index);
  visit_floating(call.in[1].dtype(), "cross_entropy_backward", [&]<class T>() {
    using C = compute_t<T>;
    const T* grad = call.in[0].data_ptr<T>();
    const T* x = call.in[1].data_ptr<T>();
    T* dx = call.out[0].data_ptr<T>();
    const C on_target = C(1 - a.label_smoothing), smooth = C(a.label_smoothing) / C(l.classes);
    // Every class as if it were not the target, then the target's own entry
    // (recomputed, not read back: f16/bf16 would round twice).
    for_each_group(l, [&](const Group& g) {
      C lse[kLanes], scale[kLanes];
      for (int64_t j = 0; j < g.w; ++j)
        scale[j] = target[g.p0 + j] == a.ignore_index
                       ? C(0)
                       : C(grad_scale(grad, g.p0 + j, a.reduction, count));
      class_stats(x, g, l.classes, false, lse, nullptr);
      if (g.row) {
        const T* xr = x + g.base;
        T* dr = dx + g.base;
        const C s = scale[0], m = lse[0];
#pragma omp simd
        for (int64_t c = 0; c < l.classes; ++c) dr[c] = T(s * (fexp(C(xr[c]) - m) - smooth));
      } else {
        for_stride(g, [&](auto stride) {
          for (int64_t c = 0; c < l.classes; ++c) {
            const T* xc = x + g.base + c * g.class_stride;
            T* dc = dx + g.base + c * g.class_stride;
#pragma omp simd
            for (int64_t j = 0; j < g.w; ++j)
              dc[j * stride] = T(scale[j] * (fexp(C(xc[j * stride]) - lse[j]) - smooth));
          }
        });
      }
      for (int64_t j = 0; j < g.w; ++j) {
        const int64_t t = target[g.p0 + j];
        if (t == a.ignore_index) continue;
        const int64_t at = g.at(j, t);
        dx[at] = T(scale[j] * (fexp(C(x[at]) - lse[j]) - smooth - on_target));
      }
    });
  });
}
DLT_REGISTER_KERNEL(cross_entropy_backward, cpu, cross_entropy_backward_kernel);

// ---- nll_loss ------------------------------------------------------------------------
// loss_p = -x[t_p], 0 where ignored.

// ins: log_probs (B, N, d...), target (B, d...); out: loss (none) or 0-dim.
void nll_loss_kernel(const KernelCall& call) {
  const auto& a = call.attrs<ops::NllAttrs>();
  const ClassLayout l = layout_of(call.in[0]);
  const int64_t* target = call.in[1].data_ptr<int64_t>();
  const int64_t count = count_targets("nll_loss", target, l, a.ignore_index);
  std::vector<double> losses(size_t(l.positions()), 0.0);
  visit_floating(call.in[0].dtype(), "nll_loss", [&]<class T>() {
    const T* x = call.in[0].data_ptr<T>();
    for (int64_t p = 0; p < l.positions(); ++p) {
      const int64_t t = target[p];
      if (t != a.ignore_index) losses[size_t(p)] = -double(x[l.base(p) + t * l.inner]);
    }
    write_loss(losses, count, a.reduction, call.out[0].data_ptr<T>());
  });
}
DLT_REGISTER_KERNEL(nll_loss, cpu, nll_loss_kernel);

// ins: grad, target; out: grad of log_probs (its shape gives the layout).
void nll_loss_backward_kernel(const KernelCall& call) {
  const auto& a = call.attrs<ops::NllAttrs>();
  const ClassLayout l = layout_of(call.out[0]);
  const int64_t* target = call.in[1].data_ptr<int64_t>();
  const int64_t count = count_targets("nll_loss", target, l, a.ignore_index);
  visit_floating(call.out[0].dtype(), "nll_loss_backward", [&]<class T>() {
    const T* grad = call.in[0].data_ptr<T>();
    T* dx = call.out[0].data_ptr<T>();
    generate<T>(call.out[0], [](int64_t) { return T(0); });
    for (int64_t p = 0; p < l.positions(); ++p) {
      const int64_t t = target[p];
      if (t != a.ignore_index)
        dx[l.base(p) + t * l.inner] = T(-grad_scale(grad, p, a.reduction, count));
    }
  });
}
DLT_REGISTER_KERNEL(nll_loss_backward, cpu, nll_loss_backward_kernel);

}  // namespace
}  // namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE
