#include "kernels/cuda/cudnn.h"

#include <climits>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "dlt/core/error.h"
#include "dlt/core/math_mode.h"
#include "kernels/cuda/runtime.h"

namespace dlt::gpu {

void cudnn_fail(const char* expr, cudnnStatus_t status, const char* file, int line) {
  throw Error(fmt::format("cuDNN error: {} ({}) at {}:{}", cudnnGetErrorString(status), expr,
                          file, line));
}

namespace {

struct DeviceDnn {
  cudnnHandle_t handle = nullptr;
  std::map<std::vector<int64_t>, ConvPlan> plans;  // node-based: references stay valid
};

std::mutex& dnn_mutex() {
  static auto* mu = new std::mutex;
  return *mu;
}

// Never destroyed: handles and plans live as long as the process.
DeviceDnn& device_dnn(int device, cudaStream_t stream) {
  static auto* table = new std::vector<std::unique_ptr<DeviceDnn>>(size_t(device_count()));
  auto& slot = (*table)[size_t(device)];
  if (!slot) {
    auto d = std::make_unique<DeviceDnn>();
    DLT_CUDNN_CHECK(cudnnCreate(&d->handle));
    DLT_CUDNN_CHECK(cudnnSetStream(d->handle, stream));
    slot = std::move(d);
  }
  return *slot;
}

cudnnDataType_t data_type(DTypeCode t) {
  switch (t) {
    case DTypeCode::f64: return CUDNN_DATA_DOUBLE;
    case DTypeCode::f16: return CUDNN_DATA_HALF;
    case DTypeCode::bf16: return CUDNN_DATA_BFLOAT16;
    default: return CUDNN_DATA_FLOAT;
  }
}

// f32 stays full f32 (FMA kernels only) unless TF32 is allowed; f16/bf16 use
// tensor cores with f32 accumulation.
cudnnMathType_t math_type(DTypeCode t, bool tf32) {
  switch (t) {
    case DTypeCode::f32: return tf32 ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH;
    case DTypeCode::f16:
    case DTypeCode::bf16: return CUDNN_TENSOR_OP_MATH;
    default: return CUDNN_DEFAULT_MATH;
  }
}

int narrow(int64_t v, const ConvShape& s) {
  DLT_CHECK(v <= INT_MAX,
            "conv2d: input (B={}, C={}, H={}, W={}) exceeds cuDNN's 32-bit sizes", s.B, s.Cin,
            s.H, s.W);
  return int(v);
}

void make_descriptors(ConvPlan& p, const ConvShape& s, bool tf32) {
  const cudnnDataType_t type = data_type(s.dtype);
  narrow(s.B * s.Cin * s.H * s.W, s);
  narrow(s.B * s.Cout * s.Ho * s.Wo, s);
  DLT_CUDNN_CHECK(cudnnCreateTensorDescriptor(&p.x));
  DLT_CUDNN_CHECK(cudnnSetTensor4dDescriptor(p.x, CUDNN_TENSOR_NCHW, type, narrow(s.B, s),
                                             narrow(s.Cin, s), narrow(s.H, s), narrow(s.W, s)));
  DLT_CUDNN_CHECK(cudnnCreateTensorDescriptor(&p.y));
  DLT_CUDNN_CHECK(cudnnSetTensor4dDescriptor(p.y, CUDNN_TENSOR_NCHW, type, narrow(s.B, s),
                                             narrow(s.Cout, s), narrow(s.Ho, s), narrow(s.Wo, s)));
  DLT_CUDNN_CHECK(cudnnCreateFilterDescriptor(&p.w));
  DLT_CUDNN_CHECK(cudnnSetFilter4dDescriptor(p.w, type, CUDNN_TENSOR_NCHW, narrow(s.Cout, s),
                                             narrow(s.Cin / s.groups, s), narrow(s.kH, s),
                                             narrow(s.kW, s)));
  DLT_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&p.conv));
  DLT_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(
      p.conv, int(s.padding[0]), int(s.padding[1]), int(s.stride[0]), int(s.stride[1]),
      int(s.dilation[0]), int(s.dilation[1]), CUDNN_CROSS_CORRELATION,
      s.dtype == DTypeCode::f64 ? CUDNN_DATA_DOUBLE : CUDNN_DATA_FLOAT));
  DLT_CUDNN_CHECK(cudnnSetConvolutionGroupCount(p.conv, int(s.groups)));
  DLT_CUDNN_CHECK(cudnnSetConvolutionMathType(p.conv, math_type(s.dtype, tf32)));
}

