// Registers the indexing kernels of index.cu (operands as in
// kernels/cpu/index.cpp). Kernels note the first out-of-range index on the
// device; reading that note back synchronises the stream once per call, the
// price of naming the bad index in a dlt::Error as the CPU does.
#include "dlt/ops/dispatch.h"
#include "dlt/ops/ops.h"
#include "kernels/cuda/index.h"
#include "kernels/cuda/tensor_arg_host.h"

namespace dlt::gpu {
namespace {

using ops::KernelCall;

// A device int64 the kernels atomicMin the first bad index position into;
// it starts at `positions` (one past the last position).
class BadIndexNote {
 public:
  BadIndexNote(const Tensor& index, int64_t positions)
      : index_(index),
        none_(positions),
        note_(full({1}, double(positions), TensorOptions(DType::i64).device(index.device()))) {}

  int64_t* device_ptr() const { return static_cast<int64_t*>(note_.raw_data()); }

  // Throws Error(message(position, value)) when a kernel noted a bad index.
  template <class Message>
  void throw_if_any(Message message) const {
    const int64_t p = note_.item<int64_t>();
    if (p >= none_) return;
    const int64_t v = index_.reshape({index_.numel()}).select(0, p).item<int64_t>();
    throw Error(message(p, v));
  }

 private:
  Tensor index_;
  int64_t none_;
  Tensor note_;
};

// The accumulator index_add / scatter_add / embedding_backward need when out's
// dtype has no atomics (f16, bf16, u8, bool): contiguous, out's shape.
TensorArg accumulator_for(const Tensor& out, Tensor& keep) {
  const DTypeCode acc = acc_code(dtype_code(out.dtype()));
  if (acc == dtype_code(out.dtype())) return TensorArg{};
  keep = empty(out.shape(), TensorOptions(static_cast<DType>(acc)).device(out.device()));
  return tensor_arg(keep);
}


std::string index_message(const char* op, int64_t p, int64_t v, int64_t dim, int64_t size) {
  return fmt::format(
      "{}: index {} (at position {} of the index) is out of range for dimension {} "
      "of size {}",
      op, v, p, dim, size);
}

// weight (V, C), indices (P) -> out (P, C).
void embedding_kernel(const KernelCall& c) {
  const Tensor &weight = c.in[0], &indices = c.in[1];
  const int64_t V = weight.size(0), C = weight.size(1);
  BadIndexNote bad(indices, indices.numel());
  launch_index_select(tensor_arg(c.out[0]), tensor_arg(weight), tensor_arg(indices), 1, V, C,
                      bad.device_ptr(), stream_for(weight));
  bad.throw_if_any([V](int64_t p, int64_t v) {
    return fmt::format(
        "embedding: index {} (at position {}) is out of range for a weight of {} "
        "rows (valid indices: 0 to {})",
        v, p, V, V - 1);
  });
}
DLT_REGISTER_GPU_KERNEL(embedding, embedding_kernel);

// grad (P, C), indices (P) -> grad_weight (V, C); the padding row gets no gradient.
void embedding_backward_kernel(const KernelCall& c) {
  const auto& attrs = c.attrs<ops::EmbeddingAttrs>();
  const Tensor &grad = c.in[0], &indices = c.in[1];
  Tensor& out = c.out[0];
  DLT_CHECK(is_floating(grad.dtype()),
            "embedding_backward expects a floating point gradient, got {}", grad.dtype());
  const int64_t V = attrs.num_weights, C = grad.size(1);
  Tensor acc_storage;
  const TensorArg acc = accumulator_for(out, acc_storage);
  BadIndexNote bad(indices, indices.numel());
  launch_index_add(tensor_arg(out), acc, tensor_arg(out), tensor_arg(indices), tensor_arg(grad), 1,
                   V, C, attrs.padding_idx, true, bad.device_ptr(), stream_for(out));
  bad.throw_if_any([V](int64_t p, int64_t v) {
    return fmt::format("embedding_backward: index {} (at position {}) is out of range for {} rows",
                       v, p, V);
  });
}
DLT_REGISTER_GPU_KERNEL(embedding_backward, embedding_backward_kernel);

// x (outer, D, inner), index (K) -> out (outer, K, inner).
void index_select_kernel(const KernelCall& c) {
  const int64_t dim = c.attrs<ops::DimAttrs>().dim;
  const Tensor &x = c.in[0], &index = c.in[1];
  const AroundDim a = around_dim(x.shape(), dim);
  BadIndexNote bad(index, index.numel());
  launch_index_select(tensor_arg(c.out[0]), tensor_arg(x), tensor_arg(index), a.outer, a.size,
                      a.inner, bad.device_ptr(), stream_for(x));
  bad.throw_if_any(
      [&](int64_t p, int64_t v) { return index_message("index_select", p, v, dim, a.size); });
}
DLT_REGISTER_GPU_KERNEL(index_select, index_select_kernel);

// x (outer, D, inner), index (K), src (outer, K, inner) -> out = x with
// src[:, k] added to out[:, index[k]].
void index_add_kernel(const KernelCall& c) {
  const int64_t dim = c.attrs<ops::DimAttrs>().dim;
  const Tensor &x = c.in[0], &index = c.in[1], &src = c.in[2];
  Tensor& out = c.out[0];
  const AroundDim a = around_dim(x.shape(), dim);
  Tensor acc_storage;
  const TensorArg acc = accumulator_for(out, acc_storage);
  BadIndexNote bad(index, index.numel());
  launch_index_add(tensor_arg(out), acc, tensor_arg(x), tensor_arg(index), tensor_arg(src), a.outer,
                   a.size, a.inner, -1, false, bad.device_ptr(), stream_for(out));
  bad.throw_if_any(
      [&](int64_t p, int64_t v) { return index_message("index_add", p, v, dim, a.size); });
}
DLT_REGISTER_GPU_KERNEL(index_add, index_add_kernel);

// x (any strides), index (contiguous, x's rank) -> out (index's shape).
void gather_kernel(const KernelCall& c) {
  const int64_t dim = c.attrs<ops::DimAttrs>().dim;
  const Tensor &x = c.in[0], &index = c.in[1];
  BadIndexNote bad(index, index.numel());
  launch_gather(tensor_arg(c.out[0]), tensor_arg(x), tensor_arg(index), dim, bad.device_ptr(),
                stream_for(x));
  bad.throw_if_any(
      [&](int64_t p, int64_t v) { return index_message("gather", p, v, dim, x.size(dim)); });
}
DLT_REGISTER_GPU_KERNEL(gather, gather_kernel);

// x (contiguous), index (contiguous), src (any strides) -> out = x with
// src[i] added at i with coordinate `dim` replaced by index[i].
void scatter_add_kernel(const KernelCall& c) {
  const int64_t dim = c.attrs<ops::DimAttrs>().dim;
  const Tensor &x = c.in[0], &index = c.in[1], &src = c.in[2];
  Tensor& out = c.out[0];
  DLT_ASSERT(out.is_contiguous() && x.is_contiguous(), "scatter_add needs a contiguous input");
  Tensor acc_storage;
  const TensorArg acc = accumulator_for(out, acc_storage);
  BadIndexNote bad(index, index.numel());
  launch_scatter_add(tensor_arg(out), acc, tensor_arg(x), tensor_arg(index), tensor_arg(src), dim,
                     bad.device_ptr(), stream_for(out));
  bad.throw_if_any(
      [&](int64_t p, int64_t v) { return index_message("scatter_add", p, v, dim, x.size(dim)); });
}
DLT_REGISTER_GPU_KERNEL(scatter_add, scatter_add_kernel);

// indices (P) -> out (P, N) int64.
void one_hot_kernel(const KernelCall& c) {
  const int64_t N = c.attrs<ops::OneHotAttrs>().num_classes;
  const Tensor& indices = c.in[0];
  BadIndexNote bad(indices, indices.numel());
  launch_one_hot(tensor_arg(c.out[0]), tensor_arg(indices), N, bad.device_ptr(),
                 stream_for(indices));
  bad.throw_if_any([N](int64_t p, int64_t v) {
    return v < 0 ? fmt::format("one_hot: class values must be non-negative, got {} at position {}",
                               v, p)
                 : fmt::format(
                       "one_hot: class value {} at position {} is not smaller than "
                       "num_classes = {}",
                       v, p, N);
  });
}
DLT_REGISTER_GPU_KERNEL(one_hot, one_hot_kernel);

}  // namespace
}  // namespace dlt::gpu
