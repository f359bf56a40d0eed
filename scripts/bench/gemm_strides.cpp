// How oneDNN's f32 matmul runs when an operand stored k-major (B as (K, N),
// or A^T stored (K, M), the weight gradient's dy^T) has rows whose stride is
// a multiple of 2 KiB, against the same product on copies whose rows are 64
// bytes longer, copy time included: the evidence for kernels/cpu/matmul.cpp's
// padded copies. Each shape runs the four variants (as stored, A copied, B
// copied, both) in turn, several rounds, so the machine's drift hits them
// alike; the table gives each variant's median GFLOP/s.
//
//   build/bench_gemm_strides [THREADS] [IMPL]   (default 2, oneDNN's first
//       choice; IMPL, e.g. gemm:jit, takes the first implementation whose
//       name starts with it, as kernels/cpu/matmul.cpp may on AVX-512)
#include <fmt/core.h>
#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <oneapi/dnnl/dnnl.hpp>
#include <vector>

#include "scripts/bench/timing.h"

namespace dlt {
namespace {

using dnnl::memory;

constexpr int64_t kPadding = 16;  // f32 elements: 64 bytes

struct Shape {
  const char* what;
  int64_t m, k, n;
  bool a_transposed;  // A^T stored (K, M); B is always stored (K, N)
};

// A matrix stored as `rows` rows of `cols` f32, `stride` apart, 64-byte
// aligned as dlt's allocator aligns tensors (where an operand starts matters
// to these kernels too).
struct Stored {
  int64_t rows, cols, stride;
  std::unique_ptr<float, decltype(&std::free)> data;
  Stored(int64_t r, int64_t c, int64_t s)
      : rows(r), cols(c), stride(s),
        data(static_cast<float*>(std::aligned_alloc(64, size_t(r * s * 4 + 63) / 64 * 64)), &std::free) {
    std::fill_n(data.get(), r * s, 0.5f);
  }
};

void copy_rows(const Stored& from, Stored& to) {
#pragma omp parallel for
  for (int64_t r = 0; r < from.rows; ++r)
    std::copy_n(from.data.get() + r * from.stride, from.cols, to.data.get() + r * to.stride);
}

// One product C (m, n) = op(A) (m, k) B (k, n) on operands as stored; with
// `copy_a` / `copy_b` the operand is first copied into its padded twin.
class Product {
 public:
  Product(const Shape& s, bool copy_a, bool copy_b, std::string_view impl)
      : s_(s), copy_a_(copy_a), copy_b_(copy_b),
        a_(s.a_transposed ? s.k : s.m, s.a_transposed ? s.m : s.k, s.a_transposed ? s.m : s.k),
        b_(s.k, s.n, s.n),
        a_pad_(a_.rows, a_.cols, a_.cols + kPadding), b_pad_(b_.rows, b_.cols, b_.cols + kPadding),
        c_(size_t(s.m * s.n)) {
    const Stored& a = copy_a ? a_pad_ : a_;
    const Stored& b = copy_b ? b_pad_ : b_;
    const memory::dims a_strides = s.a_transposed ? memory::dims{1, a.stride} : memory::dims{a.stride, 1};
    a_md_ = memory::desc({s.m, s.k}, memory::data_type::f32, a_strides);
    b_md_ = memory::desc({s.k, s.n}, memory::data_type::f32, {b.stride, 1});
    c_md_ = memory::desc({s.m, s.n}, memory::data_type::f32, {s.n, 1});
    // next_impl() reads the op desc again: it must outlive the search.
    const dnnl::matmul::desc desc(a_md_, b_md_, c_md_);
    pd_ = dnnl::matmul::primitive_desc(desc, engine());
    while (!std::string_view(pd_.impl_info_str()).starts_with(impl))
      if (!pd_.next_impl()) throw std::runtime_error(fmt::format("no oneDNN matmul named {}*", impl));
    primitive_ = dnnl::matmul(pd_);
  }

