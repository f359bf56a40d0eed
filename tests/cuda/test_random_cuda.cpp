// Random numbers on cuda are the CPU's Philox stream: the same seed gives the
// same f32 numbers bit for bit (normal's Box-Muller runs in double, where the
// device's log/cos may differ from libm in the last double ulp, rarely
// changing the f32 rounding: allowed to differ by one f32 ulp).
#include <cmath>
#include <cstring>

#include "dlt/core/generator.h"
#include "tests/cuda/cuda_test_util.h"

namespace dlt::testing {
namespace {

using CudaRandom = CudaTest;

// Odd sizes exercise the half-used last Philox block; the large one needs
// more than one grid of 65535 x 256 threads (two elements each).
const int64_t kSizes[] = {1, 1001, 2 * 65535 * 256 + 4099};

TEST_F(CudaRandom, UniformMatchesCpuBitForBit) {
  for (const int64_t n : kSizes) {
    Generator g_cpu(1234), g_cuda(1234);
    g_cpu.set_state(1234, 77);  // a nonzero offset, as after earlier draws
    g_cuda.set_state(1234, 77);
    expect_bitwise_f32(uniform({n}, -2.0, 3.0, {}, &g_cpu),
                       uniform({n}, -2.0, 3.0, cuda(), &g_cuda));
    EXPECT_EQ(g_cpu.offset(), g_cuda.offset());
  }
}

TEST_F(CudaRandom, UniformF64AndHalfMatchCpu) {
  Generator g_cpu(5), g_cuda(5);
  expect_close(rand({513}, DType::f64, &g_cpu), rand({513}, cuda(DType::f64), &g_cuda), 0, 0);
  expect_close(rand({513}, DType::bf16, &g_cpu), rand({513}, cuda(DType::bf16), &g_cuda), 0, 0);
}

TEST_F(CudaRandom, NormalMatchesCpuToTheLastUlp) {
  for (const int64_t n : {int64_t(1001), int64_t(1) << 20}) {
    Generator g_cpu(99), g_cuda(99);
    const std::vector<float> e = to_vector<float>(normal({n}, 0.5, 2.0, {}, &g_cpu));
    const std::vector<float> a = to_vector<float>(normal({n}, 0.5, 2.0, cuda(), &g_cuda));
    ASSERT_EQ(e.size(), a.size());
    int64_t differing = 0;
    for (size_t i = 0; i < e.size(); ++i) {
      if (e[i] == a[i]) continue;
      ++differing;
      EXPECT_EQ(std::nextafter(e[i], a[i]), a[i])
          << "element " << i << ": " << e[i] << " vs " << a[i];
    }
    EXPECT_LE(differing, n / 100000 + 1) << "more than the odd last-ulp difference";
  }
}

TEST_F(CudaRandom, RandintMatchesCpu) {
  Generator g_cpu(7), g_cuda(7);
  const Tensor e = randint(-5, 1000003, {4097}, DType::i64, &g_cpu);
  const Tensor a = randint(-5, 1000003, {4097}, cuda(DType::i64), &g_cuda);
  EXPECT_EQ(to_vector<int64_t>(e), to_vector<int64_t>(a));
  const Tensor ef = randint(0, 10, {333}, DType::f32, &g_cpu);
  const Tensor af = randint(0, 10, {333}, cuda(DType::f32), &g_cuda);
  expect_bitwise_f32(ef, af);
}

TEST_F(CudaRandom, DropoutMaskAndValuesMatchCpu) {
  for (const int64_t n : {int64_t(999), int64_t(2) * 65535 * 256 + 7}) {
    const Tensor x = full({n}, 1.5);
    Generator g_cpu(42), g_cuda(42);
    const Tensor e = dropout(x, 0.3, true, &g_cpu);
    const Tensor a = dropout(on_cuda(x), 0.3, true, &g_cuda);
    expect_bitwise_f32(e, a);
  }
}

TEST_F(CudaRandom, EmptyDrawTakesNoCounters) {
  Generator g(3);
  EXPECT_EQ(rand({0, 4}, cuda(), &g).numel(), 0);
  EXPECT_EQ(g.offset(), 0u);
}

}  // namespace
}  // namespace dlt::testing
