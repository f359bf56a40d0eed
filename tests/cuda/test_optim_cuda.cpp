// Fused optimizer steps on cuda against the CPU's: same formulas, so the
// parameter and every state buffer agree within 1e-6 after several steps.
#include "dlt/ops/optim_ops.h"
#include "tests/cuda/cuda_test_util.h"

namespace dlt::testing {
namespace {

using CudaOptim = CudaTest;

struct Twin {  // one tensor on each device, starting equal
  Tensor cpu, gpu;
};
Twin twin(const Tensor& t) { return {t.clone(), t.to(Device::cuda())}; }
Twin random_twin(const Shape& shape, uint64_t seed, DType dtype, double lo = -1, double hi = 1) {
  Generator g(seed);
  return twin(uniform(shape, lo, hi, dtype, &g));
}
Twin zero_twin(const Shape& shape, DType dtype) { return twin(zeros(shape, dtype)); }

void expect_twins_close(const Twin& t) { expect_close(t.cpu, t.gpu, 1e-6, 1e-7); }

const Shape kShape = {37, 65};  // odd, more than one block

TEST_F(CudaOptim, SgdWithMomentumNesterovAndDecay) {
  for (const DType dt : {DType::f32, DType::f64}) {
    Twin p = random_twin(kShape, 1, dt), buf = zero_twin(kShape, dt);
    for (int step = 0; step < 4; ++step) {
      const Twin g = random_twin(kShape, 100 + step, dt);
      const ops::SgdStepAttrs a{.lr = 0.1,
                                .momentum = 0.9,
                                .dampening = 0.1,
                                .weight_decay = 0.01,
                                .nesterov = step % 2 == 1,
                                .first_step = step == 0};
      sgd_step_(p.cpu, g.cpu, buf.cpu, a);
      sgd_step_(p.gpu, g.gpu, buf.gpu, a);
    }
    expect_twins_close(p);
    expect_twins_close(buf);
    Twin q = random_twin(kShape, 2, dt);
    const Twin g = random_twin(kShape, 3, dt);
    const ops::SgdStepAttrs plain{.lr = 0.05};
    sgd_step_(q.cpu, g.cpu, Tensor(), plain);
    sgd_step_(q.gpu, g.gpu, Tensor(), plain);
    expect_twins_close(q);
  }
}

TEST_F(CudaOptim, AdamAndAdamW) {
  for (const bool decoupled : {false, true}) {
    Twin p = random_twin(kShape, 4, DType::f32), m = zero_twin(kShape, DType::f32),
         v = zero_twin(kShape, DType::f32);
    for (int step = 1; step <= 5; ++step) {
      const Twin g = random_twin(kShape, 200 + step, DType::f32);
      const ops::AdamStepAttrs a{
          .lr = 1e-2, .weight_decay = 0.1, .decoupled_weight_decay = decoupled, .step = step};
      adam_step_(p.cpu, g.cpu, m.cpu, v.cpu, a);
      adam_step_(p.gpu, g.gpu, m.gpu, v.gpu, a);
    }
    expect_twins_close(p);
    expect_twins_close(m);
    expect_twins_close(v);
  }
}

TEST_F(CudaOptim, RmspropCenteredWithMomentum) {
  for (const bool centered : {false, true}) {
    for (const double momentum : {0.0, 0.9}) {
      Twin p = random_twin(kShape, 5, DType::f64), sq = zero_twin(kShape, DType::f64);
      Twin buf = zero_twin(kShape, DType::f64), avg = zero_twin(kShape, DType::f64);
      for (int step = 0; step < 4; ++step) {
        const Twin g = random_twin(kShape, 300 + step, DType::f64);
        const ops::RmspropStepAttrs a{
            .lr = 1e-2, .weight_decay = 0.01, .momentum = momentum, .centered = centered};
        const Tensor b_cpu = momentum > 0 ? buf.cpu : Tensor(),
                     b_gpu = momentum > 0 ? buf.gpu : Tensor();
        rmsprop_step_(p.cpu, g.cpu, sq.cpu, b_cpu, centered ? avg.cpu : Tensor(), a);
        rmsprop_step_(p.gpu, g.gpu, sq.gpu, b_gpu, centered ? avg.gpu : Tensor(), a);
      }
      expect_twins_close(p);
      expect_twins_close(sq);
      expect_twins_close(buf);
      expect_twins_close(avg);
    }
  }
}

}  // namespace
}  // namespace dlt::testing
