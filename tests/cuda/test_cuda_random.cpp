// The random ops draw from one Philox stream (lib/dlt/core/philox.h: element
// i = f(seed, offset, i)), so the same generator state gives the same numbers
// on cuda as on the cpu: a run's dropout masks and initialisation do not
// depend on the device. Sizes are odd so that the last group of four draws is
// partial. Uniform/normal values may differ by FMA contraction and libdevice's
// log/cos (a few ulp); integers and masks must be identical.
#include "tests/cuda/cuda_test_util.h"
#include "tests/test_util.h"

namespace dlt::testing {
namespace {

constexpr int64_t kN = 4099;

template <class Draw> void expect_same_draws(Draw draw, double rtol, double atol) {
  Generator on_cpu(1234), on_gpu(1234);
  const Tensor a = draw(Device::cpu(), on_cpu);
  const Tensor b = draw(Device::cuda(), on_gpu);
  ASSERT_EQ(b.device(), Device::cuda());
  EXPECT_EQ(on_cpu.offset(), on_gpu.offset()) << "the generators advanced differently";
  const std::string err = compare_close(to_vector<double>(b), to_vector<double>(a), rtol, atol);
  EXPECT_TRUE(err.empty()) << err;
}

TEST(CudaRandom, UniformMatchesTheCpu) {
  DLT_SKIP_WITHOUT_CUDA();
  for (DType dt : {DType::f32, DType::f64}) {
    SCOPED_TRACE(dtype_name(dt));
    expect_same_draws([&](Device d, Generator& g) { return uniform({kN}, -2, 3, TensorOptions(dt).device(d), &g); },
                      1e-6, 1e-6);
  }
}

TEST(CudaRandom, NormalMatchesTheCpu) {
  DLT_SKIP_WITHOUT_CUDA();
  for (DType dt : {DType::f32, DType::f64}) {
    SCOPED_TRACE(dtype_name(dt));
    expect_same_draws([&](Device d, Generator& g) { return normal({kN}, 0.5, 2, TensorOptions(dt).device(d), &g); },
                      1e-5, 1e-5);
  }
}

TEST(CudaRandom, RandintMatchesTheCpu) {
  DLT_SKIP_WITHOUT_CUDA();
  expect_same_draws([](Device d, Generator& g) { return randint(-7, 1000, {kN}, TensorOptions(DType::i64).device(d), &g); },
                    0, 0);
}

TEST(CudaRandom, DropoutMasksMatchTheCpu) {
  DLT_SKIP_WITHOUT_CUDA();
  Generator values(7);
  const Tensor x = randn({3, kN}, DType::f32, &values);
  expect_same_draws([&](Device d, Generator& g) { return dropout(x.to(d), 0.3, true, &g); }, 1e-6, 0);
}

}  // namespace
}  // namespace dlt::testing
