// Which of oneDNN's f32 GEMM implementations is faster on the shapes dlt's
// training runs (kernels/cpu/matmul.cpp picks by this): the brgemm matmul
// oneDNN lists first on AVX-512, and its jit GEMM (the kernels behind
// dnnl_sgemm), each on operands in the layouts a linear layer gives them:
// NN (dx = dy w), NT (the forward's x w^T), TN (the weight gradient dy^T x).
// Median time of a call (scripts/bench/timing.h), operands hot in cache.
//
//   build/bench_gemm_paths [THREADS]          (default 2; scripts/bench/gemm_paths.sh)
#include <fmt/core.h>
#include <omp.h>

#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "scripts/bench/timing.h"

namespace dlt {
namespace {

using dnnl::memory;

struct Shape {
  const char* what;
  int64_t m, k, n;
  bool a_transposed, b_transposed;
};

// GFLOP/s of C (m, n) = op(A) (m, k) op(B) (k, n) through the implementation
// whose name starts with `impl` (the first listed when empty); 0 when it has none.
double gflops(const Shape& s, std::string_view impl, std::string& name) {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  static dnnl::stream stream(engine);
  using tag = memory::format_tag;
  const memory::desc a({s.m, s.k}, memory::data_type::f32, s.a_transposed ? tag::ba : tag::ab);
  const memory::desc b({s.k, s.n}, memory::data_type::f32, s.b_transposed ? tag::ba : tag::ab);
  const memory::desc c({s.m, s.n}, memory::data_type::f32, tag::ab);
  // next_impl() reads the op desc again: it must outlive the iteration.
  const dnnl::matmul::desc desc(a, b, c);
  dnnl::matmul::primitive_desc pd(desc, engine);
  while (!std::string_view(pd.impl_info_str()).starts_with(impl))
    if (!pd.next_impl()) return 0;
  name = pd.impl_info_str();
  std::vector<float> av(size_t(s.m * s.k), 0.5f), bv(size_t(s.k * s.n), 0.25f), cv(size_t(s.m * s.n));
  memory am(a, engine, av.data()), bm(b, engine, bv.data()), cm(c, engine, cv.data());
  dnnl::matmul primitive(pd);
  const double t = bench::time_median([&] {
    primitive.execute(stream, {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}});
    stream.wait();
  });
  return 2.0 * double(s.m * s.k * s.n) / t / 1e9;
}

}  // namespace
}  // namespace dlt

int main(int argc, char** argv) {
  omp_set_num_threads(argc > 1 ? std::stoi(argv[1]) : 2);
  // GPT rows of scripts/bench/gpt_sweep.sh (C 512, 2048 tokens; C 256, 4096
  // tokens), the MLP's (batch 128), and square products.
  const dlt::Shape shapes[] = {
      {"GPT 512 dx, mlp.proj", 2048, 2048, 512, false, false},
      {"GPT 512 dx, mlp.fc", 2048, 512, 2048, false, false},
      {"GPT 512 dx, attn.qkv", 2048, 1536, 512, false, false},
      {"GPT 512 dx, attn.proj", 2048, 512, 512, false, false},
      {"GPT 256 dx, mlp.proj", 4096, 1024, 256, false, false},
      {"GPT 256 dx, mlp.fc", 4096, 256, 1024, false, false},
      {"MLP dx, 512 -> 512", 128, 512, 512, false, false},
      {"square 1024^3", 1024, 1024, 1024, false, false},
      {"square 2048^3", 2048, 2048, 2048, false, false},
      {"GPT 512 forward, mlp.fc", 2048, 512, 2048, false, true},
      {"GPT 512 forward, attn.qkv", 2048, 512, 1536, false, true},
      {"GPT 512 forward, mlp.proj", 2048, 2048, 512, false, true},
      {"GPT 512 forward, attn.proj", 2048, 512, 512, false, true},
      {"GPT 256 forward, mlp.fc", 4096, 256, 1024, false, true},
      {"GPT 256 forward, attn.qkv", 4096, 256, 768, false, true},
      {"GPT 256 forward, mlp.proj", 4096, 1024, 256, false, true},
      {"MLP forward, 784 -> 512", 128, 784, 512, false, true},
      {"MLP forward, 512 -> 512", 128, 512, 512, false, true},
      {"n = 2k", 2048, 1024, 2048, false, true},
      {"square 2048^3", 2048, 2048, 2048, false, true},
      {"GPT 512 dw, mlp.proj", 512, 2048, 2048, true, false},
      {"GPT 512 dw, attn.proj", 512, 2048, 512, true, false},
      {"GPT 512 dw, mlp.fc", 2048, 2048, 512, true, false},
      {"GPT 512 dw, attn.qkv", 1536, 2048, 512, true, false},
      {"GPT 256 dw, mlp.proj", 256, 4096, 1024, true, false},
      {"GPT 256 dw, attn.proj", 256, 4096, 256, true, false},
      {"GPT 256 dw, mlp.fc", 1024, 4096, 256, true, false},
      {"GPT 256 dw, attn.qkv", 768, 4096, 256, true, false},
      {"MLP dw, 512 -> 512", 512, 128, 512, true, false},
      {"m = n", 1024, 2048, 1024, true, false},
      {"m = 2n", 1024, 2048, 512, true, false},
      {"square 2048^3", 2048, 2048, 2048, true, false},
  };
  fmt::print("| shape | m x k x n | layout | brgemm GFLOP/s | jit GEMM GFLOP/s | jit / brgemm |\n");
  fmt::print("|---|---|---|---|---|---|\n");
  for (const dlt::Shape& s : shapes) {
    std::string first, jit;
    const double a = dlt::gflops(s, "", first), b = dlt::gflops(s, "gemm:jit", jit);
    fmt::print("| {} | {} x {} x {} | {}{} | {:.0f} ({}) | {:.0f} | {:.2f}x |\n", s.what, s.m, s.k, s.n,
               s.a_transposed ? 'T' : 'N', s.b_transposed ? 'T' : 'N', a, first, b, a > 0 ? b / a : 0);
  }
}
