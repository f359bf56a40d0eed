// The fused optimizer launches of kernels/cuda/optim.cu (optim_launch.cuh's
// functors and tables, in multi_tensor_kernel.cuh's kernel) run on the CPU
// under the emulation, over lists long enough for several launches
// and for a tensor split across two: every parameter, state buffer and
// low-precision copy must equal the element update of kernels/optim_update.h
// applied on the host, each copy rounded as lib/dlt/core/half.h rounds. On a
// GPU, tests/cuda/test_optim_cuda.cpp runs the same launches for real.
#include "tests/emulated/wmma_emulation.h"
// The emulation first: the kernels see its names. Under g++ the element
// updates land in the CPU kernels' namespace; the functors look in dlt::gpu.
#include "kernels/optim_update.h"
namespace dlt::gpu {
using cpu::AdamUpdate;
using cpu::RmspropUpdate;
using cpu::SgdUpdate;
}  // namespace dlt::gpu
#include "kernels/cuda/optim_launch.cuh"
#include "lib/dlt/core/half.h"

#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <random>
#include <vector>

namespace dlt::gpu {
namespace {

constexpr int kThreads = 64;  // the kernel strides by blockDim, so any block size is a test of it

// Sizes: `n` small tensors of 0 to 3000 elements, and one of 70,000 (two of
// the kernel's 65,536-element chunks) in the middle.
std::vector<int64_t> list_sizes(int n) {
  std::mt19937 rng{uint32_t(n)};
  std::vector<int64_t> sizes;
  for (int t = 0; t < n; ++t) sizes.push_back(t == n / 2 ? 70000 : int64_t(rng() % 3001));
  return sizes;
}

std::vector<float> random_values(int64_t n, uint32_t seed, float lo, float hi) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = u(rng);
  return v;
}

// One tensor's operands: grad, param and the state buffers in f32, the copy
// as 16-bit patterns.
struct Operands {
  std::vector<float> grad, param, state[3];
  std::vector<uint16_t> copy;
};

std::vector<Operands> make_operands(const std::vector<int64_t>& sizes) {
  std::vector<Operands> ops(sizes.size());
  for (size_t t = 0; t < sizes.size(); ++t) {
    ops[t].grad = random_values(sizes[t], uint32_t(2 * t + 1), -1, 1);
    ops[t].param = random_values(sizes[t], uint32_t(2 * t + 2), -3, 3);
    for (auto& s : ops[t].state) s = random_values(sizes[t], uint32_t(7 * t + 3), 0, 0.5f);
    ops[t].copy.assign(size_t(sizes[t]), 0xdead);
  }
  return ops;
}

// Runs `op` over every tensor in the launches optim.cu makes (kBase pointers
// a tensor, the copy's after them unless C is void).
template <int kBase, class C, class Op>
void launch_all(std::vector<Operands>& ops, const std::vector<int64_t>& sizes, const Op& op) {
  std::vector<OptimTensors> tensors(ops.size());
  for (size_t t = 0; t < ops.size(); ++t) {
    OptimTensors& x = tensors[t];
    x.numel = sizes[t];
    x.grad = ops[t].grad.data();
    x.param = ops[t].param.data();
    for (int k = 0; k < kBase - 2; ++k) x.state[k] = ops[t].state[k].data();
    if constexpr (!std::is_void_v<C>) x.copy = ops[t].copy.data();
  }
  const auto launches = optim_launch_args<kBase, C>(tensors);
  ASSERT_GE(launches.size(), 2u) << "the list must take several launches";
  unsigned char no_shared[1];
  for (const auto& l : launches)
    emulated::launch(l.blocks, kThreads, no_shared, 0, &detail::multi_tensor_kernel<kOptimDepth<kBase, C>, Op>, l.arg,
                     op);
}

// The host's update of one element: fn(grad, param, state..., i).
using HostUpdate = std::function<void(Operands&, int64_t i)>;

// `launched` against `expected` updated element by element on the host, and
// the copies (16-bit patterns of `copy_bits`, or none) against the new params.
void expect_equal(const std::vector<Operands>& launched, std::vector<Operands>& expected, const HostUpdate& update,
                  uint16_t (*copy_bits)(float)) {
  int mismatches = 0;
  for (size_t t = 0; t < expected.size(); ++t) {
    for (int64_t i = 0; i < int64_t(expected[t].param.size()); ++i) update(expected[t], i);
    const auto same = [](const std::vector<float>& a, const std::vector<float>& b) {
      return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * 4) == 0);
    };
    if (!same(launched[t].param, expected[t].param)) ADD_FAILURE() << "tensor " << t << ": parameter", ++mismatches;
    for (int k = 0; k < 3; ++k)
      if (!same(launched[t].state[k], expected[t].state[k]))
        ADD_FAILURE() << "tensor " << t << ": state " << k, ++mismatches;
    for (size_t i = 0; copy_bits && i < launched[t].copy.size(); ++i)
      if (launched[t].copy[i] != copy_bits(launched[t].param[i])) {
        ADD_FAILURE() << "tensor " << t << ": copy element " << i << " is " << launched[t].copy[i] << ", expected "
                      << copy_bits(launched[t].param[i]);
        ++mismatches;
        break;
      }
    for (size_t i = 0; !copy_bits && i < launched[t].copy.size(); ++i)
      if (launched[t].copy[i] != 0xdead) {
        ADD_FAILURE() << "tensor " << t << ": a launch without copies wrote one";
        ++mismatches;
        break;
      }
    if (mismatches > 5) return;
  }
}

