// Indexing kernels: embedding (and its backward), index_select, index_add,
// gather, scatter_add, one_hot. Index tensors are int32 or int64 and
// contiguous (the op layer sees to it). Every index is range-checked where it
// is read; parallel loops note a bad one and skip it, and the kernel throws
// after the loop (an exception must not leave an OpenMP region).
// Accumulating kernels give each task its own output elements and add in a
// fixed order, so results never depend on the thread count.
#include <atomic>
#include <cstring>
#include <limits>
#include <vector>

#include "dlt/ops/dispatch.h"
#include "kernels/cpu/loops.h"
#include "kernels/cpu/rows.h"
#include "kernels/cpu/isa_namespace.h"

namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE {
namespace {

using ops::KernelCall;

template <class F> decltype(auto) visit_index(DType t, F&& f) {
  if (t == DType::i32) return f.template operator()<int32_t>();
  DLT_ASSERT(t == DType::i64, "index tensors are int32 or int64 (the op layer checks), got {}", t);
  return f.template operator()<int64_t>();
}

bool in_range(int64_t value, int64_t size) { return uint64_t(value) < uint64_t(size); }

// The smallest position at which a parallel loop met an out-of-range index.
class BadIndex {
 public:
  void note(int64_t position) {
    int64_t seen = first_.load(std::memory_order_relaxed);
    while (position < seen && !first_.compare_exchange_weak(seen, position)) {
    }
  }
  // Throws Error(message(position, value)) if a bad index was noted.
  template <class I, class Message> void throw_if_any(const I* idx, Message message) const {
    const int64_t p = first_.load();
    if (p != kNone) throw Error(message(p, int64_t(idx[p])));
  }

 private:
  static constexpr int64_t kNone = std::numeric_limits<int64_t>::max();
  std::atomic<int64_t> first_{kNone};
};

// For sequential loops: throws at the first index outside [0, size).
template <class I, class Message>
void check_all(const I* idx, int64_t n, int64_t size, Message message) {
  for (int64_t p = 0; p < n; ++p)
    if (!in_range(int64_t(idx[p]), size)) throw Error(message(p, int64_t(idx[p])));
}


// ---- embedding ---------------------------------------------------------------------

// weight (V, C), indices (P) -> out (P, C): row p is weight[indices[p]].
void embedding_kernel(const KernelCall& c) {
  const Tensor &weight = c.in[0], &indices = c.in[1];
  const int64_t V = weight.size(0), C = weight.size(1), P = indices.numel();
  const size_t row_bytes = size_t(C) * weight.element_size();
  const char* w = static_cast<const char*>(weight.raw_data());
  char* out = static_cast<char*>(c.out[0].raw_data());
  visit_index(indices.dtype(), [&]<class I>() {
    const I* idx = indices.data_ptr<I>();
    BadIndex bad;
    parallel_for(0, P, rows_grain(C), [&](int64_t p0, int64_t p1) {
      for (int64_t p = p0; p < p1; ++p) {
        const int64_t v = int64_t(idx[p]);
        if (!in_range(v, V)) {
          bad.note(p);
          continue;
        }
        std::memcpy(out + size_t(p) * row_bytes, w + size_t(v) * row_bytes, row_bytes);
      }
    });
    bad.throw_if_any(idx, [V](int64_t p, int64_t v) {
      return fmt::format("embedding: index {} (at position {}) is out of range for a weight of {} "
                         "rows (valid indices: 0 to {})", v, p, V, V - 1);
    });
  });
}
DLT_REGISTER_KERNEL(embedding, cpu, embedding_kernel);

// grad (P, C), indices (P) -> grad_weight (V, C). A stable counting sort
// groups the positions by row; each row then sums its positions in
// increasing order, with no atomics and no dependence on the thread count.
// The padding row gets no gradient.
template <class T> void embedding_backward_typed(const KernelCall& c) {
  using Acc = compute_t<T>;
  const auto& attrs = c.attrs<ops::EmbeddingAttrs>();
  const Tensor &grad = c.in[0], &indices = c.in[1];
  const int64_t V = attrs.num_weights, C = grad.size(1), P = indices.numel();
  const T* gp = grad.data_ptr<T>();
  T* gw = c.out[0].data_ptr<T>();
  visit_index(indices.dtype(), [&]<class I>() {
    const I* idx = indices.data_ptr<I>();
    check_all(idx, P, V, [V](int64_t p, int64_t v) {
      return fmt::format("embedding_backward: index {} (at position {}) is out of range for {} rows",
                         v, p, V);
    });
    std::vector<int64_t> start(static_cast<size_t>(V) + 1, 0), order(static_cast<size_t>(P));
    for (int64_t p = 0; p < P; ++p) ++start[size_t(idx[p]) + 1];
    for (int64_t v = 0; v < V; ++v) start[size_t(v) + 1] += start[size_t(v)];
    std::vector<int64_t> next(start.begin(), start.end() - 1);
    for (int64_t p = 0; p < P; ++p) order[size_t(next[size_t(idx[p])]++)] = p;

    parallel_for(0, V, rows_grain(C), [&](int64_t v0, int64_t v1) {
      std::vector<Acc> acc(static_cast<size_t>(C));
      for (int64_t v = v0; v < v1; ++v) {
        T* row = gw + v * C;
        const int64_t q0 = start[size_t(v)], q1 = start[size_t(v) + 1];
        if (v == attrs.padding_idx || q0 == q1) {
          std::fill(row, row + C, T(Acc(0)));
          continue;
        }
        std::fill(acc.begin(), acc.end(), Acc(0));
        Acc* a = acc.data();
        for (int64_t q = q0; q < q1; ++q) {
          const T* g = gp + order[size_t(q)] * C;
#pragma omp simd
          for (int64_t j = 0; j < C; ++j) a[j] += Acc(g[j]);
        }
#pragma omp simd
        for (int64_t j = 0; j < C; ++j) row[j] = T(a[j]);
      }
    });
  });
}

void embedding_backward_kernel(const KernelCall& c) {
  visit_floating(c.in[0].dtype(), "embedding_backward",
                 [&]<class T>() { embedding_backward_typed<T>(c); });
}
DLT_REGISTER_KERNEL(embedding_backward, cpu, embedding_backward_kernel);

// ---- index_select / index_add ---------------------------------------------------------

std::string index_message(const char* op, int64_t p, int64_t v, int64_t dim, int64_t size) {
  return fmt::format("{}: index {} (at position {} of the index) is out of range for dimension {} "
                     "of size {}", op, v, p, dim, size);
}

// x (outer, D, inner), index (K) -> out (outer, K, inner).
void index_select_kernel(const KernelCall& c) {
  const int64_t dim = c.attrs<ops::DimAttrs>().dim;
  const Tensor &x = c.in[0], &index = c.in[1];
  const AroundDim a = around_dim(x.shape(), dim);
  const int64_t K = index.numel();
  const size_t row_bytes = size_t(a.inner) * x.element_size();
  const char* xp = static_cast<const char*>(x.raw_data());
  char* out = static_cast<char*>(c.out[0].raw_data());
  visit_index(index.dtype(), [&]<class I>() {
    const I* idx = index.data_ptr<I>();
    BadIndex bad;
    parallel_for(0, a.outer * K, rows_grain(a.inner), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t o = r / K, k = r % K, v = int64_t(idx[k]);
        if (!in_range(v, a.size)) {
          bad.note(k);
          continue;
        }
        std::memcpy(out + size_t(r) * row_bytes, xp + size_t(o * a.size + v) * row_bytes,
                    row_bytes);
      }
    });
    bad.throw_if_any(idx, [&](int64_t p, int64_t v) {
      return index_message("index_select", p, v, dim, a.size);
    });
  });
}
DLT_REGISTER_KERNEL(index_select, cpu, index_select_kernel);

