// The dlt side of scripts/bench/ops.sh: times each op workload and prints one
// JSON line per row. scripts/bench/ops_torch.py does the same work in torch.
#include <fmt/core.h>

#include <string>
#include <vector>

#include "dlt/core/parallel.h"
#include "dlt/ops/ops.h"
#include "scripts/bench/timing.h"

namespace {

using namespace dlt;
using bench::time_median;

void report(const std::string& name, double value, const char* unit) {
  fmt::print("{{\"name\": \"{}\", \"value\": {:.4g}, \"unit\": \"{}\"}}\n", name, value, unit);
  std::fflush(stdout);
}

void bench_matmul() {
  for (int64_t n : {256, 512, 1024, 2048}) {
    const Tensor a = randn({n, n}), b = randn({n, n});
    const double s = time_median([&] { matmul(a, b); });
    report(fmt::format("matmul f32 {0}x{0}x{0}", n), 2.0 * double(n * n * n) / s / 1e9, "GFLOP/s");
  }
}

void bench_linear() {
  const Tensor x = randn({128, 784});
  Tensor w = (randn({512, 784}) * 0.03).requires_grad_();
  Tensor b = zeros({512}).requires_grad_();
  const Tensor g = randn({128, 512});
  const double s = time_median([&] {
    w.set_grad(Tensor());
    b.set_grad(Tensor());
    linear(x, w, b).backward(g);
  });
  report("linear 128x784->512 fwd+bwd", s * 1e3, "ms");
}

void bench_conv() {
  const Tensor x = randn({128, 32, 14, 14});
  Tensor w = (randn({64, 32, 3, 3}) * 0.05).requires_grad_();
  Tensor b = zeros({64}).requires_grad_();
  Tensor xg = x.detach().requires_grad_();
  const Tensor g = randn({128, 64, 14, 14});
  const double s = time_median([&] {
    w.set_grad(Tensor());
    b.set_grad(Tensor());
    xg.set_grad(Tensor());
    conv2d(xg, w, b, {1, 1}, {1, 1}).backward(g);
  });
  report("conv2d 128x32x14x14 -> 64 3x3 fwd+bwd", s * 1e3, "ms");
}

// The char-GPT's attention (configs/kjv_gpt.yaml): q, k and v strided views
// of one (B, T, 3, H, D) projection, as the model hands them over.
void bench_attention() {
  const int64_t B = 32, T = 128, H = 4, D = 32;
  const Tensor qkv = randn({B, T, 3, H, D});
  std::vector<Tensor> heads;
  for (int64_t i = 0; i < 3; ++i) heads.push_back(qkv.select(2, i).transpose(1, 2).detach().requires_grad_());
  const Tensor g = randn({B, H, T, D});
  const double s = time_median([&] {
    for (Tensor& t : heads) t.set_grad(Tensor());
    causal_attention(heads[0], heads[1], heads[2]).backward(g);
  });
  report("causal attention 32x4x128x32 fwd+bwd", s * 1e3, "ms");
}

void bench_rows() {
  const Tensor x = randn({4096, 1024});
  const double bytes = 2.0 * double(x.numel()) * 4;  // read + write
  report("softmax 4096x1024", bytes / time_median([&] { softmax(x, -1); }) / 1e9, "GB/s");
  const Tensor w = ones({1024}), b = zeros({1024});
  report("layer_norm 4096x1024", bytes / time_median([&] { layer_norm(x, {1024}, w, b); }) / 1e9,
         "GB/s");
}

void bench_elementwise() {
  const int64_t n = 16 << 20;
  const Tensor a = randn({n}), b = randn({n});
  const double binary_bytes = 3.0 * double(n) * 4, unary_bytes = 2.0 * double(n) * 4;
  report("add 16M f32", binary_bytes / time_median([&] { add(a, b); }) / 1e9, "GB/s");
  report("mul 16M f32", binary_bytes / time_median([&] { mul(a, b); }) / 1e9, "GB/s");
  report("gelu 16M f32", unary_bytes / time_median([&] { gelu(a); }) / 1e9, "GB/s");
  report("sum 16M f32", double(n) * 4 / time_median([&] { sum(a); }) / 1e9, "GB/s");
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::stoi(argv[1]) : 2;
  set_num_threads(threads);
  manual_seed(0);
  bench_matmul();
  bench_linear();
  bench_conv();
  bench_attention();
  bench_rows();
  bench_elementwise();
  return 0;
}