TEST(EmulatedOptim, SgdWithoutCopiesOverSeveralLaunches) {
  const std::vector<int64_t> sizes = list_sizes(50);  // 40 tensors a launch at depth 3
  std::vector<Operands> launched = make_operands(sizes), expected = launched;
  const auto s = SgdUpdate<float>::of(0.1, 0.9, 0, 0.01, true, false);
  launch_all<kSgdDepth, void>(launched, sizes, SgdOp<float, true, void>{s});
  expect_equal(launched, expected,
               [&](Operands& o, int64_t i) { s.apply<true>(o.grad.data(), o.param.data(), o.state[0].data(), i); },
               nullptr);
}

TEST(EmulatedOptim, AdamWWritesBf16CopiesOverSeveralLaunches) {
  const std::vector<int64_t> sizes = list_sizes(40);  // 28 tensors a launch at depth 5
  std::vector<Operands> launched = make_operands(sizes), expected = launched;
  const auto s = AdamUpdate<float>::of(1e-2, 0.9, 0.999, 1e-8, 0.1, true, 3);
  launch_all<kAdamDepth, __nv_bfloat16>(launched, sizes, AdamOp<float, __nv_bfloat16>{s});
  expect_equal(launched, expected,
               [&](Operands& o, int64_t i) {
                 s.apply(o.grad.data(), o.param.data(), o.state[0].data(), o.state[1].data(), i);
               },
               &::dlt::detail::float_to_bf16_bits);
}

TEST(EmulatedOptim, CenteredRmspropWritesF16CopiesOverSeveralLaunches) {
  const std::vector<int64_t> sizes = list_sizes(30);  // 24 tensors a launch at depth 6
  std::vector<Operands> launched = make_operands(sizes), expected = launched;
  const auto s = RmspropUpdate<float>::of(1e-2, 0.99, 1e-8, 0.01, 0.5);
  launch_all<kRmspropDepth, __half>(launched, sizes, RmspropOp<float, true, true, __half>{s});
  expect_equal(launched, expected,
               [&](Operands& o, int64_t i) {
                 s.apply<true, true>(o.grad.data(), o.param.data(), o.state[0].data(), o.state[1].data(),
                                     o.state[2].data(), i);
               },
               &::dlt::detail::float_to_half_bits);
}

}  // namespace
}  // namespace dlt::gpu
