// Fused optimizer steps on cuda against the CPU's: same formulas, so the
// parameter and every state buffer agree within 1e-6 after several steps.
// Lists of many tensors (several multi-tensor launches, tensors split across
// launches, empty ones) give bit for bit what a call per tensor gives.
#include <cstring>
#include <functional>
#include <span>

#include "dlt/ops/optim_ops.h"
#include "tests/cuda/cuda_test_util.h"
#include "tests/optim/step_copies_check.h"

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

// Fused multiply-adds round differently from the CPU's: a few ulps of the
// O(1) terms, which is large relative to a state that cancels towards 0.
void expect_twins_close(const Twin& t) {
  const bool f32 = t.cpu.dtype() == DType::f32;
  expect_close(t.cpu, t.gpu, f32 ? 1e-6 : 1e-12, f32 ? 1e-6 : 1e-13);
}

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

// Parameters, gradients and state buffers of one list on one device.
struct ParamLists {
  std::vector<Tensor> params;
  std::vector<std::vector<Tensor>> state;  // [slot][i]
};

// 300 tensors of 1 to 100000 elements, some empty, some on chunk boundaries
// (65536 elements a block), shaped 1-d or 2-d.
std::vector<Shape> many_odd_shapes() {
  std::vector<Shape> shapes;
  Generator gen(42);
  const Tensor sizes = randint(1, 100001, {300}, DType::i64, &gen);
  const std::vector<int64_t> n = to_vector<int64_t>(sizes);
  for (size_t i = 0; i < n.size(); ++i)
    shapes.push_back(i % 3 == 1 && n[i] % 2 == 0 ? Shape{2, n[i] / 2} : Shape{n[i]});
  for (const Shape& s :
       {Shape{0}, Shape{65536}, Shape{65537}, Shape{3, 0}, Shape{131072}, Shape{1}})
    shapes.insert(shapes.begin() + int64_t(shapes.size() / 2), s);
  return shapes;
}

ParamLists random_lists(const std::vector<Shape>& shapes, DType dtype, int slots, Device device) {
  Generator gen(7);
  ParamLists l;
  l.state.resize(size_t(slots));
  for (const Shape& s : shapes) {
    l.params.push_back(uniform(s, -1, 1, dtype, &gen).to(device));
    for (auto& buffers : l.state) buffers.push_back(zeros(s, dtype).to(device));
  }
  return l;
}

std::vector<Tensor> random_grads(const std::vector<Shape>& shapes, DType dtype, int step,
                                 Device device) {
  Generator gen(uint64_t(1000 + step));
  std::vector<Tensor> grads;
  for (const Shape& s : shapes) grads.push_back(uniform(s, -1, 1, dtype, &gen).to(device));
  return grads;
}

bool same_bits(const Tensor& a, const Tensor& b) {
  const Tensor x = a.to(Device::cpu()).contiguous(), y = b.to(Device::cpu()).contiguous();
  return x.shape() == y.shape() && x.dtype() == y.dtype() &&
         (x.numel() == 0 ||
          std::memcmp(x.raw_data(), y.raw_data(), size_t(x.numel()) * x.element_size()) == 0);
}

// One fused list call: params, grads, and the op's state lists in slot order
// (an unused slot gets an empty list).
using ListStep = std::function<void(std::span<const Tensor> params, std::span<const Tensor> grads,
                                    const std::vector<std::span<const Tensor>>& state, int step)>;

std::vector<std::span<const Tensor>> state_spans(const ParamLists& l, size_t begin, size_t count) {
  std::vector<std::span<const Tensor>> spans;
  for (const auto& buffers : l.state) spans.push_back(std::span(buffers).subspan(begin, count));
  return spans;
}

// Two steps of `step` on the cpu (one list), on cuda (one list) and on cuda a
// tensor at a time; the cuda results are bitwise equal, and close to the cpu's.
void expect_lists_match(DType dtype, int slots, const ListStep& step) {
  const std::vector<Shape> shapes = many_odd_shapes();
  const ParamLists cpu = random_lists(shapes, dtype, slots, Device::cpu());
  const ParamLists listed = random_lists(shapes, dtype, slots, Device::cuda());
  const ParamLists single = random_lists(shapes, dtype, slots, Device::cuda());
  for (int s = 1; s <= 2; ++s) {
    const std::vector<Tensor> g_cpu = random_grads(shapes, dtype, s, Device::cpu());
    const std::vector<Tensor> g_gpu = random_grads(shapes, dtype, s, Device::cuda());
    step(cpu.params, g_cpu, state_spans(cpu, 0, shapes.size()), s);
    step(listed.params, g_gpu, state_spans(listed, 0, shapes.size()), s);
    for (size_t i = 0; i < shapes.size(); ++i)
      step(std::span(single.params).subspan(i, 1), std::span(g_gpu).subspan(i, 1),
           state_spans(single, i, 1), s);
  }
  const bool f32 = dtype == DType::f32;
  int mismatches = 0;
  for (size_t i = 0; i < shapes.size(); ++i) {
    SCOPED_TRACE(fmt::format("tensor {} of shape {}", i, shape_str(shapes[i])));
    if (!same_bits(listed.params[i], single.params[i]) && mismatches++ < 5)
      ADD_FAILURE() << "list and per-tensor parameters differ";
    expect_close(cpu.params[i], listed.params[i].to(Device::cpu()), f32 ? 1e-6 : 1e-12,
                 f32 ? 1e-6 : 1e-13);
    for (size_t k = 0; k < cpu.state.size(); ++k) {
      if (!same_bits(listed.state[k][i], single.state[k][i]) && mismatches++ < 5)
        ADD_FAILURE() << "list and per-tensor state " << k << " differ";
      expect_close(cpu.state[k][i], listed.state[k][i].to(Device::cpu()), f32 ? 1e-6 : 1e-12,
                   f32 ? 1e-6 : 1e-13);
    }
  }
  EXPECT_EQ(mismatches, 0);
}

