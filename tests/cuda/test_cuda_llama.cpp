// Llama on a CUDA device against the same weights on the CPU (float64):
// the fused grouped-query attention, rms_norm and rotary_embedding kernels
// in a whole model, forward and every parameter's gradient; and decoding
// with a KV cache on the device against a full pass. Skipped without a device.
#include "dlt/core/grad_mode.h"
#include "dlt/nn/layers/llama.h"
#include "tests/cuda/gpu_compare.h"
#include "tests/test_util.h"

namespace dlt::testing {
namespace {

nn::LlamaOptions small_llama() {
  return {.vocab_size = 50, .block_size = 40, .embed_dim = 64, .heads = 4, .kv_heads = 2,
          .layers = 2, .ffn_dim = 96};
}

TEST(CudaLlama, MatchesTheCpu) {
  DLT_SKIP_WITHOUT_CUDA();
  Generator gen(21);
  nn::BuildContext ctx{&gen, DType::f64};
  nn::Llama cpu(small_llama(), {37}, ctx), gpu(small_llama(), {37}, ctx);
  gpu.load_state_dict(cpu.state_dict());
  gpu.to(Device::cuda());
  const Tensor ids = randint(0, 50, {3, 37}, DType::i64, &gen);
  const Tensor upstream = randn({3, 37, 50}, DType::f64, &gen);
  const Tensor yc = cpu(ids), yg = gpu(ids.to(Device::cuda()));
  yc.backward(upstream);
  yg.backward(upstream.to(Device::cuda()));
  expect_close(yg.to(Device::cpu()), yc, 1e-9, 1e-10, "logits");
  const auto pc = cpu.named_parameters(), pg = gpu.named_parameters();
  ASSERT_EQ(pc.size(), pg.size());
  for (size_t i = 0; i < pc.size(); ++i)
    expect_close(pg[i].second.grad().to(Device::cpu()), pc[i].second.grad(), 1e-9, 1e-10,
                 pc[i].first + " gradient");
}

TEST(CudaLlama, DecodingOnTheDeviceMatchesAFullPass) {
  DLT_SKIP_WITHOUT_CUDA();
  Generator gen(22);
  nn::BuildContext ctx{&gen, DType::f32};
  nn::Llama llama(small_llama(), {40}, ctx);
  llama.to(Device::cuda());
  llama.eval();
  NoGradGuard no_grad;
  const Tensor ids = randint(0, 50, {2, 40}, DType::i64, &gen).to(Device::cuda());
  const Tensor full = llama(ids);
  llama.start_decoding(2, 40);
  std::vector<Tensor> steps = {llama.decode(ids.slice(1, 0, 5))};
  for (int64_t t = 5; t < 40; ++t) steps.push_back(llama.decode(ids.slice(1, t, t + 1)));
  llama.stop_decoding();
  expect_close(cat(steps, 1).to(Device::cpu()), full.to(Device::cpu()), 1e-4, 1e-5, "logits");
}

}  // namespace
}  // namespace dlt::testing