// x (outer, D, inner), index (K), src (outer, K, inner) -> out = x with
// src[:, k] added to out[:, index[k]]. A task owns one (outer, inner-chunk)
// slice of the output and adds the K source rows into it in order.
template <class T> void index_add_typed(const KernelCall& c) {
  using Cm = compute_t<T>;
  constexpr int64_t kChunk = 1024;
  const int64_t dim = c.attrs<ops::DimAttrs>().dim;
  const Tensor &x = c.in[0], &index = c.in[1], &src = c.in[2];
  const AroundDim a = around_dim(x.shape(), dim);
  const int64_t K = index.numel();
  T* out = c.out[0].data_ptr<T>();
  const T* sp = src.data_ptr<T>();
  std::memcpy(out, x.raw_data(), size_t(x.numel()) * sizeof(T));
  visit_index(index.dtype(), [&]<class I>() {
    const I* idx = index.data_ptr<I>();
    check_all(idx, K, a.size, [&](int64_t p, int64_t v) {
      return index_message("index_add", p, v, dim, a.size);
    });
    const int64_t chunks = (a.inner + kChunk - 1) / kChunk;
    parallel_for(0, a.outer * chunks, rows_grain(K * std::min(a.inner, kChunk)),
                 [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t o = t / chunks, j0 = (t % chunks) * kChunk;
        const int64_t n = std::min(a.inner - j0, kChunk);
        for (int64_t k = 0; k < K; ++k) {
          T* dst = out + (o * a.size + idx[k]) * a.inner + j0;
          const T* s = sp + (o * K + k) * a.inner + j0;
#pragma omp simd
          for (int64_t j = 0; j < n; ++j) dst[j] = T(Cm(dst[j]) + Cm(s[j]));
        }
      }
    });
  });
}

