// matmul and linear on the CPU. Both become one canonical batched GEMM,
//   C[batch] = A[batch] (M, K) @ B[batch] (K, N) (+ bias (N)),
// with broadcast batch dims (stride 0) collapsed and, where B is shared by
// every batch, the batch folded into M (a (B, T, C) @ (C, D) is one GEMM).
// f32 (and bf16/f16 where this CPU has oneDNN kernels for them) run through
// cached oneDNN matmul primitives; other dtypes through a plain vectorised loop.
// The op layer guarantees every matrix operand has a unit stride in one of
// its last two dims, so transposed views (x.t()) need no copy.
#include <algorithm>
#include <string_view>
#include <unordered_map>

#include "dlt/core/math_mode.h"
#include "dlt/ops/dispatch.h"
#include "kernels/cpu/f32_copies.h"
#include "kernels/cpu/loops.h"
#include "kernels/cpu/onednn.h"

namespace dlt::cpu {
namespace {

using ops::KernelCall;

// An operand seen as (batch..., rows, cols) with element strides.
struct Matrix {
  Shape shape, strides;
  const char* data;
};

Matrix matrix_of(const Tensor& t) {
  return {t.shape(), t.strides(), static_cast<const char*>(t.raw_data())};
}
// matmul's left operand: a vector (K) is a row (1, K).
Matrix lhs_matrix(const Tensor& a) {
  if (a.dim() != 1) return matrix_of(a);
  return {{1, a.size(0)}, {a.size(0) * a.stride(0), a.stride(0)},
          static_cast<const char*>(a.raw_data())};
}
// matmul's right operand: a vector (K) is a column (K, 1).
Matrix rhs_matrix(const Tensor& b) {
  if (b.dim() != 1) return matrix_of(b);
  return {{b.size(0), 1}, {b.stride(0), 1}, static_cast<const char*>(b.raw_data())};
}
// linear's weight (out, in) read as its transpose (in, out), without a copy.
Matrix transposed_weight(const Tensor& w) {
  return {{w.size(1), w.size(0)}, {w.stride(1), w.stride(0)},
          static_cast<const char*>(w.raw_data())};
}

// The canonical problem. Strides are over (batch..., row, col), in elements;
// a batch stride of 0 means the operand is broadcast along that dim.
struct Gemm {
  DType dtype;
  Shape batch;
  int64_t m = 0, k = 0, n = 0;
  Shape a_strides, b_strides, c_strides;
  const char* a;
  const char* b;
  char* c;
  const char* bias;  // (N) contiguous, or nullptr
};

// The strides of a dim of size 1 are arbitrary; GEMM back ends want them to
// describe a plain row- or column-major matrix.
void tidy_matrix_strides(int64_t rows, int64_t cols, int64_t& rs, int64_t& cs) {
  if (cols == 1) cs = 1;
  if (rows == 1) rs = cs == 1 ? cols : 1;
}

Gemm plan_gemm(const Matrix& a, const Matrix& b, Tensor& out, const char* bias) {
  Gemm g;
  g.dtype = out.dtype();
  g.m = a.shape.end()[-2];
  g.k = a.shape.end()[-1];
  g.n = b.shape.end()[-1];
  g.a = a.data;
  g.b = b.data;
  g.c = static_cast<char*>(out.raw_data());
  g.bias = bias;

  const Shape a_batch(a.shape.begin(), a.shape.end() - 2), b_batch(b.shape.begin(), b.shape.end() - 2);
  const Shape batch = broadcast_shapes(a_batch, b_batch);
  Shape c_shape = batch;
  c_shape.push_back(g.m);
  c_shape.push_back(g.n);
  const Shape c_full_strides = contiguous_strides(c_shape);  // out is fresh and contiguous
  const std::array<Shape, 3> batch_strides = {
      broadcast_strides(a_batch, Shape(a.strides.begin(), a.strides.end() - 2), batch),
      broadcast_strides(b_batch, Shape(b.strides.begin(), b.strides.end() - 2), batch),
      Shape(c_full_strides.begin(), c_full_strides.end() - 2)};

  // Drop size-1 batch dims, merge a dim into the previous one where every operand allows it.
  std::array<Shape, 3> merged;
  for (size_t d = 0; d < batch.size(); ++d) {
    if (batch[d] == 1) continue;
    bool can_merge = !g.batch.empty();
    for (size_t k = 0; k < 3 && can_merge; ++k)
      can_merge = merged[k].back() == batch_strides[k][d] * batch[d];
    if (can_merge) {
      g.batch.back() *= batch[d];
      for (size_t k = 0; k < 3; ++k) merged[k].back() = batch_strides[k][d];
    } else {
      g.batch.push_back(batch[d]);
      for (size_t k = 0; k < 3; ++k) merged[k].push_back(batch_strides[k][d]);
    }
  }

  int64_t a_rs = a.strides.end()[-2], a_cs = a.strides.end()[-1];
  int64_t b_rs = b.strides.end()[-2], b_cs = b.strides.end()[-1];
  tidy_matrix_strides(g.m, g.k, a_rs, a_cs);
  tidy_matrix_strides(g.k, g.n, b_rs, b_cs);

  // B shared by the innermost batch dim and A's rows continuing evenly across
  // it: those batches are extra rows of one GEMM.
  while (!g.batch.empty() && merged[1].back() == 0 && a_cs == 1 &&
         merged[0].back() == g.m * a_rs) {
    g.m *= g.batch.back();
    g.batch.pop_back();
    for (auto& s : merged) s.pop_back();
  }

  g.a_strides = merged[0];
  g.b_strides = merged[1];
  g.c_strides = merged[2];
  g.a_strides.insert(g.a_strides.end(), {a_rs, a_cs});
  g.b_strides.insert(g.b_strides.end(), {b_rs, b_cs});
  g.c_strides.insert(g.c_strides.end(), {g.n, 1});
  return g;
}

// ---- the plain loop: f64, integers, and anything oneDNN cannot take ----------

// Element offsets of batch index `flat` for each operand.
std::array<int64_t, 3> batch_offsets(const Gemm& g, int64_t flat) {
  std::array<int64_t, 3> off{0, 0, 0};
  for (size_t d = g.batch.size(); d-- > 0;) {
    const int64_t i = flat % g.batch[d];
    flat /= g.batch[d];
    off[0] += i * g.a_strides[d];
    off[1] += i * g.b_strides[d];
    off[2] += i * g.c_strides[d];
  }
  return off;
}

// One output row per task, accumulated in compute_t<T> in a fixed k order,
// so the result does not depend on the thread count. Rows of B contiguous:
// c[i, :] += a[i, k] * b[k, :]; columns of B contiguous: dot products.
template <class T> void loop_gemm(const Gemm& g) {
  using C = compute_t<T>;
  const T* A = reinterpret_cast<const T*>(g.a);
  const T* B = reinterpret_cast<const T*>(g.b);
  T* Cout = reinterpret_cast<T*>(g.c);
  const T* bias = reinterpret_cast<const T*>(g.bias);
  const size_t nd = g.batch.size();
  const int64_t a_rs = g.a_strides[nd], a_cs = g.a_strides[nd + 1];
  const int64_t b_rs = g.b_strides[nd], b_cs = g.b_strides[nd + 1];
  const int64_t rows = numel_of(g.batch) * g.m;
  const int64_t grain = std::max<int64_t>(1, 65536 / std::max<int64_t>(1, g.k * g.n));
  parallel_for(0, rows, grain, [&](int64_t begin, int64_t end) {
    std::vector<C> acc(size_t(g.n));
    for (int64_t row = begin; row < end; ++row) {
      const auto off = batch_offsets(g, row / g.m);
      const int64_t i = row % g.m;
      const T* a_row = A + off[0] + i * a_rs;
      const T* b0 = B + off[1];
      for (int64_t j = 0; j < g.n; ++j) acc[size_t(j)] = bias ? C(bias[j]) : C(0);
      if (b_cs == 1) {
        for (int64_t k = 0; k < g.k; ++k) {
          const C aik = C(a_row[k * a_cs]);
          const T* b_row = b0 + k * b_rs;
#pragma omp simd
          for (int64_t j = 0; j < g.n; ++j) acc[size_t(j)] += aik * C(b_row[j]);
        }
      } else {
        for (int64_t j = 0; j < g.n; ++j) {
          const T* b_col = b0 + j * b_cs;
          C dot = 0;
#pragma omp simd reduction(+ : dot)
          for (int64_t k = 0; k < g.k; ++k) dot += C(a_row[k * a_cs]) * C(b_col[k * b_rs]);
          acc[size_t(j)] += dot;
        }
      }
      T* c_row = Cout + off[2] + i * g.n;
      for (int64_t j = 0; j < g.n; ++j) c_row[j] = T(acc[size_t(j)]);
    }
  });
}

// ---- oneDNN -------------------------------------------------------------------
// oneDNN threads each call itself. Its AVX2 sgemm picks copy or no-copy
// kernels, and may split K between threads, by the thread count: f32 results
// can differ in the last bits between thread counts (they repeat bitwise for
// a given count). Cutting the output into single-threaded tiles would fix
// that but costs up to 1.7x on power-of-two shapes (measured), so we do not.

struct MatmulPrimitive {
  dnnl::matmul::primitive_desc pd;
  dnnl::matmul primitive;
};

onednn::PrimitiveCache<MatmulPrimitive>& primitive_cache() {
  static onednn::PrimitiveCache<MatmulPrimitive> cache(1024);
  return cache;
}

// An operand's memory desc: broadcast batch dims (stride 0) have size 1 for
// oneDNN, with any stride that keeps the desc valid.
dnnl::memory::desc operand_desc(const Gemm& g, int64_t rows, int64_t cols, const Shape& strides,
                                dnnl::memory::data_type type) {
  const size_t nd = g.batch.size();
  dnnl::memory::dims dims(nd + 2), st(nd + 2);
  dims[nd] = rows;
  dims[nd + 1] = cols;
  st[nd] = strides[nd];
  st[nd + 1] = strides[nd + 1];
  int64_t extent = 1 + (rows - 1) * strides[nd] + (cols - 1) * strides[nd + 1];
  for (size_t d = nd; d-- > 0;) {
    const bool broadcast = strides[d] == 0;
    dims[d] = broadcast ? 1 : g.batch[d];
    st[d] = broadcast ? extent : strides[d];
    extent = std::max(extent, st[d] * dims[d]);
  }
  return dnnl::memory::desc(dims, type, st);
}

// Bias (N) as (1, ..., 1, N), broadcast over batch and rows.
dnnl::memory::desc bias_desc(const Gemm& g, dnnl::memory::data_type type) {
  dnnl::memory::dims dims(g.batch.size() + 2, 1), strides(g.batch.size() + 2, g.n);
  dims.back() = g.n;
  strides.back() = 1;
  return dnnl::memory::desc(dims, type, strides);
}

onednn::Key gemm_key(const Gemm& g) {
  onednn::Key key = {int64_t(g.dtype), g.bias != nullptr, g.m, g.k, g.n};
  key.insert(key.end(), g.batch.begin(), g.batch.end());
  key.insert(key.end(), g.a_strides.begin(), g.a_strides.end());
  key.insert(key.end(), g.b_strides.begin(), g.b_strides.end());
  return key;  // C is contiguous: its strides follow from the rest
}

// oneDNN lists its implementations best first and takes the first that
// applies: the brgemm matmul on AVX-512. On some large f32 products its jit
// GEMM (the kernels behind dnnl_sgemm) is faster, by layout (scripts/bench/
// gemm_paths.sh, 2 threads, 2^27 to 2^33 multiply-adds, docs/BENCHMARKS.md):
//   NN (the backward's dx = dy w): jit 4-14% faster on every shape measured;
//   NT (the forward's x w^T): jit 2-8% faster where n > k (mlp.fc, attn.qkv),
//     5-10% slower where n <= k (mlp.proj, attn.proj);
//   TN (the weight gradient dy^T x): jit 1-9% faster where m == n; where
//     m < n, 3-4% faster at m = 512 and 2-4% slower at m = 256; 19-43%
//     slower where m > n (mlp.fc, attn.qkv).
// Training steps measured the same way: +1.3% on the 512-wide GPT of
// scripts/bench/gpt_sweep.sh, +1% on the 256-wide one.
// Below kJitGemmMinWork multiply-adds the jit GEMM's per-call costs show:
// with it, an MLP's (128, 512) by (512, 512) made the whole step 3% slower.
// Where no jit GEMM applies, the first choice stays.
constexpr int64_t kJitGemmMinWork = int64_t(1) << 27;  // 512^3

bool jit_gemm_is_faster(const Gemm& g) {
  if (g.dtype != DType::f32 || !g.batch.empty() || g.m * g.k * g.n < kJitGemmMinWork) return false;
  const bool a_rows = g.a_strides[1] == 1, a_cols = g.a_strides[0] == 1;  // A (m, k) or its transpose
  const bool b_rows = g.b_strides[1] == 1, b_cols = g.b_strides[0] == 1;
  if (a_rows && b_rows) return true;          // NN
  if (a_rows && b_cols) return g.n > g.k;     // NT
  if (a_cols && b_rows) return g.m <= g.n;    // TN
  return false;
}

// `desc` must outlive the iteration: next_impl() reads it again.
dnnl::matmul::primitive_desc matmul_pd(const Gemm& g, const dnnl::matmul::desc& desc) {
  dnnl::matmul::primitive_desc first(desc, onednn::user_scratchpad_attr(), onednn::engine());
  if (!jit_gemm_is_faster(g)) return first;
  for (dnnl::matmul::primitive_desc pd = first; pd.next_impl();)
    if (std::string_view(pd.impl_info_str()).starts_with("gemm:jit")) return pd;
  return first;
}

// ---- k-major operands copied to padded rows (AVX2) -----------------------------
// oneDNN 2.6's AVX2 sgemm reads the operands in place ("no-copy" kernels)
// whenever 1/M + 1/N >= 0.0038. An operand stored k-major, one row per k (B as
// (K, N), or A^T stored (K, M) as in a weight gradient dy^T x), whose row
// stride is a multiple of 2 KiB then has its rows fall on the same cache sets,
// and the product runs up to 2x slower. On copies whose rows are 64 bytes
// longer it does not (scripts/bench/gemm_strides.sh, 2 threads, the copy
// included, two runs): the char-LSTM's d W_hh, (1024, 4096) @ (4096, 256),
// 54-60 -> 91-104 GFLOP/s; the MLP's 512-wide dx 93-94 -> 106-115 and dw
// 78-81 -> 90-98; 512^3 77-95 -> 115-126.
// Its copy-based kernels (1024^3 and up) pack the operands anyway: no gain
// there, so no copy; nor for an operand read by few rows of the other (an
// LSTM step's 32), which does not repay it. Measured on AVX2 only, where every
// f32 product is this GEMM; on AVX-512 most run brgemm, which packs its
// operands, and oneDNN's own heuristic for its AVX-512 GEMM sends leading
// dims that are multiples of 256 to the copy-based kernels on all but the
// smallest products (its AVX2 one has no such rule): the copy is not made there.
constexpr double kNoCopyThreshold = 0.0038;  // oneDNN's: 1/M + 1/N at or above it
constexpr int64_t kAliasingStride = 512;     // f32 elements: 2 KiB
constexpr int64_t kRowPadding = 16;          // f32 elements: 64 bytes
constexpr int64_t kMinReuse = 64;            // rows of the other operand that read the copy
// A copy adds its size to the step's peak memory: past 64 MiB an operand
// runs as it is.
constexpr int64_t kMaxCopyElements = int64_t(16) << 20;

bool sgemm_is_avx2() {
  static const bool avx2 = [] {
    const dnnl::cpu_isa isa = dnnl::get_effective_cpu_isa();
    return isa == dnnl::cpu_isa::avx2 || isa == dnnl::cpu_isa::avx2_vnni;
  }();
  return avx2;
}

// An operand of k rows of `cols`, `k_stride` apart, read by `reuse` rows of the other.
bool worth_padding(int64_t k_stride, int64_t inner_stride, int64_t k, int64_t cols, int64_t reuse) {
  return inner_stride == 1 && k_stride % kAliasingStride == 0 && reuse >= kMinReuse &&
         k * (cols + kRowPadding) <= kMaxCopyElements;
}

// `rows` rows of `cols` f32 at `stride` elements, copied into rows of cols +
// kRowPadding; the returned tensor owns them.
Tensor padded_rows_copy(const char* data, int64_t rows, int64_t cols, int64_t stride) {
  Tensor copy = empty({rows, cols + kRowPadding}, DType::f32);
  const float* src = reinterpret_cast<const float*>(data);
  float* dst = copy.data_ptr<float>();
  const int64_t grain = std::max<int64_t>(1, kElementwiseGrain / cols);
  parallel_for(0, rows, grain, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r)
      std::copy_n(src + r * stride, cols, dst + r * (cols + kRowPadding));
  });
  return copy;
}

// g with each aliasing k-major operand replaced by its padded copy, which
// `keep` holds until the product has run.
Gemm with_padded_k_rows(Gemm g, std::array<Tensor, 2>& keep) {
  if (g.dtype != DType::f32 || !g.batch.empty() || !sgemm_is_avx2()) return g;
  if (1.0 / double(g.m) + 1.0 / double(g.n) < kNoCopyThreshold) return g;
  if (worth_padding(g.a_strides[1], g.a_strides[0], g.k, g.m, g.n)) {  // A^T stored (K, M)
    keep[0] = padded_rows_copy(g.a, g.k, g.m, g.a_strides[1]);
    g.a = static_cast<const char*>(keep[0].raw_data());
    g.a_strides = {1, g.m + kRowPadding};
  }
  if (worth_padding(g.b_strides[0], g.b_strides[1], g.k, g.n, g.m)) {  // B stored (K, N)
    keep[1] = padded_rows_copy(g.b, g.k, g.n, g.b_strides[0]);
    g.b = static_cast<const char*>(keep[1].raw_data());
    g.b_strides = {g.n + kRowPadding, 1};
  }
  return g;
}

void onednn_gemm(const Gemm& original, dnnl::memory::data_type type) {
  std::array<Tensor, 2> padded;
  const Gemm g = with_padded_k_rows(original, padded);
  const dnnl::memory::desc a_md = operand_desc(g, g.m, g.k, g.a_strides, type);
  const dnnl::memory::desc b_md = operand_desc(g, g.k, g.n, g.b_strides, type);
  const dnnl::memory::desc c_md = operand_desc(g, g.m, g.n, g.c_strides, type);
  const dnnl::memory::desc bias_md = g.bias ? bias_desc(g, type) : dnnl::memory::desc();
  auto entry = primitive_cache().get_or_create(gemm_key(g), [&] {
    const auto desc = g.bias ? dnnl::matmul::desc(a_md, b_md, bias_md, c_md)
                             : dnnl::matmul::desc(a_md, b_md, c_md);
    const dnnl::matmul::primitive_desc pd = matmul_pd(g, desc);
    return MatmulPrimitive{pd, dnnl::matmul(pd)};
  });
  auto& engine = onednn::engine();
  std::unordered_map<int, dnnl::memory> args = {
      {DNNL_ARG_SRC, dnnl::memory(a_md, engine, const_cast<char*>(g.a))},
      {DNNL_ARG_WEIGHTS, dnnl::memory(b_md, engine, const_cast<char*>(g.b))},
      {DNNL_ARG_DST, dnnl::memory(c_md, engine, g.c)},
      {DNNL_ARG_SCRATCHPAD, onednn::scratchpad(entry->pd.scratchpad_desc())}};
  if (g.bias) args.emplace(DNNL_ARG_BIAS, dnnl::memory(bias_md, engine, const_cast<char*>(g.bias)));
  entry->primitive.execute(onednn::stream(), args);
  onednn::stream().wait();
}

// Whether oneDNN has a matmul for `t` on this CPU (bf16 needs AVX-512 BF16 or
// AMX, f16 newer still). Probed once per dtype with a small problem.
bool onednn_has_matmul(DType t) {
  static const auto probe = [](DType dt) {
    const auto type = onednn::data_type(dt);
    if (!type) return false;
    const dnnl::memory::desc md({16, 16}, *type, dnnl::memory::format_tag::ab);
    try {
      dnnl::matmul::primitive_desc(dnnl::matmul::desc(md, md, md), onednn::engine());
      return true;
    } catch (const dnnl::error&) {
      return false;
    }
  };
  static const bool f32 = probe(DType::f32), bf16 = probe(DType::bf16), f16 = probe(DType::f16);
  return t == DType::f32 ? f32 : t == DType::bf16 ? bf16 : t == DType::f16 ? f16 : false;
}

std::string describe_gemm_path(DType t) {
  if (onednn_has_matmul(t)) return fmt::format("{} matrix products in oneDNN's {} kernels", t, t);
  if (is_16_bit_float(t))
    return fmt::format("{} matrix products widened to f32 (this CPU has no {} GEMM instructions: it saves memory, "
                       "not time)",
                       t, t);
  return fmt::format("{} matrix products in dlt's loops", t);
}

const bool gemm_path_registered = [] {
  register_cpu_gemm_path(describe_gemm_path);
  return true;
}();

// ---- entry points ----------------------------------------------------------------

void fill_bias_or_zero(const Gemm& g) {
  visit_dtype(g.dtype, [&]<class T>() {
    T* c = reinterpret_cast<T*>(g.c);
    const T* bias = reinterpret_cast<const T*>(g.bias);
    const int64_t rows = numel_of(g.batch) * g.m;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < g.n; ++j) c[r * g.n + j] = bias ? bias[j] : T(0);
  });
}

void gemm(const Matrix& a, const Matrix& b, const Tensor& bias, Tensor& out) {
  if (out.numel() == 0) return;
  const Gemm g = plan_gemm(a, b, out, bias.defined() ? static_cast<const char*>(bias.raw_data())
                                                     : nullptr);
  if (g.k == 0) return fill_bias_or_zero(g);
  const auto type = onednn::data_type(g.dtype);
  if (is_floating(g.dtype) && type && onednn_has_matmul(g.dtype) &&
      g.batch.size() + 2 <= DNNL_MAX_NDIMS)
    return onednn_gemm(g, *type);
  visit_numeric(g.dtype, "matmul", [&]<class T>() {
    if constexpr (!std::is_same_v<T, bool>) loop_gemm<T>(g);  // bool was refused above
  });
}

// f16/bf16 without a oneDNN kernel on this CPU: an f32 GEMM on f32 copies
// (f32_copies.h; much faster than the loop).
bool needs_widening(DType t) { return is_16_bit_float(t) && !onednn_has_matmul(t); }

// ins: a, b (torch.matmul shapes, checked by the op layer); out: the result.
void matmul_kernel(const KernelCall& call) {
  Tensor& out = call.out[0];
  if (!needs_widening(out.dtype()))
    return gemm(lhs_matrix(call.in[0]), rhs_matrix(call.in[1]), Tensor(), out);
  const Tensor a = f32_copy(call.in[0]), b = f32_copy(call.in[1]);
  Tensor wide = f32_like(out);
  gemm(lhs_matrix(a), rhs_matrix(b), Tensor(), wide);
  round_into(out, wide);
}
DLT_REGISTER_KERNEL(matmul, cpu, matmul_kernel);

// ins: x (*, in), weight (out, in), bias (out) contiguous or undefined; out: (*, out).
void linear_kernel(const KernelCall& call) {
  Tensor& out = call.out[0];
  if (!needs_widening(out.dtype()))
    return gemm(lhs_matrix(call.in[0]), transposed_weight(call.in[1]), call.in[2], out);
  const Tensor x = f32_copy(call.in[0]), w = f32_copy(call.in[1]), bias = f32_copy(call.in[2]);
  Tensor wide = f32_like(out);
  gemm(lhs_matrix(x), transposed_weight(w), bias, wide);
  round_into(out, wide);
}
DLT_REGISTER_KERNEL(linear, cpu, linear_kernel);

}  // namespace
}  // namespace dlt::cpu