// The first ranked result that works, preferring a deterministic one.
template <class Perf> void pick(ConvPlan& p, const Perf* perf, int count, const ConvShape& s,
                                const char* pass) {
  const Perf* chosen = nullptr;
  for (int i = 0; i < count && !chosen; ++i)
    if (perf[i].status == CUDNN_STATUS_SUCCESS && perf[i].determinism == CUDNN_DETERMINISTIC)
      chosen = &perf[i];
  for (int i = 0; i < count && !chosen; ++i)
    if (perf[i].status == CUDNN_STATUS_SUCCESS) chosen = &perf[i];
  DLT_CHECK(chosen != nullptr,
            "conv2d: cuDNN has no {} algorithm for input [{}, {}, {}, {}], weight [{}, {}, {}, "
            "{}], groups {}",
            pass, s.B, s.Cin, s.H, s.W, s.Cout, s.Cin / s.groups, s.kH, s.kW, s.groups);
  p.algo = int(chosen->algo);
  p.workspace_bytes = chosen->memory;
}

void choose_algorithm(cudnnHandle_t h, ConvPlan& p, const ConvShape& s, ConvPass pass) {
  constexpr int kMax = 16;
  int count = 0;
  switch (pass) {
    case ConvPass::forward: {
      cudnnConvolutionFwdAlgoPerf_t perf[kMax];
      DLT_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(h, p.x, p.w, p.conv, p.y, kMax,
                                                             &count, perf));
      pick(p, perf, count, s, "forward");
      size_t bytes = 0;
      DLT_CUDNN_CHECK(cudnnGetConvolutionForwardWorkspaceSize(
          h, p.x, p.w, p.conv, p.y, cudnnConvolutionFwdAlgo_t(p.algo), &bytes));
      p.workspace_bytes = bytes;
      return;
    }
    case ConvPass::backward_data: {
      cudnnConvolutionBwdDataAlgoPerf_t perf[kMax];
      DLT_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(h, p.w, p.y, p.conv, p.x, kMax,
                                                                  &count, perf));
      pick(p, perf, count, s, "backward data");
      size_t bytes = 0;
      DLT_CUDNN_CHECK(cudnnGetConvolutionBackwardDataWorkspaceSize(
          h, p.w, p.y, p.conv, p.x, cudnnConvolutionBwdDataAlgo_t(p.algo), &bytes));
      p.workspace_bytes = bytes;
      return;
    }
    case ConvPass::backward_filter: {
      cudnnConvolutionBwdFilterAlgoPerf_t perf[kMax];
      DLT_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, p.x, p.y, p.conv, p.w,
                                                                    kMax, &count, perf));
      pick(p, perf, count, s, "backward filter");
      size_t bytes = 0;
      DLT_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterWorkspaceSize(
          h, p.x, p.y, p.conv, p.w, cudnnConvolutionBwdFilterAlgo_t(p.algo), &bytes));
      p.workspace_bytes = bytes;
      return;
    }
  }
}

}  // namespace

cudnnHandle_t cudnn_handle(int device, cudaStream_t stream) {
  std::lock_guard lock(dnn_mutex());
  return device_dnn(device, stream).handle;
}

const ConvPlan& conv_plan(int device, cudaStream_t stream, const ConvShape& s, ConvPass pass) {
  const bool tf32 = allow_tf32();
  const std::vector<int64_t> key = {
      int64_t(pass), int64_t(s.dtype), tf32, s.B, s.Cin, s.H, s.W, s.Cout, s.kH, s.kW, s.Ho,
      s.Wo, s.groups, s.stride[0], s.stride[1], s.padding[0], s.padding[1], s.dilation[0],
      s.dilation[1]};
  std::lock_guard lock(dnn_mutex());
  DeviceDnn& dev = device_dnn(device, stream);
  auto it = dev.plans.find(key);
  if (it != dev.plans.end()) return it->second;
  ConvPlan p;
  make_descriptors(p, s, tf32);
  choose_algorithm(dev.handle, p, s, pass);
  return dev.plans.emplace(key, p).first->second;
}

}  // namespace dlt::gpu
