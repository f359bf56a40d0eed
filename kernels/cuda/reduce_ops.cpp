// The reduction ops on the GPU: plans the walk (reduce_geometry.h), makes
// the temporaries of the two-pass ops (var: means; logsumexp: maxes) and the
// slice workspace, and calls launch_reduce. Inputs may have any strides.
#include <algorithm>

#include "dlt/ops/dispatch.h"
#include "kernels/cuda/reduce.h"
#include "kernels/cuda/tensor_arg_host.h"

namespace dlt::gpu {
namespace {

using ops::KernelCall;

// The accumulation dtype of floating reductions: f64 for f64, else f32.
DType acc_dtype(DType t) { return t == DType::f64 ? DType::f64 : DType::f32; }

uint32_t mask_of(const Tensor& x, const Shape& dims) {
  uint32_t mask = 0;
  for (int64_t d : dims) mask |= 1u << d;
  return dims.empty() && x.dim() > 0 ? (1u << x.dim()) - 1 : mask;
}

// One planned reduction of x and the device scratch it needs.
class PlannedReduction {
 public:
  PlannedReduction(const Tensor& x, uint32_t mask) : x_(x) {
    call_.in = tensor_arg(x);
    call_.geometry = plan_reduce_geometry(call_.in, mask);
    if (const int64_t bytes = reduce_workspace_bytes(call_.geometry)) {
      workspace_ = empty({bytes}, TensorOptions(DType::u8).device(x.device()));
      call_.workspace = workspace_.raw_data();
    }
  }
  int64_t outputs() const { return call_.geometry.outputs; }
  int64_t count() const { return call_.geometry.count; }

  // Outputs must be dense: the kernels write output o at element o.
  void run(ReduceKind kind, const Tensor& out, const Tensor& indices = Tensor(),
           const void* param = nullptr, double scalar = 1) {
    for (const Tensor* t : {&out, &indices})
      DLT_CHECK(!t->defined() || t->is_contiguous(),
                "GPU reduction of a {} input: expected a contiguous output, got strides {}",
                shape_str(x_.shape()), shape_str(t->strides()));
    ReduceCall c = call_;
    c.kind = kind;
    c.out = out.defined() && out.numel() > 0 ? out.raw_data() : nullptr;
    c.indices = indices.defined() && indices.numel() > 0 ? indices.data_ptr<int64_t>() : nullptr;
    c.param = param;
    c.scalar = scalar;
    launch_reduce(c, stream_for(x_));
  }

  // One accumulation-typed value per output, for the first pass of two.
  Tensor scratch() const {
    return empty({outputs()}, TensorOptions(acc_dtype(x_.dtype())).device(x_.device()));
  }

 private:
  Tensor x_;
  ReduceCall call_;
  Tensor workspace_;
};

void check_floating(const Tensor& x, const char* op) {
  DLT_CHECK(is_floating(x.dtype()), "{} on the GPU expects a floating point input, got {}", op,
            x.dtype());
}

void sum_kernel(const KernelCall& c) {
  PlannedReduction(c.in[0], mask_of(c.in[0], c.attrs<ops::ReduceAttrs>().dims))
      .run(ReduceKind::sum, c.out[0]);
}
DLT_REGISTER_GPU_KERNEL(sum, sum_kernel);

void mean_kernel(const KernelCall& c) {
  check_floating(c.in[0], "mean");
  PlannedReduction r(c.in[0], mask_of(c.in[0], c.attrs<ops::ReduceAttrs>().dims));
  r.run(ReduceKind::mean, c.out[0], Tensor(), nullptr, double(r.count()));
}
DLT_REGISTER_GPU_KERNEL(mean, mean_kernel);

// Two passes, as the CPU: the mean, then squared deviations from it.
void var_kernel(const KernelCall& c) {
  check_floating(c.in[0], "var");
  const auto& attrs = c.attrs<ops::VarAttrs>();
  PlannedReduction r(c.in[0], mask_of(c.in[0], attrs.dims));
  const Tensor means = r.scratch();
  r.run(ReduceKind::mean_acc, means, Tensor(), nullptr, double(r.count()));
  r.run(ReduceKind::deviation, c.out[0], Tensor(), means.numel() > 0 ? means.raw_data() : nullptr,
        std::max(0.0, double(r.count()) - attrs.correction));
}
DLT_REGISTER_GPU_KERNEL(var, var_kernel);

template <ReduceKind kKind> void extremum_kernel(const KernelCall& c) {
  const Tensor& x = c.in[0];
  PlannedReduction(x, mask_of(x, c.attrs<ops::ReduceAttrs>().dims)).run(kKind, c.out[0]);
}
DLT_REGISTER_GPU_KERNEL(amax, extremum_kernel<ReduceKind::amax>);
DLT_REGISTER_GPU_KERNEL(amin, extremum_kernel<ReduceKind::amin>);

// log(sum(exp(x - m))) + m with m the max (0 where infinite), as the CPU.
void logsumexp_kernel(const KernelCall& c) {
  check_floating(c.in[0], "logsumexp");
  PlannedReduction r(c.in[0], mask_of(c.in[0], c.attrs<ops::ReduceAttrs>().dims));
  const Tensor maxes = r.scratch();
  r.run(ReduceKind::lse_max, maxes);
  r.run(ReduceKind::lse_sum, c.out[0], Tensor(), maxes.numel() > 0 ? maxes.raw_data() : nullptr);
}
DLT_REGISTER_GPU_KERNEL(logsumexp, logsumexp_kernel);

uint32_t dim_mask(const Tensor& x, int64_t dim) { return x.dim() > 0 ? 1u << dim : 0u; }

// outputs: values, indices.
template <ReduceKind kKind> void max_dim_kernel(const KernelCall& c) {
  const Tensor& x = c.in[0];
  const int64_t dim = c.attrs<ops::ReduceDimAttrs>().dim;
  PlannedReduction(x, dim_mask(x, dim)).run(kKind, c.out[0], c.out[1]);
}
DLT_REGISTER_GPU_KERNEL(max_dim, max_dim_kernel<ReduceKind::argmax>);
DLT_REGISTER_GPU_KERNEL(min_dim, max_dim_kernel<ReduceKind::argmin>);

// output: indices only.
template <ReduceKind kKind> void argmax_kernel(const KernelCall& c) {
  const Tensor& x = c.in[0];
  DLT_CHECK(x.dtype() != DType::boolean, "{} does not support bool tensors",
            kKind == ReduceKind::argmax ? "argmax" : "argmin");
  const int64_t dim = c.attrs<ops::ReduceDimAttrs>().dim;
  PlannedReduction(x, dim_mask(x, dim)).run(kKind, Tensor(), c.out[0]);
}
DLT_REGISTER_GPU_KERNEL(argmax, argmax_kernel<ReduceKind::argmax>);
DLT_REGISTER_GPU_KERNEL(argmin, argmax_kernel<ReduceKind::argmin>);

}  // namespace
}  // namespace dlt::gpu
