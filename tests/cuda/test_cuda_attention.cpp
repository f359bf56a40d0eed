// The fused causal_attention kernels on a CUDA device against the unfused
// path (matmul, mask, softmax, matmul) on the same device, forward and
// backward, over sequence lengths around the kernels' tiles (32 and 64
// rows) and the head sizes they are built for. Skipped without a device.
#include <chrono>

#include "dlt/core/device_runtime.h"
#include "dlt/nn/layers/multihead_attention.h"
#include "tests/cuda/gpu_compare.h"
#include "tests/ops/attention_reference.h"
#include "tests/test_util.h"

namespace dlt::testing {
namespace {

struct Inputs4 {
  Tensor q, k, v, upstream;
};

// Drawn on the CPU in float32 (the same values for every device), then moved.
Inputs4 draw(const Shape& shape, DType dtype, Device device, uint64_t seed) {
  Generator gen(seed);
  auto one = [&] { return randn(shape, DType::f32, &gen).to(dtype).to(device); };
  Inputs4 in;
  in.q = one();
  in.k = one();
  in.v = one();
  in.upstream = one();
  return in;
}

void expect_runs_close(const AttentionRun& a, const AttentionRun& b, double rtol, double atol,
                       const std::string& what) {
  expect_close(a.out.to(DType::f64), b.out.to(DType::f64), rtol, atol, what + " out");
  expect_close(a.dq.to(DType::f64), b.dq.to(DType::f64), rtol, atol, what + " dq");
  expect_close(a.dk.to(DType::f64), b.dk.to(DType::f64), rtol, atol, what + " dk");
  expect_close(a.dv.to(DType::f64), b.dv.to(DType::f64), rtol, atol, what + " dv");
}

// float32: both sides sum up to T products of unit-variance values in
// different orders (the unfused side through cuBLAS); 1024-long rows stay
// within 2e-4 relative and absolute.
TEST(CudaAttention, FusedMatchesUnfusedInFloat32) {
  DLT_SKIP_WITHOUT_CUDA();
  for (const int64_t t : {1, 7, 64, 129, 1024})
    for (const int64_t d : {32, 64, 128}) {
      const Inputs4 in = draw({2, 3, t, d}, DType::f32, Device::cuda(), uint64_t(t * 1000 + d));
      const AttentionRun fused = run_attention(true, in.q, in.k, in.v, in.upstream);
      const AttentionRun unfused = run_attention(false, in.q, in.k, in.v, in.upstream);
      expect_runs_close(fused, unfused, 2e-4, 2e-4, fmt::format("T={} D={}", t, d));
    }
}

// Grouped-query attention: k and v with fewer heads, read in place by the
// forward and dq kernels; dk and dv summed per group after the dkdv kernel.
TEST(CudaAttention, GroupedQueryHeadsMatchRepeatedKeysAndValues) {
  DLT_SKIP_WITHOUT_CUDA();
  for (const auto& [heads, kv_heads] : {std::pair{4, 2}, {8, 2}, {4, 1}})
    for (const int64_t t : {1, 65, 129})
      for (const DType dtype : {DType::f32, DType::f64}) {
        Generator gen(uint64_t(heads * 100 + kv_heads * 10 + t));
        const auto draw_on_cuda = [&](int64_t h) {
          return randn({2, h, t, 64}, DType::f32, &gen).to(dtype).to(Device::cuda());
        };
        const Tensor q = draw_on_cuda(heads), k = draw_on_cuda(kv_heads), v = draw_on_cuda(kv_heads);
        const Tensor upstream = draw_on_cuda(heads);
        const double tol = dtype == DType::f32 ? 2e-4 : 1e-10;
        expect_runs_close(run_attention(true, q, k, v, upstream),
                          run_attention(false, q, k, v, upstream), tol, tol,
                          fmt::format("H={} Hkv={} T={} {}", heads, kv_heads, t, dtype_name(dtype)));
      }
}

// float64 runs the same kernels with 32-row tiles: agreement to rounding.
TEST(CudaAttention, FusedMatchesUnfusedInFloat64) {
  DLT_SKIP_WITHOUT_CUDA();
  for (const int64_t t : {1, 33, 100})
    for (const int64_t d : {32, 64, 128}) {
      const Inputs4 in = draw({1, 2, t, d}, DType::f64, Device::cuda(), uint64_t(t * 7 + d));
      expect_runs_close(run_attention(true, in.q, in.k, in.v, in.upstream),
                        run_attention(false, in.q, in.k, in.v, in.upstream), 1e-10, 1e-10,
                        fmt::format("f64 T={} D={}", t, d));
    }
}

// Head sizes between the kernels' padded sizes (32, 64, 128) pad with zeros.
TEST(CudaAttention, HeadSizesThatAreNotPowersOfTwo) {
  DLT_SKIP_WITHOUT_CUDA();
  for (const int64_t d : {1, 16, 40, 80, 127}) {
    const Inputs4 in = draw({2, 2, 70, d}, DType::f32, Device::cuda(), uint64_t(d));
    expect_runs_close(run_attention(true, in.q, in.k, in.v, in.upstream),
                      run_attention(false, in.q, in.k, in.v, in.upstream), 2e-4, 2e-4,
                      fmt::format("D={}", d));
  }
}

// The GPU kernels against the CPU's fused op (float64 on both).
TEST(CudaAttention, MatchesTheCpu) {
  DLT_SKIP_WITHOUT_CUDA();
  const Inputs4 cpu = draw({2, 3, 77, 64}, DType::f64, Device::cpu(), 9);
  const Inputs4 gpu{cpu.q.to(Device::cuda()), cpu.k.to(Device::cuda()), cpu.v.to(Device::cuda()),
                    cpu.upstream.to(Device::cuda())};
  expect_runs_close(run_attention(true, gpu.q, gpu.k, gpu.v, gpu.upstream),
                    run_attention(true, cpu.q, cpu.k, cpu.v, cpu.upstream), 1e-10, 1e-10, "gpu vs cpu");
}

// The heads of a fused (B, T, 3, H, D) projection, as MultiHeadAttention
// passes them: strided over B, H and T.
TEST(CudaAttention, StridedHeads) {
  DLT_SKIP_WITHOUT_CUDA();
  Generator gen(4);
  const int64_t b = 2, t = 100, h = 3, d = 64;
  const Tensor qkv = randn({b, t, 3, h, d}, DType::f32, &gen).to(Device::cuda()).permute({2, 0, 3, 1, 4});
  const Tensor q = qkv.select(0, 0), k = qkv.select(0, 1), v = qkv.select(0, 2);
  const Tensor upstream = randn({b, h, t, d}, DType::f32, &gen).to(Device::cuda());
  expect_runs_close(run_attention(true, q, k, v, upstream),
                    run_attention(true, q.contiguous(), k.contiguous(), v.contiguous(), upstream),
                    0, 0, "strided vs contiguous");
}

// float16 / bfloat16 compute in float32 and round their results: against
// float32 from the same rounded inputs, a few ulps of the half type.
TEST(CudaAttention, HalfTypesAgainstFloat32) {
  DLT_SKIP_WITHOUT_CUDA();
  for (const auto& [dtype, tol] : {std::pair{DType::f16, 4e-3}, {DType::bf16, 3e-2}}) {
    const Inputs4 in = draw({2, 2, 129, 64}, dtype, Device::cuda(), 21);
    const AttentionRun half = run_attention(true, in.q, in.k, in.v, in.upstream);
    const AttentionRun full = run_attention(true, in.q.to(DType::f32), in.k.to(DType::f32),
                                            in.v.to(DType::f32), in.upstream.to(DType::f32));
    expect_runs_close(half, full, tol, tol, fmt::format("{}", dtype_name(dtype)));
  }
}

// Repeated runs give identical bits: no atomics in the backward.
TEST(CudaAttention, Deterministic) {
  DLT_SKIP_WITHOUT_CUDA();
  const Inputs4 in = draw({2, 4, 300, 64}, DType::f32, Device::cuda(), 5);
  const AttentionRun a = run_attention(true, in.q, in.k, in.v, in.upstream);
  const AttentionRun b = run_attention(true, in.q, in.k, in.v, in.upstream);
  expect_runs_close(a, b, 0, 0, "rerun");
}

TEST(CudaAttention, RejectsHeadSizesAbove128) {
  DLT_SKIP_WITHOUT_CUDA();
  const Tensor q = zeros({1, 1, 4, 129}, TensorOptions().device(Device::cuda()));
  expect_error([&] { causal_attention(q, q, q); }, {"causal_attention", "128", "[1, 1, 4, 129]"});
}

// GPT-2 small's attention (B=8, H=12, T=1024, D=64, float32): the fused op
// must beat the unfused path forward and forward + backward. A timing, so
// off by default: --gtest_also_run_disabled_tests --gtest_filter='*FusedIsFaster*'.
TEST(CudaAttention, DISABLED_FusedIsFasterThanUnfusedGpt2Small) {
  DLT_SKIP_WITHOUT_CUDA();
  const Inputs4 in = draw({8, 12, 1024, 64}, DType::f32, Device::cuda(), 1);
  const double scale = 0.125;
  auto time_ms = [](auto&& f) {
    for (int i = 0; i < 3; ++i) f();
    synchronize(Device::cuda());
    const int reps = 20;
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < reps; ++i) f();
    synchronize(Device::cuda());
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / reps;
  };
  const double fused_fwd = time_ms([&] { causal_attention(in.q, in.k, in.v, scale); });
  const double unfused_fwd = time_ms([&] { unfused_causal_attention(in.q, in.k, in.v, scale); });
  const double fused_all = time_ms([&] { run_attention(true, in.q, in.k, in.v, in.upstream); });
  const double unfused_all = time_ms([&] { run_attention(false, in.q, in.k, in.v, in.upstream); });
  std::printf("causal attention B=8 H=12 T=1024 D=64 f32: forward fused %.3f ms, unfused %.3f ms; "
              "forward+backward fused %.3f ms, unfused %.3f ms\n",
              fused_fwd, unfused_fwd, fused_all, unfused_all);
  EXPECT_LT(fused_fwd, unfused_fwd);
  EXPECT_LT(fused_all, unfused_all);
}

}  // namespace
}  // namespace dlt::testing