void index_add_kernel(const KernelCall& c) {
  visit_dtype(c.in[0].dtype(), [&]<class T>() { index_add_typed<T>(c); });
}
DLT_REGISTER_KERNEL(index_add, cpu, index_add_kernel);

// ---- gather / scatter_add --------------------------------------------------------------

// Offset of the row/fiber `r` of `shape` (dims in `dims`, last fastest) under `strides`.
int64_t offset_of(int64_t r, const Shape& shape, const std::vector<int64_t>& dims,
                  const Shape& strides) {
  int64_t off = 0;
  for (auto it = dims.rbegin(); it != dims.rend(); ++it) {
    const int64_t size = shape[size_t(*it)];
    off += (r % size) * strides[size_t(*it)];
    r /= size;
  }
  return off;
}

// x (any strides), index (contiguous, x's rank) -> out (index's shape):
// out[i] = x[i with coordinate `dim` replaced by index[i]]. Parallel over the
// rows of the index's last dim.
template <class T> void gather_typed(const KernelCall& c) {
  const int64_t dim = c.attrs<ops::DimAttrs>().dim;
  const Tensor &x = c.in[0], &index = c.in[1];
  const int64_t nd = index.dim(), last = nd - 1;
  const int64_t L = index.size(last), rows = L > 0 ? index.numel() / L : 0;
  const Shape& xs = x.strides();
  const int64_t dim_stride = xs[size_t(dim)], col_stride = dim == last ? 0 : xs[size_t(last)];
  std::vector<int64_t> row_dims;  // the coordinates a row fixes (not `dim`)
  for (int64_t d = 0; d < last; ++d)
    if (d != dim) row_dims.push_back(d);
  const T* xp = x.data_ptr<T>();
  T* out = c.out[0].data_ptr<T>();
  visit_index(index.dtype(), [&]<class I>() {
    const I* idx = index.data_ptr<I>();
    const int64_t size = x.size(dim);
    BadIndex bad;
    parallel_for(0, rows, rows_grain(L), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        // The row's coordinates over dims [0, last); the one along `dim` comes from the index.
        int64_t base = 0, rem = r;
        for (int64_t d = last - 1; d >= 0; --d) {
          const int64_t coord = rem % index.size(d);
          rem /= index.size(d);
          if (d != dim) base += coord * xs[size_t(d)];
        }
        const I* ir = idx + r * L;
        T* orow = out + r * L;
        bool row_ok = true;  // bad indices read element 0 and are reported below
        for (int64_t j = 0; j < L; ++j) {
          const bool ok = in_range(int64_t(ir[j]), size);
          row_ok &= ok;
          orow[j] = xp[base + j * col_stride + (ok ? int64_t(ir[j]) : 0) * dim_stride];
        }
        if (!row_ok)
          for (int64_t j = 0; j < L; ++j)
            if (!in_range(int64_t(ir[j]), size)) bad.note(r * L + j);
      }
    });
    bad.throw_if_any(idx, [&](int64_t p, int64_t v) {
      return index_message("gather", p, v, dim, size);
    });
  });
}

