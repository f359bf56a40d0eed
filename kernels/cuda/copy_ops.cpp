// The copy op on the GPU: within a device (strided, broadcasting, converting),
// between devices, and between host and device, in either direction (the op
// layer sends every copy with a GPU end here).
//
// Host -> device: a contiguous host tensor of the destination's dtype and
// shape goes straight in with cudaMemcpyAsync (from pinned memory, or staged
// through a pinned buffer: the copy is asynchronous and the host may reuse its
// memory at once). Anything else first lands contiguously on the device, in the
// source's dtype and shape, and is converted and broadcast there.
// Device -> host: the reverse, and the host waits for the copy before return.
//
// CUDA runtime names used here (for the HIP mapping): cudaMemcpyAsync,
// cudaMemcpyHostToDevice, cudaMemcpyDeviceToHost, cudaMemcpyPeerAsync.
#include <cstring>

#include "dlt/core/grad_mode.h"
#include "dlt/ops/dispatch.h"
#include "kernels/cuda/copy.h"
#include "kernels/cuda/tensor_arg_host.h"

namespace dlt::gpu {
namespace {

using ops::KernelCall;

// `in` seen with out's shape: leading and size-1 dims broadcast (stride 0).
TensorArg broadcast_arg(const Tensor& in, const Tensor& out) {
  TensorArg a = tensor_arg(out);
  a.data = in.numel() > 0 ? in.raw_data() : nullptr;
  a.dtype = dtype_code(in.dtype());
  const int64_t lead = out.dim() - in.dim();
  for (int d = 0; d < a.ndim; ++d) {
    const int64_t k = d - lead;
    a.strides[d] = (k < 0 || in.size(k) == 1) ? 0 : in.stride(k);
  }
  return a;
}

bool is_gpu(const Tensor& t) { return t.device().type == DeviceType::DLT_GPU_DEVICE; }

// The same bytes in the same layout: a plain memcpy will do.
bool plain_copy(const Tensor& dst, const Tensor& src) {
  return dst.dtype() == src.dtype() && dst.shape() == src.shape() && dst.is_contiguous() &&
         src.is_contiguous();
}

Tensor empty_on(const Tensor& like, DType dtype, Device device) {
  return empty(like.shape(), TensorOptions(dtype).device(device));
}

void copy_on_device(Tensor& dst, const Tensor& src) {
  launch_copy(tensor_arg(dst), broadcast_arg(src, dst), stream_for(dst));
}

// Contiguous host memory -> contiguous device memory of the same size.
void upload(void* dst, const Tensor& src_host, cudaStream_t stream) {
  const size_t bytes = size_t(src_host.numel()) * src_host.element_size();
  if (src_host.is_pinned()) {
    DLT_GPU_CHECK(cudaMemcpyAsync(dst, src_host.raw_data(), bytes, cudaMemcpyHostToDevice, stream));
    return;
  }
  // Pageable memory: stage it, so the copy is asynchronous and the caller may
  // free or overwrite its buffer as soon as we return. The staging block is
  // freed at once; the pinned allocator reuses it only after this copy ran.
  Allocator* pinned = pinned_allocator();
  DLT_ASSERT(pinned != nullptr, "the GPU backend registers a pinned allocator");
  void* staging = pinned->allocate(bytes, 0);
  std::memcpy(staging, src_host.raw_data(), bytes);
  const cudaError_t err = cudaMemcpyAsync(dst, staging, bytes, cudaMemcpyHostToDevice, stream);
  pinned->deallocate(staging, bytes, 0);
  DLT_GPU_CHECK(err);
}

void host_to_device(Tensor& dst, const Tensor& src) {
  const cudaStream_t stream = stream_for(dst);
  if (plain_copy(dst, src)) {
    upload(dst.raw_data(), src, stream);
    return;
  }
  // Land the source as it is (contiguous, its dtype and shape), convert on the device.
  const Tensor host = src.contiguous();
  Tensor landed = empty_on(src, src.dtype(), dst.device());
  upload(landed.raw_data(), host, stream);
  copy_on_device(dst, landed);
}

void device_to_host(Tensor& dst, const Tensor& src) {
  const cudaStream_t stream = stream_for(src);
  Tensor staged = src;  // on the device, contiguous, in dst's dtype and shape
  if (!plain_copy(dst, src)) {
    staged = empty_on(dst, dst.dtype(), src.device());
    copy_on_device(staged, src);
  }
  Tensor host = dst.is_contiguous() ? dst : empty_on(dst, dst.dtype(), Device::cpu());
  DLT_GPU_CHECK(cudaMemcpyAsync(host.raw_data(), staged.raw_data(),
                                size_t(staged.numel()) * staged.element_size(),
                                cudaMemcpyDeviceToHost, stream));
  DLT_GPU_CHECK(cudaStreamSynchronize(stream));  // the host reads next
  if (!host.is_same(dst)) {  // scatter into the strided destination on the host
    Tensor ins[] = {host};
    Tensor outs[] = {dst};
    ops::run(ops::OpId::copy, ins, outs, nullptr);
  }
}

// Between two GPUs: the source, contiguous on its device, crosses with a peer
// copy into a buffer on the destination's device, then converts there.
void device_to_device(Tensor& dst, const Tensor& src) {
  const Tensor packed = src.contiguous();
  Tensor landed = empty_on(src, src.dtype(), dst.device());
  synchronize(src.device().index);  // the source's stream has produced it
  DLT_GPU_CHECK(cudaMemcpyPeerAsync(landed.raw_data(), dst.device().index, packed.raw_data(),
                                    src.device().index,
                                    size_t(packed.numel()) * packed.element_size(),
                                    stream_for(dst)));
  copy_on_device(dst, landed);
}

void copy_kernel(const KernelCall& c) {
  const Tensor& src = c.in[0];
  Tensor& dst = c.out[0];
  if (dst.numel() == 0) return;
  NoGradGuard no_grad;  // the temporaries below are not part of the graph
  if (is_gpu(src) && is_gpu(dst)) {
    if (src.device() == dst.device())
      copy_on_device(dst, src);
    else
      device_to_device(dst, src);
  } else if (is_gpu(dst)) {
    DLT_CHECK(src.device().is_cpu(), "copy: cannot copy from {} to {}", src.device(), dst.device());
    host_to_device(dst, src);
  } else {
    DLT_CHECK(dst.device().is_cpu(), "copy: cannot copy from {} to {}", src.device(), dst.device());
    device_to_host(dst, src);
  }
}

}  // namespace

DLT_REGISTER_GPU_KERNEL(copy, copy_kernel);

}  // namespace dlt::gpu