namespace dlt::testing {
namespace {

// x (B, T, C) and upstream through `cpu` and its copy `gpu` (on cuda), forward
// and backward: output, input gradient and every parameter's gradient.
void expect_layer_matches_cpu(nn::MultiHeadAttention& cpu, nn::MultiHeadAttention& gpu,
                              const Tensor& x, const Tensor& upstream) {
  const Tensor xc = x.clone().requires_grad_(), xg = x.to(Device::cuda()).requires_grad_();
  const Tensor yc = cpu(xc), yg = gpu(xg);
  yc.backward(upstream);
  yg.backward(upstream.to(Device::cuda()));
  expect_close(yg.to(Device::cpu()), yc, 1e-9, 1e-10, "output");
  expect_close(xg.grad().to(Device::cpu()), xc.grad(), 1e-9, 1e-10, "input gradient");
  const auto pc = cpu.named_parameters(), pg = gpu.named_parameters();
  ASSERT_EQ(pc.size(), pg.size());
  for (size_t i = 0; i < pc.size(); ++i)
    expect_close(pg[i].second.grad().to(Device::cpu()), pc[i].second.grad(), 1e-9, 1e-10,
                 pc[i].first + " gradient");
}

// The layer on cuda (fused attention over the packed projection, its own
// backward) against the same weights on the CPU.
TEST(CudaAttentionLayer, FusedPackedPathMatchesTheCpuPath) {
  DLT_SKIP_WITHOUT_CUDA();
  Generator gen(5);
  nn::BuildContext ctx{&gen, DType::f64};
  const nn::MultiHeadAttentionOptions o{.heads = 4, .causal = true, .bias = true};
  auto cpu = std::make_shared<nn::MultiHeadAttention>(o, Shape{37, 64}, ctx);
  auto gpu = std::make_shared<nn::MultiHeadAttention>(o, Shape{37, 64}, ctx);
  gpu->load_state_dict(cpu->state_dict());
  gpu->to(Device::cuda());
  const Tensor x = randn({3, 37, 64}, DType::f64, &gen);
  const Tensor upstream = randn({3, 37, 64}, DType::f64, &gen);
  expect_layer_matches_cpu(*cpu, *gpu, x, upstream);
}

// Weight dropout in training: the CPU drops inside the fused op, cuda takes
// the unfused path (its kernels take no dropout); both draw the same masks.
TEST(CudaAttentionLayer, TrainingDropoutMatchesTheCpuOnTheUnfusedPath) {
  DLT_SKIP_WITHOUT_CUDA();
  Generator gen(6), cpu_drops(41), gpu_drops(41);
  nn::BuildContext cpu_ctx{&cpu_drops, DType::f64}, gpu_ctx{&gpu_drops, DType::f64};
  const nn::MultiHeadAttentionOptions o{.heads = 2, .causal = true, .dropout = 0.25};
  auto cpu = std::make_shared<nn::MultiHeadAttention>(o, Shape{19, 16}, cpu_ctx);
  auto gpu = std::make_shared<nn::MultiHeadAttention>(o, Shape{19, 16}, gpu_ctx);
  gpu->load_state_dict(cpu->state_dict());
  gpu->to(Device::cuda());
  cpu_drops.set_state(41, 0);
  gpu_drops.set_state(41, 0);
  const Tensor x = randn({2, 19, 16}, DType::f64, &gen), upstream = randn({2, 19, 16}, DType::f64, &gen);
  expect_layer_matches_cpu(*cpu, *gpu, x, upstream);
  EXPECT_EQ(cpu_drops.offset(), gpu_drops.offset());
  const Tensor q = zeros({1, 1, 4, 8}, TensorOptions(DType::f32).device(Device::cuda()));
  expect_error([&] { causal_attention(q, q, q, std::nullopt, 0.1); },
               {"causal_attention", "dropout", "CPU only"});
}

}  // namespace
}  // namespace dlt::testing
