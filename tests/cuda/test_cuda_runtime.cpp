// The CUDA runtime, allocators and copy kernel: moving tensors between host
// and device in every dtype and layout, conversions on the device, gradients
// through .to(cuda), the caching allocator's steady state, pinned memory and
// checkpoints across devices. Every test skips without a usable CUDA device.
#include <gtest/gtest.h>

#include <filesystem>

#include "dlt/core/allocator.h"
#include "dlt/core/device_runtime.h"
#include "dlt/core/grad_mode.h"
#include "dlt/nn/module.h"
#include "dlt/train/safetensors.h"
#include "tests/cuda/gpu_compare.h"
#include "tests/test_util.h"

namespace dlt {
namespace {

using testing::to_vector;

const Device kGpu = Device::cuda(0);

// 0, 1, 2, ... in `dtype`, shaped (2, 3, 4), made on the CPU (bool: the
// first half false, the rest true).
Tensor counting(DType dtype) {
  const Tensor x = arange(24, TensorOptions(DType::f64)).reshape({2, 3, 4});
  return dtype == DType::boolean ? gt(x, full({}, 11.5, DType::f64)) : x.to(dtype);
}

TEST(CudaRuntime, ReportsDevicesAndProperties) {
  DLT_SKIP_WITHOUT_CUDA();
  DeviceRuntime* rt = device_runtime(DeviceType::cuda);
  ASSERT_NE(rt, nullptr);
  EXPECT_TRUE(rt->why_unavailable().empty());
  const DeviceProperties p = rt->properties(0);
  EXPECT_FALSE(p.name.empty());
  EXPECT_GT(p.total_memory, size_t(1) << 30);
  EXPECT_GE(p.major, 3);
  EXPECT_GT(p.multiprocessors, 0);
  EXPECT_NE(rt->driver_version(), "none");
  EXPECT_NE(rt->runtime_version(), "none");
  testing::expect_error([] { (void)zeros({2}, TensorOptions().device(Device::cuda(99))); },
                        {"cuda:99 is not available"});
}

// Prefetching uploads run on the copy stream while the compute stream works;
// after wait_upload, compute-stream work sees the data.
TEST(CudaCopy, UploadsOnTheCopyStreamArriveBeforeTheyAreRead) {
  DLT_SKIP_WITHOUT_CUDA();
  DeviceRuntime* runtime = device_runtime(DeviceType::cuda);
  Generator gen(9);
  const Tensor busy = randn({2048, 2048}, DType::f32, &gen).to(Device::cuda());
  for (int round = 0; round < 3; ++round) {
    const Tensor host = randn({1 << 20}, DType::f32, &gen);
    Tensor pinned = empty_pinned(host.shape(), DType::f32);
    pinned.copy_(host);
    const Tensor queued = matmul(busy, busy);  // keeps the compute stream busy
    Tensor on_device = empty(host.shape(), TensorOptions(DType::f32).device(Device::cuda()));
    const uint64_t ticket = runtime->upload_async(on_device, pinned);
    runtime->wait_upload(0, ticket);
    EXPECT_EQ(to_vector<float>((on_device * 2.0).to(Device::cpu())),
              to_vector<float>(host * 2.0));
    EXPECT_EQ(queued.size(0), 2048);
  }
  const Tensor pageable = zeros({4});
  testing::expect_error([&] { runtime->upload_async(zeros({4}, TensorOptions().device(Device::cuda())), pageable); },
               {"upload_async", "pinned"});
}

TEST(CudaCopy, RoundTripsEveryDtype) {
  DLT_SKIP_WITHOUT_CUDA();
  for (DType t : {DType::f32, DType::f64, DType::f16, DType::bf16, DType::i32, DType::i64, DType::u8,
                  DType::boolean}) {
    const Tensor x = counting(t);
    const Tensor on_gpu = x.to(kGpu);
    EXPECT_EQ(on_gpu.device(), kGpu);
    EXPECT_EQ(on_gpu.dtype(), t);
    const Tensor back = on_gpu.to(Device::cpu());
    EXPECT_EQ(back.device(), Device::cpu());
    EXPECT_EQ(back.shape(), x.shape());
    EXPECT_EQ(to_vector<double>(back), to_vector<double>(x)) << dtype_name(t);
  }
}

TEST(CudaCopy, NonContiguousAndBroadcastSources) {
  DLT_SKIP_WITHOUT_CUDA();
  const Tensor x = counting(DType::f32);  // (2, 3, 4)
  // Host sources: a transpose, a stepped slice, a broadcast.
  for (const Tensor& src : {x.transpose(0, 2), x.slice(2, 0, 4, 2), x.select(1, 1).unsqueeze(1).expand({2, 5, 4})}) {
    EXPECT_EQ(to_vector<double>(src.to(kGpu)), to_vector<double>(src)) << shape_str(src.shape());
  }
  // The same views of a device tensor, made contiguous by the device kernel.
  const Tensor g = x.to(kGpu);
  EXPECT_EQ(to_vector<double>(g.transpose(0, 2).contiguous()), to_vector<double>(x.transpose(0, 2)));
  EXPECT_EQ(to_vector<double>(g.slice(2, 1, 4, 2).clone()), to_vector<double>(x.slice(2, 1, 4, 2)));
  EXPECT_EQ(to_vector<double>(g.select(0, 1).expand({3, 3, 4}).clone()),
            to_vector<double>(x.select(0, 1).expand({3, 3, 4})));
  // Device -> host of a non-contiguous device view.
  EXPECT_EQ(to_vector<double>(g.permute({2, 0, 1}).to(Device::cpu())), to_vector<double>(x.permute({2, 0, 1})));
}

TEST(CudaCopy, ConvertsDtypesOnTheDeviceAsTheCpuDoes) {
  DLT_SKIP_WITHOUT_CUDA();
  const Tensor x = arange(64, TensorOptions(DType::f32)) / 3.0 - 10.0;  // fractions, negatives
  const Tensor g = x.to(kGpu);
  for (DType t : {DType::f64, DType::f16, DType::bf16, DType::i32, DType::i64, DType::boolean}) {
    const Tensor on_gpu = g.to(t);
    EXPECT_EQ(on_gpu.device(), kGpu);
    EXPECT_EQ(to_vector<double>(on_gpu), to_vector<double>(x.to(t))) << dtype_name(t);
    EXPECT_EQ(to_vector<double>(on_gpu.to(DType::f32)), to_vector<double>(x.to(t).to(DType::f32))) << dtype_name(t);
  }
  // Host -> device and device -> host with a conversion on the way.
  EXPECT_EQ(to_vector<double>(x.to(DType::f16).to(kGpu).to(DType::f32)),
            to_vector<double>(x.to(DType::f16).to(DType::f32)));
  Tensor host_f64 = zeros({64}, DType::f64);
  host_f64.copy_(g);
  EXPECT_EQ(to_vector<double>(host_f64), to_vector<double>(x.to(DType::f64)));
}

TEST(CudaCopy, CopiesIntoViewsOfDeviceAndHostTensors) {
  DLT_SKIP_WITHOUT_CUDA();
  const Tensor src = counting(DType::f64).reshape({4, 6}).slice(1, 0, 2);  // (4, 2) f64, host, strided
  Tensor dst = zeros({4, 6}, TensorOptions(DType::f32).device(kGpu));
  Tensor expected = zeros({4, 6}, DType::f32);
  Tensor view = dst.slice(1, 1, 5, 2);  // (4, 2), strided
  view.copy_(src);                      // host -> device view, converting
  expected.slice(1, 1, 5, 2).copy_(src);
  EXPECT_EQ(to_vector<double>(dst), to_vector<double>(expected));

  Tensor t_view = dst.t();  // device -> device view, broadcasting a row
  t_view.copy_(arange(4, DType::i32).to(kGpu));
  expected.t().copy_(arange(4, DType::i32));
  EXPECT_EQ(to_vector<double>(dst), to_vector<double>(expected));

  Tensor host = zeros({6, 4}, DType::f64);  // device -> strided host view
  host.t().copy_(dst);
  EXPECT_EQ(to_vector<double>(host.t()), to_vector<double>(expected));
}

TEST(CudaCopy, GradientsFlowBackToTheHostInput) {
  DLT_SKIP_WITHOUT_CUDA();
  Tensor x = counting(DType::f32).requires_grad_();
  const Tensor y = x.to(kGpu).to(DType::f64).to(Device::cpu());  // host -> device -> host
  ASSERT_TRUE(y.requires_grad());
  mul(y, y).sum().backward();
  ASSERT_TRUE(x.grad().defined());
  EXPECT_EQ(x.grad().device(), Device::cpu());
  EXPECT_EQ(x.grad().dtype(), DType::f32);
  EXPECT_EQ(to_vector<double>(x.grad()), to_vector<double>(x.detach() * 2.0));
}

TEST(CudaMemory, PinnedTensorsRoundTrip) {
  DLT_SKIP_WITHOUT_CUDA();
  const Tensor x = counting(DType::f32);
  EXPECT_FALSE(x.is_pinned());
  const Tensor p = x.pin_memory();
  EXPECT_TRUE(p.is_pinned());
  EXPECT_TRUE(p.pin_memory().is_same(p));
  EXPECT_EQ(to_vector<double>(p.to(kGpu)), to_vector<double>(x));
  Tensor back = empty_pinned(x.shape(), DType::f32);
  back.copy_(p.to(kGpu));
  EXPECT_EQ(to_vector<double>(back), to_vector<double>(x));
}

TEST(CudaMemory, StepsAfterWarmUpReserveNothingNew) {
  DLT_SKIP_WITHOUT_CUDA();
  Allocator& a = allocator_for(DeviceType::cuda);
  const Tensor host = arange(1 << 20, TensorOptions(DType::f32)).reshape({1024, 1024});
  auto step = [&] {
    const Tensor g = host.to(kGpu);                   // 4 MiB
    const Tensor t = g.t().contiguous();              // 4 MiB
    const Tensor h = t.to(DType::f16);                // 2 MiB
    const Tensor small = g.slice(0, 0, 3).clone();    // 12 KiB
    const Tensor big = empty({48 << 20}, TensorOptions(DType::u8).device(kGpu));  // 48 MiB
    return h.to(Device::cpu()).numel() + small.numel() + big.numel();
  };
  for (int i = 0; i < 3; ++i) step();
  const size_t reserved = a.stats().reserved;
  EXPECT_GT(reserved, 0u);
  for (int i = 0; i < 20; ++i) step();
  EXPECT_EQ(a.stats().reserved, reserved);
  EXPECT_GE(a.stats().peak_allocated, size_t(58) << 20);
}

TEST(CudaMemory, OutOfMemoryNamesTheRequestAndTheDevice) {
  DLT_SKIP_WITHOUT_CUDA();
  testing::expect_error([] { (void)empty({int64_t(1) << 50}, TensorOptions(DType::u8).device(kGpu)); },
                        {"out of memory on cuda:0", "reserved by dlt's caching allocator"});
  // The failure left the allocator usable.
  EXPECT_EQ(to_vector<double>(ones({3}, TensorOptions().device(kGpu))), (std::vector<double>{1, 1, 1}));
}

struct TwoTensors : nn::Module {
  Tensor weight, count;
  TwoTensors() {
    weight = register_parameter("weight", arange(6, TensorOptions(DType::f32)).reshape({2, 3}));
    count = register_buffer("count", full({}, 5.0, DType::i64));
  }
  Tensor forward(const Tensor& x) override { return x; }
  std::string type() const override { return "TwoTensors"; }
};

TEST(CudaModule, MovesInPlaceAndCheckpointsCrossDevices) {
  DLT_SKIP_WITHOUT_CUDA();
  TwoTensors m;
  const Tensor handle = m.weight;  // as an optimizer holds it
  m.to(kGpu);
  EXPECT_EQ(handle.device(), kGpu);
  EXPECT_EQ(m.count.device(), kGpu);
  EXPECT_TRUE(handle.requires_grad());

  // Saved from the GPU, loaded on the CPU.
  const std::filesystem::path file = std::filesystem::temp_directory_path() / "dlt_cuda_module.safetensors";
  train::save_safetensors(file, m.state_dict());
  const train::TensorMap loaded = train::load_safetensors(file).tensors;
  EXPECT_EQ(loaded.at("weight").device(), Device::cpu());
  EXPECT_EQ(to_vector<double>(loaded.at("weight")), (std::vector<double>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(to_vector<double>(loaded.at("count")), (std::vector<double>{5}));

  // A CPU checkpoint loaded into a model on the GPU.
  TwoTensors on_gpu;
  on_gpu.to(kGpu);
  {
    NoGradGuard no_grad;
    on_gpu.weight.zero_();
  }
  on_gpu.load_state_dict(loaded);
  EXPECT_EQ(on_gpu.weight.device(), kGpu);
  EXPECT_EQ(to_vector<double>(on_gpu.weight), (std::vector<double>{0, 1, 2, 3, 4, 5}));
  std::filesystem::remove(file);
}

}  // namespace
}  // namespace dlt
