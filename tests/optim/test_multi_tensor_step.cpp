// The fused ops on lists of parameters: one list call equals a call per
// parameter bit for bit, bad lists are errors naming the index, and the
// optimizers batch a group's parameters by dtype and step count.
#include <functional>

#include "dlt/ops/optim_ops.h"
#include "dlt/optim/optimizers.h"
#include "tests/optim/optim_test_util.h"
#include "tests/test_util.h"

namespace dlt::testing {
namespace {

// Parameters of assorted shapes (an empty one, a single element, a strided
// view), their state buffers (`slots` per parameter, zero) and per-step
// gradients.
struct Lists {
  std::vector<Tensor> bases;   // own the parameters' storage
  std::vector<Tensor> params;  // params[2] is a transposed view of its base
  std::vector<std::vector<Tensor>> state;  // [slot][i]
};

const std::vector<Shape> kShapes = {{5, 3}, {0, 4}, {4, 6}, {1}, {129}, {3, 2, 7}};

Lists make_lists(DType dtype, int slots) {
  Generator gen(11);
  Lists l;
  for (const Shape& s : kShapes) {
    l.bases.push_back(uniform(s, -1, 1, dtype, &gen));
    l.params.push_back(l.params.size() == 2 ? l.bases.back().view({6, 4}).t() : l.bases.back());
  }
  l.state.resize(size_t(slots));
  for (auto& buffers : l.state)
    for (const Tensor& p : l.params) buffers.push_back(zeros(p.shape(), p.dtype()));
  return l;
}

Lists clone_lists(const Lists& l) {
  Lists c;
  for (size_t i = 0; i < l.bases.size(); ++i) {
    c.bases.push_back(l.bases[i].clone());
    c.params.push_back(i == 2 ? c.bases.back().view({6, 4}).t() : c.bases.back());
  }
  for (const auto& buffers : l.state) {
    c.state.emplace_back();
    for (const Tensor& b : buffers) c.state.back().push_back(b.clone());
  }
  return c;
}

std::vector<Tensor> grads_for(const Lists& l, int step) {
  Generator gen(uint64_t(100 + step));
  std::vector<Tensor> g;
  for (const Tensor& p : l.params) g.push_back(uniform(p.shape(), -1, 1, p.dtype(), &gen));
  return g;
}

void expect_lists_bitwise(const Lists& a, const Lists& b) {
  for (size_t i = 0; i < a.params.size(); ++i)
    EXPECT_TRUE(bitwise_equal(a.params[i], b.params[i])) << "parameter " << i;
  for (size_t k = 0; k < a.state.size(); ++k)
    for (size_t i = 0; i < a.params.size(); ++i)
      EXPECT_TRUE(bitwise_equal(a.state[k][i], b.state[k][i])) << "state " << k << " of " << i;
}

// A step of the list form and of the per-tensor form of one op.
using ListStep = std::function<void(const Lists&, const std::vector<Tensor>& grads, int step)>;
using OneStep = std::function<void(const Lists&, size_t i, const Tensor& grad, int step)>;

void expect_list_equals_per_tensor(int slots, const ListStep& list_step, const OneStep& one_step) {
  for (const DType dtype : {DType::f32, DType::f64}) {
    SCOPED_TRACE(fmt::format("{}", dtype));
    const Lists start = make_lists(dtype, slots);
    const Lists listed = clone_lists(start), single = clone_lists(start);
    for (int step = 1; step <= 3; ++step) {
      const std::vector<Tensor> grads = grads_for(start, step);
      list_step(listed, grads, step);
      for (size_t i = 0; i < grads.size(); ++i) one_step(single, i, grads[i], step);
    }
    expect_lists_bitwise(listed, single);
  }
}

TEST(MultiTensorStep, SgdListEqualsPerTensorCalls) {
  for (const double momentum : {0.0, 0.9}) {
    const auto attrs = [&](int step) {
      return ops::SgdStepAttrs{.lr = 0.1,
                               .momentum = momentum,
                               .weight_decay = 0.01,
                               .nesterov = momentum > 0 && step == 2,
                               .first_step = step == 1};
    };
    const int slots = momentum > 0 ? 1 : 0;
    expect_list_equals_per_tensor(
        slots,
        [&](const Lists& l, const std::vector<Tensor>& g, int step) {
          const std::span<const Tensor> buffers =
              slots ? std::span<const Tensor>(l.state[0]) : std::span<const Tensor>();
          sgd_step_(l.params, g, buffers, attrs(step));
        },
        [&](const Lists& l, size_t i, const Tensor& g, int step) {
          sgd_step_(l.params[i], g, slots ? l.state[0][i] : Tensor(), attrs(step));
        });
  }
}

TEST(MultiTensorStep, AdamListEqualsPerTensorCalls) {
  for (const bool decoupled : {false, true}) {
    const auto attrs = [&](int step) {
      return ops::AdamStepAttrs{
          .lr = 1e-2, .weight_decay = 0.1, .decoupled_weight_decay = decoupled, .step = step};
    };
    expect_list_equals_per_tensor(
        2,
        [&](const Lists& l, const std::vector<Tensor>& g, int step) {
          adam_step_(l.params, g, l.state[0], l.state[1], attrs(step));
        },
        [&](const Lists& l, size_t i, const Tensor& g, int step) {
          adam_step_(l.params[i], g, l.state[0][i], l.state[1][i], attrs(step));
        });
  }
}

TEST(MultiTensorStep, RmspropListEqualsPerTensorCalls) {
  for (const bool centered : {false, true}) {
    for (const double momentum : {0.0, 0.9}) {
      const ops::RmspropStepAttrs attrs{
          .lr = 1e-2, .weight_decay = 0.01, .momentum = momentum, .centered = centered};
      // Slots in use: square_avg, then momentum_buffer and grad_avg when on.
      const int slots = 1 + (momentum > 0) + centered;
      const size_t mom_slot = 1, avg_slot = momentum > 0 ? 2 : 1;
      expect_list_equals_per_tensor(
          slots,
          [&](const Lists& l, const std::vector<Tensor>& g, int) {
            const std::span<const Tensor> none;
            rmsprop_step_(l.params, g, l.state[0], momentum > 0 ? l.state[mom_slot] : none,
                          centered ? l.state[avg_slot] : none, attrs);
          },
          [&](const Lists& l, size_t i, const Tensor& g, int) {
            rmsprop_step_(l.params[i], g, l.state[0][i],
                          momentum > 0 ? l.state[mom_slot][i] : Tensor(),
                          centered ? l.state[avg_slot][i] : Tensor(), attrs);
          });
    }
  }
}

TEST(MultiTensorStep, BadListsNameTheIndex) {
  const std::vector<Tensor> params = {zeros({2, 3}), zeros({4}), zeros({5})};
  const std::vector<Tensor> grads = {zeros({2, 3}), zeros({4}), zeros({4})};
  expect_error([&] { sgd_step_(params, grads, {}, {.lr = 0.1}); },
               {"sgd_step: gradient [4] float32 does not match parameter [5] float32 at index 2"});
  const std::vector<Tensor> two(grads.begin(), grads.begin() + 2);
  expect_error([&] { sgd_step_(params, two, {}, {.lr = 0.1}); },
               {"sgd_step: 3 parameters but 2 gradients"});
  expect_error([&] { adam_step_(two, two, two, std::span(two).first(1), {}); },
               {"adam_step: 1 exp_avg_sq buffers for 2 parameters"});
  const std::vector<Tensor> mixed = {zeros({2}), zeros({2}, DType::f64)};
  expect_error([&] { sgd_step_(mixed, mixed, {}, {}); },
               {"sgd_step: parameter 1 is float64 on cpu, parameter 0 float32 on cpu"});
  const std::vector<Tensor> strided = {zeros({2, 3}), zeros({3, 2}).t()};
  const std::vector<Tensor> pair = {zeros({2, 3}), zeros({2, 3})};
  expect_error([&] { rmsprop_step_(pair, pair, strided, {}, {}, {}); },
               {"rmsprop_step: square_avg must be contiguous at index 1"});
  expect_error([&] { sgd_step_(pair, pair, pair, {}); },
               {"sgd_step: momentum_buffer given but not used by these options"});
  // An empty list is a step of nothing.
  sgd_step_(std::span<const Tensor>(), {}, {}, {.lr = 0.1});
}

// Adam against per-parameter adam_step_ calls, each with its own step count:
// parameter "skips" misses step 2, so from then on it is one step behind and
// takes its update in a call of its own; "wide" is f64, another call.
TEST(MultiTensorStep, OptimizerBatchesByDtypeAndStepCount) {
  NamedParams params = make_params({{"a", {3, 4}}, {"skips", {5}}, {"b", {7}}}, 3);
  params.emplace_back("wide", randn({2, 2}, DType::f64).requires_grad_());
  const NamedParams start = clone_params(params);
  auto adam = optim::make_optimizer("adamw", {one_group(params, 0.01, 0.1)}, {});

  std::vector<Tensor> ref, m, v;
  std::vector<int64_t> steps(start.size(), 0);
  for (const auto& [name, p] : start) {
    ref.push_back(p.detach().clone());
    m.push_back(zeros_like(p));
    v.push_back(zeros_like(p));
  }
  for (int64_t s = 0; s < 4; ++s) {
    set_grads(params, 9, s);
    if (s == 1) params[1].second.set_grad(Tensor());
    adam->step();
    for (size_t i = 0; i < params.size(); ++i) {
      const Tensor& g = params[i].second.grad();
      if (!g.defined()) continue;
      adam_step_(ref[i], g, m[i], v[i],
                 {.lr = 0.01, .weight_decay = 0.1, .decoupled_weight_decay = true,
                  .step = ++steps[i]});
    }
  }
  EXPECT_EQ(steps, (std::vector<int64_t>{4, 3, 4, 4}));
  const auto state = adam->state_dict();
  for (size_t i = 0; i < params.size(); ++i) {
    const std::string& name = params[i].first;
    EXPECT_TRUE(bitwise_equal(params[i].second, ref[i])) << name;
    EXPECT_TRUE(bitwise_equal(state.at("exp_avg." + name), m[i])) << name;
    EXPECT_TRUE(bitwise_equal(state.at("exp_avg_sq." + name), v[i])) << name;
    EXPECT_EQ(state.at("step." + name).item<int64_t>(), steps[i]) << name;
  }
}

}  // namespace
}  // namespace dlt::testing