TEST_F(CudaOptim, SgdListOfManyOddTensors) {
  for (const DType dt : {DType::f32, DType::f64}) {
    expect_lists_match(dt, 1, [](auto params, auto grads, const auto& state, int step) {
      sgd_step_(params, grads, state[0],
                {.lr = 0.1, .momentum = 0.9, .weight_decay = 0.01, .nesterov = step == 2,
                 .first_step = step == 1});
    });
    expect_lists_match(dt, 0, [](auto params, auto grads, const auto&, int) {
      sgd_step_(params, grads, {}, {.lr = 0.05});
    });
  }
}

TEST_F(CudaOptim, AdamWListOfManyOddTensors) {
  for (const DType dt : {DType::f32, DType::f64}) {
    expect_lists_match(dt, 2, [](auto params, auto grads, const auto& state, int step) {
      adam_step_(params, grads, state[0], state[1],
                 {.lr = 1e-2, .weight_decay = 0.1, .decoupled_weight_decay = true, .step = step});
    });
  }
}

TEST_F(CudaOptim, RmspropListOfManyOddTensors) {
  expect_lists_match(DType::f32, 3, [](auto params, auto grads, const auto& state, int) {
    rmsprop_step_(params, grads, state[0], state[1], state[2],
                  {.lr = 1e-2, .weight_decay = 0.01, .momentum = 0.9, .centered = true});
  });
  expect_lists_match(DType::f32, 1, [](auto params, auto grads, const auto& state, int) {
    rmsprop_step_(params, grads, state[0], {}, {}, {.lr = 1e-2});
  });
}

// Mixed precision: the launches that also write each parameter's bf16/f16
// copy (one more pointer per tensor, fewer tensors per launch).
TEST_F(CudaOptim, StepsWriteTheCopyToWouldMake) { expect_steps_write_exact_copies(Device::cuda()); }

// The deepest launch (RMSprop's five pointers and the copy) over the 306
// odd tensors: parameters and state as without copies, copies as to().
TEST_F(CudaOptim, CopiesOfManyOddTensors) {
  const std::vector<Shape> shapes = many_odd_shapes();
  const ParamLists with = random_lists(shapes, DType::f32, 3, Device::cuda());
  const ParamLists without = random_lists(shapes, DType::f32, 3, Device::cuda());
  std::vector<Tensor> copies;
  for (const Shape& s : shapes) copies.push_back(empty(s, TensorOptions(DType::bf16).device(Device::cuda())));
  const ops::RmspropStepAttrs a{.lr = 1e-2, .weight_decay = 0.01, .momentum = 0.9, .centered = true};
  for (int s = 1; s <= 2; ++s) {
    const std::vector<Tensor> g = random_grads(shapes, DType::f32, s, Device::cuda());
    rmsprop_step_(with.params, g, with.state[0], with.state[1], with.state[2], a, copies);
    rmsprop_step_(without.params, g, without.state[0], without.state[1], without.state[2], a);
  }
  int mismatches = 0;
  for (size_t i = 0; i < shapes.size() && mismatches < 5; ++i) {
    SCOPED_TRACE(fmt::format("tensor {} of shape {}", i, shape_str(shapes[i])));
    mismatches += !same_bits(with.params[i], without.params[i]) + !same_bits(copies[i], with.params[i].to(DType::bf16));
    for (size_t k = 0; k < 3; ++k) mismatches += !same_bits(with.state[k][i], without.state[k][i]);
  }
  EXPECT_EQ(mismatches, 0);
}

TEST_F(CudaOptim, ListsOnTwoDevicesAreRefused) {
  const std::vector<Tensor> params = {zeros({3}).to(Device::cuda()), zeros({3}).to(Device::cuda())};
  const std::vector<Tensor> grads = {zeros({3}).to(Device::cuda()), zeros({3})};
  expect_error([&] { sgd_step_(params, grads, {}, {.lr = 0.1}); },
               {"sgd_step: gradient 1 is on cpu, its parameter on cuda"});
  const std::vector<Tensor> mixed = {zeros({3}).to(Device::cuda()), zeros({3})};
  expect_error([&] { sgd_step_(mixed, mixed, {}, {.lr = 0.1}); },
               {"sgd_step: parameter 1 is float32 on cpu, parameter 0 float32 on cuda"});
  const std::vector<Tensor> host_state = {zeros({3}), zeros({3})};
  expect_error([&] { adam_step_(params, params, params, host_state, {}); },
               {"adam_step: exp_avg_sq 0 is on cpu, its parameter on cuda"});
}

}  // namespace
}  // namespace dlt::testing