void gather_kernel(const KernelCall& c) {
  visit_dtype(c.in[0].dtype(), [&]<class T>() { gather_typed<T>(c); });
}
DLT_REGISTER_KERNEL(gather, cpu, gather_kernel);

// x (contiguous), index (contiguous), src (any strides, index.size(d) <=
// src.size(d)) -> out = x with src[i] added at out[i with coordinate `dim`
// replaced by index[i]]. Fibers (all coordinates of the index but `dim`)
// write disjoint output elements, so one task per fiber, adding in order.
template <class T> void scatter_add_typed(const KernelCall& c) {
  using Cm = compute_t<T>;
  const int64_t dim = c.attrs<ops::DimAttrs>().dim;
  const Tensor &x = c.in[0], &index = c.in[1], &src = c.in[2];
  T* out = c.out[0].data_ptr<T>();
  std::memcpy(out, x.raw_data(), size_t(x.numel()) * sizeof(T));
  const int64_t K = index.size(dim), fibers = K > 0 ? index.numel() / K : 0;
  const Shape index_strides = contiguous_strides(index.shape());
  const Shape out_strides = contiguous_strides(x.shape());
  const Shape& src_strides = src.strides();
  std::vector<int64_t> fiber_dims;
  for (int64_t d = 0; d < index.dim(); ++d)
    if (d != dim) fiber_dims.push_back(d);
  const T* sp = src.data_ptr<T>();
  visit_index(index.dtype(), [&]<class I>() {
    const I* idx = index.data_ptr<I>();
    const int64_t size = x.size(dim);
    const int64_t index_step = index_strides[size_t(dim)], src_step = src_strides[size_t(dim)],
                  out_step = out_strides[size_t(dim)];
    BadIndex bad;
    parallel_for(0, fibers, rows_grain(K), [&](int64_t f0, int64_t f1) {
      for (int64_t f = f0; f < f1; ++f) {
        const int64_t at = offset_of(f, index.shape(), fiber_dims, index_strides);
        const T* s = sp + offset_of(f, index.shape(), fiber_dims, src_strides);
        T* o = out + offset_of(f, index.shape(), fiber_dims, out_strides);
        for (int64_t k = 0; k < K; ++k) {
          const int64_t v = int64_t(idx[at + k * index_step]);
          if (!in_range(v, size)) {
            bad.note(at + k * index_step);
            continue;
          }
          T& dst = o[v * out_step];
          dst = T(Cm(dst) + Cm(s[k * src_step]));
        }
      }
    });
    bad.throw_if_any(idx, [&](int64_t p, int64_t v) {
      return index_message("scatter_add", p, v, dim, size);
    });
  });
}

void scatter_add_kernel(const KernelCall& c) {
  visit_dtype(c.in[0].dtype(), [&]<class T>() { scatter_add_typed<T>(c); });
}
DLT_REGISTER_KERNEL(scatter_add, cpu, scatter_add_kernel);

// ---- one_hot ----------------------------------------------------------------------------

// indices (P) -> out (P, N) int64 with a single 1 per row.
void one_hot_kernel(const KernelCall& c) {
  const int64_t N = c.attrs<ops::OneHotAttrs>().num_classes;
  const Tensor& indices = c.in[0];
  const int64_t P = indices.numel();
  int64_t* out = c.out[0].data_ptr<int64_t>();
  visit_index(indices.dtype(), [&]<class I>() {
    const I* idx = indices.data_ptr<I>();
    BadIndex bad;
    parallel_for(0, P, rows_grain(N), [&](int64_t p0, int64_t p1) {
      std::memset(out + p0 * N, 0, size_t((p1 - p0) * N) * sizeof(int64_t));
      for (int64_t p = p0; p < p1; ++p) {
        if (in_range(int64_t(idx[p]), N))
          out[p * N + int64_t(idx[p])] = 1;
        else
          bad.note(p);
      }
    });
    bad.throw_if_any(idx, [N](int64_t p, int64_t v) {
      return v < 0 ? fmt::format("one_hot: class values must be non-negative, got {} at position {}",
                                 v, p)
                   : fmt::format("one_hot: class value {} at position {} is not smaller than "
                                 "num_classes = {}", v, p, N);
    });
  });
}
DLT_REGISTER_KERNEL(one_hot, cpu, one_hot_kernel);

}  // namespace
}  // namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE
