// The tensor-core attention kernels (kernels/cuda/attention_mma.cuh) run on
// the CPU under wmma_emulation.h, against attention in float64: their tiles,
// causal masks, skipped blocks, grouped-query heads and shared-memory layout,
// on every machine. On a GPU, tests/cuda/test_cuda_attention.cpp runs the same
// kernels for real.
#include "tests/emulated/wmma_emulation.h"
// The emulation first: the kernels see its names.
#include "kernels/cuda/attention_mma.cuh"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace dlt::gpu::attention::mma {
alignas(128) unsigned char smem[256 * 1024];  // the kernels' extern __shared__ buffer
}  // namespace dlt::gpu::attention::mma

namespace dlt::gpu::attention {
namespace {

struct Shape {
  int batch, heads, kv_heads, len, dim;
};

// (B, H, T, D) contiguous, in float64: the reference's operands and results.
struct Head4 {
  std::vector<double> data;
  Shape s;
  int h;  // heads of this operand
  double at(int b, int head, int t, int d) const {
    return data[((size_t(b) * h + head) * s.len + t) * s.dim + d];
  }
};

struct Results {
  std::vector<double> out, dq, dk, dv;  // dk and dv per query head
};

// out, dq, dk, dv of causal attention in float64; dk and dv per query head.
Results reference(const Shape& s, const Head4& q, const Head4& k, const Head4& v,
                  const Head4& g, double scale) {
  const int L = s.len, D = s.dim, group = s.heads / s.kv_heads;
  Results r;
  const size_t n = size_t(s.batch) * s.heads * L * D;
  r.out.assign(n, 0), r.dq.assign(n, 0), r.dk.assign(n, 0), r.dv.assign(n, 0);
  std::vector<double> p(size_t(L) * L);
  for (int b = 0; b < s.batch; ++b)
    for (int h = 0; h < s.heads; ++h) {
      const int kh = h / group;
      const auto idx = [&](int t, int d) { return ((size_t(b) * s.heads + h) * L + t) * D + d; };
      for (int i = 0; i < L; ++i) {
        double mx = -INFINITY, sum = 0;
        for (int j = 0; j <= i; ++j) {
          double dot = 0;
          for (int d = 0; d < D; ++d) dot += q.at(b, h, i, d) * k.at(b, kh, j, d);
          p[size_t(i) * L + j] = dot * scale;
          mx = std::max(mx, dot * scale);
        }
        for (int j = 0; j <= i; ++j) sum += std::exp(p[size_t(i) * L + j] - mx);
        for (int j = 0; j <= i; ++j) {
          double& w = p[size_t(i) * L + j];
          w = std::exp(w - mx) / sum;
          for (int d = 0; d < D; ++d) r.out[idx(i, d)] += w * v.at(b, kh, j, d);
        }
      }
      for (int i = 0; i < L; ++i) {
        double row_dot = 0;
        for (int d = 0; d < D; ++d) row_dot += g.at(b, h, i, d) * r.out[idx(i, d)];
        for (int j = 0; j <= i; ++j) {
          double dp = 0;
          for (int d = 0; d < D; ++d) dp += g.at(b, h, i, d) * v.at(b, kh, j, d);
          const double w = p[size_t(i) * L + j], ds = w * (dp - row_dot);
          for (int d = 0; d < D; ++d) {
            r.dq[idx(i, d)] += scale * ds * k.at(b, kh, j, d);
            r.dk[idx(j, d)] += scale * ds * q.at(b, h, i, d);
            r.dv[idx(j, d)] += w * g.at(b, h, i, d);
          }
        }
      }
    }
  return r;
}

// The kernels on operands of type T drawn from a normal distribution, against
// the reference from the same rounded values: every result within
// tol * max(1, largest reference value).
template <class T> void expect_kernels_match(const Shape& s, double tol, unsigned seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> normal;
  const size_t nq = size_t(s.batch) * s.heads * s.len * s.dim;
  const size_t nkv = size_t(s.batch) * s.kv_heads * s.len * s.dim;
  const auto draw = [&](size_t n, int heads, Head4& wide) {
    std::vector<T> x(n);
    wide = Head4{std::vector<double>(n), s, heads};
    for (size_t i = 0; i < n; ++i) {
      x[i] = convert<T>(normal(gen));
      wide.data[i] = convert<float>(x[i]);
    }
    return x;
  };
  Head4 q64, k64, v64, g64;
  std::vector<T> q = draw(nq, s.heads, q64), k = draw(nkv, s.kv_heads, k64),
                 v = draw(nkv, s.kv_heads, v64), g = draw(nq, s.heads, g64);
  std::vector<T> out(nq), dq(nq), dk(nq), dv(nq);
  std::vector<float> lse(size_t(s.batch) * s.heads * s.len), row_dot(lse.size());
  const double scale = 1.0 / std::sqrt(double(s.dim));

  const auto heads_of = [&](std::vector<T>& x, int heads) {
    return Heads{x.data(), int64_t(heads) * s.len * s.dim, int64_t(s.len) * s.dim, s.dim};
  };
  Problem p;
  p.batch_heads = int64_t(s.batch) * s.heads;
  p.heads = s.heads;
  p.group = s.heads / s.kv_heads;
  p.len = s.len;
  p.dim = s.dim;
  p.scale = scale;
  p.scale2 = scale * kLog2e;
  p.scale2_f = float(p.scale2);
  visit_head_dim(s.dim, [&]<int D>() {
    using namespace mma;
    constexpr int B = inner_tile<T, D>();
    static_assert(ForwardSmem<T, D, B>::bytes <= sizeof smem && DqSmem<T, D, B>::bytes <= sizeof smem &&
                  DkDvSmem<T, D, B>::bytes <= sizeof smem);
    const unsigned grid = grid_of(p, kRows);
    emulated::launch(grid, kThreads, smem, sizeof smem, forward_kernel<T, D, B>, heads_of(out, s.heads),
                     lse.data(), heads_of(q, s.heads), heads_of(k, s.kv_heads), heads_of(v, s.kv_heads), p);
    for (size_t r = 0; r < row_dot.size(); ++r) {
      double sum = 0;
      for (int d = 0; d < s.dim; ++d)
        sum += double(convert<float>(g[r * s.dim + d])) * convert<float>(out[r * s.dim + d]);
      row_dot[r] = float(sum);
    }
    const float *ls = lse.data(), *rd = row_dot.data();
    emulated::launch(grid, kThreads, smem, sizeof smem, dkdv_kernel<T, D, B>, heads_of(dk, s.heads),
                     heads_of(dv, s.heads), heads_of(g, s.heads), heads_of(q, s.heads),
                     heads_of(k, s.kv_heads), heads_of(v, s.kv_heads), ls, rd, p);
    emulated::launch(grid, kThreads, smem, sizeof smem, dq_kernel<T, D, B>, heads_of(dq, s.heads),
                     heads_of(g, s.heads), heads_of(q, s.heads), heads_of(k, s.kv_heads),
                     heads_of(v, s.kv_heads), ls, rd, p);
  });

  const Results want = reference(s, q64, k64, v64, g64, scale);
  const auto expect_near = [&](const char* what, const std::vector<T>& got, const std::vector<double>& ref) {
    double err = 0, largest = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
      err = std::max(err, std::abs(double(convert<float>(got[i])) - ref[i]));
      largest = std::max(largest, std::abs(ref[i]));
    }
    EXPECT_LE(err, tol * std::max(1.0, largest))
        << what << " of B=" << s.batch << " H=" << s.heads << " Hkv=" << s.kv_heads << " T=" << s.len
        << " D=" << s.dim << " (largest " << largest << ")";
  };
  expect_near("out", out, want.out);
  expect_near("dq", dq, want.dq);
  expect_near("dk", dk, want.dk);
  expect_near("dv", dv, want.dv);
}

// Lengths around the 64-row blocks and 16-row warp tiles, head sizes padded
// to 32, 64 and 128 (1, 40 and 80 among them).
TEST(EmulatedTensorCoreAttention, Float16) {
  for (const Shape& s : {Shape{1, 2, 2, 1, 32}, Shape{1, 2, 2, 17, 16}, Shape{1, 1, 1, 129, 64},
                         Shape{1, 1, 1, 70, 40}, Shape{1, 1, 1, 65, 1}, Shape{1, 1, 1, 20, 100}})
    expect_kernels_match<__half>(s, 1e-2, unsigned(s.len * 131 + s.dim));
}

TEST(EmulatedTensorCoreAttention, Bfloat16WithGroupedQueryHeads) {
  for (const Shape& s : {Shape{2, 4, 1, 77, 64}, Shape{1, 2, 1, 100, 32}, Shape{1, 1, 1, 40, 128}})
    expect_kernels_match<__nv_bfloat16>(s, 4e-2, unsigned(s.len * 131 + s.dim));
}

// float32 as TF32 takes 32-wide inner tiles at D = 128.
TEST(EmulatedTensorCoreAttention, Tf32) {
  for (const Shape& s : {Shape{1, 1, 1, 100, 128}, Shape{1, 1, 1, 64, 80}, Shape{1, 2, 2, 33, 64},
                         Shape{1, 1, 1, 33, 24}})
    expect_kernels_match<float>(s, 1e-2, unsigned(s.len * 131 + s.dim));
}

// Every configuration fits sm_80's 163 KiB (and so sm_90's 227). The 99 KiB of
// sm_86/89/120 take the half types up to D = 64, GPT-2's head size, and
// nothing larger: use_tensor_cores() sends the rest to the FMA kernels.
TEST(EmulatedTensorCoreAttention, SharedMemoryPerConfiguration) {
  using mma::shared_bytes;
  constexpr size_t sm80 = 163 * 1024, sm86 = 99 * 1024;
  constexpr size_t f16_64 = shared_bytes<__half, 64>(), bf16_64 = shared_bytes<__nv_bfloat16, 64>();
  constexpr size_t bf16_128 = shared_bytes<__nv_bfloat16, 128>(), tf32_32 = shared_bytes<float, 32>();
  EXPECT_LE(f16_64, sm86);
  EXPECT_LE(bf16_64, sm86);
  EXPECT_GT(bf16_128, sm86);
  EXPECT_GT(tf32_32, sm86);
  for (int dim : {32, 64, 128})
    visit_head_dim(dim, [&]<int D>() {
      const size_t f16 = shared_bytes<__half, D>(), bf16 = shared_bytes<__nv_bfloat16, D>(),
                   tf32 = shared_bytes<float, D>();
      EXPECT_LE(f16, sm80) << "D=" << D;
      EXPECT_LE(bf16, sm80) << "D=" << D;
      EXPECT_LE(tf32, sm80) << "D=" << D;
    });
  // The largest of the three kernels decides.
  constexpr int B = mma::inner_tile<float, 64>();
  constexpr size_t largest = std::max({mma::ForwardSmem<float, 64, B>::bytes, mma::DqSmem<float, 64, B>::bytes,
                                       mma::DkDvSmem<float, 64, B>::bytes});
  EXPECT_EQ((shared_bytes<float, 64>()), largest);
}

}  // namespace
}  // namespace dlt::gpu::attention