  void run() {
    if (copy_a_) copy_rows(a_, a_pad_);
    if (copy_b_) copy_rows(b_, b_pad_);
    Stored& a = copy_a_ ? a_pad_ : a_;
    Stored& b = copy_b_ ? b_pad_ : b_;
    primitive_.execute(stream(), {{DNNL_ARG_SRC, memory(a_md_, engine(), a.data.get())},
                                  {DNNL_ARG_WEIGHTS, memory(b_md_, engine(), b.data.get())},
                                  {DNNL_ARG_DST, memory(c_md_, engine(), c_.data())}});
    stream().wait();
  }

  double gflops(double seconds) const { return 2.0 * double(s_.m * s_.k * s_.n) / seconds / 1e9; }
  std::string impl() const { return pd_.impl_info_str(); }

 private:
  static dnnl::engine& engine() {
    static dnnl::engine e(dnnl::engine::kind::cpu, 0);
    return e;
  }
  static dnnl::stream& stream() {
    static dnnl::stream s(engine());
    return s;
  }

  Shape s_;
  bool copy_a_, copy_b_;
  Stored a_, b_, a_pad_, b_pad_;
  std::vector<float> c_;
  memory::desc a_md_, b_md_, c_md_;
  dnnl::matmul::primitive_desc pd_;
  dnnl::matmul primitive_;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// The table, through the oneDNN implementation whose name starts with `impl`.
void print_table(const std::string& impl) {
  // The char-LSTM's (kjv_lstm.yaml: 32 x 128 tokens, hidden 256), the MLP's
  // (batch 128) and the char-GPT's (kjv_gpt.yaml: width 128, 4096 tokens)
  // products, square ones, and an LSTM time step's, whose 32 rows do not
  // repay a copy.
  const Shape shapes[] = {
      {"LSTM d W_hh, d W_ih layer 2", 1024, 4096, 256, true},
      {"LSTM d W_ih layer 1", 1024, 4096, 64, true},
      {"LSTM step dh", 32, 1024, 256, false},
      {"MLP dx, 512 -> 512", 128, 512, 512, false},
      {"MLP dw, 512 -> 512", 512, 128, 512, true},
      {"MLP dw, 784 -> 512", 512, 128, 784, true},
      {"square 512^3", 512, 512, 512, false},
      {"square 1024^3", 1024, 1024, 1024, false},
      {"square 2048^3", 2048, 2048, 2048, false},
      {"GPT 512 dw, mlp.fc (2048 tokens)", 2048, 2048, 512, true},
      {"char-GPT dw, mlp.fc (4096 tokens)", 512, 4096, 128, true},
      {"char-GPT dw, mlp.proj", 128, 4096, 512, true},
      {"char-GPT dx, attn.qkv", 4096, 384, 128, false},
  };
  constexpr int kRounds = 5;
  fmt::print("| shape | m x k x n | layout | impl | as stored | A copied | B copied | both copied |\n");
  fmt::print("|---|---|---|---|---|---|---|---|\n");
  for (const Shape& s : shapes) {
    std::vector<Product> variants;
    for (int v = 0; v < 4; ++v) variants.emplace_back(s, (v & 1) != 0, (v & 2) != 0, impl);
    std::vector<std::vector<double>> rates(variants.size());
    for (int round = 0; round < kRounds; ++round)
      for (size_t v = 0; v < variants.size(); ++v)
        rates[v].push_back(variants[v].gflops(bench::time_median([&] { variants[v].run(); }, 0.15)));
    fmt::print("| {} | {} x {} x {} | {}N | {} |", s.what, s.m, s.k, s.n, s.a_transposed ? 'T' : 'N',
               variants[0].impl());
    for (const auto& r : rates) fmt::print(" {:.0f} |", median(r));
    fmt::print("\n");
  }
}

}  // namespace
}  // namespace dlt

int main(int argc, char** argv) {
  omp_set_num_threads(argc > 1 ? std::stoi(argv[1]) : 2);
  try {
    dlt::print_table(argc > 2 ? argv[2] : "");
  } catch (const std::exception& e) {
    fmt::print(stderr, "bench_gemm_strides: {}\n", e.what());
    return 2;
  }
  return 0;
}
