// causal_attention and its backward on the GPU: checks what the kernels
// need beyond the op layer's checks (head size, unit stride along D) and
// hands the tensors to kernels/cuda/attention.cu.
#include <limits>

#include "dlt/core/math_mode.h"
#include "dlt/ops/attention.h"
#include "dlt/ops/dispatch.h"
#include "dlt/ops/ops.h"
#include "kernels/cuda/attention.h"
#include "kernels/cuda/tensor_arg_host.h"

namespace dlt::gpu {
namespace {

using ops::KernelCall;

static_assert(kMaxAttentionHeadDim == ops::kMaxGpuAttentionHeadDim);

void check_heads(const KernelCall& call, const Tensor& t, const char* what) {
  DLT_CHECK(t.dim() == 4 && (t.size(3) <= 1 || t.stride(3) == 1),
            "{}: the GPU kernel needs {} as (B, H, T, D) with unit stride along D, got shape {} "
            "and strides {}",
            ops::op_name(call.op), what, shape_str(t.shape()), shape_str(t.strides()));
}

void check_problem(const KernelCall& call, const Tensor& q) {
  DLT_CHECK(q.size(3) <= kMaxAttentionHeadDim,
            "{}: the GPU kernel supports head sizes D up to {}, got q of shape {}",
            ops::op_name(call.op), kMaxAttentionHeadDim, shape_str(q.shape()));
  DLT_CHECK(q.size(2) <= std::numeric_limits<int>::max(),
            "{}: sequence length {} is too long for the GPU kernel", ops::op_name(call.op),
            q.size(2));
}

// in (q, k, v), out (out, lse).
void causal_attention_kernel(const KernelCall& call) {
  const Tensor &q = call.in[0], &k = call.in[1], &v = call.in[2], &out = call.out[0];
  check_problem(call, q);
  for (const auto& [t, what] : {std::pair{&q, "q"}, {&k, "k"}, {&v, "v"}, {&out, "out"}})
    check_heads(call, *t, what);
  const Tensor lse = call.out[1].is_contiguous() ? call.out[1] : call.out[1].contiguous();
  launch_causal_attention(tensor_arg(out), tensor_arg(lse), tensor_arg(q), tensor_arg(k),
                          tensor_arg(v), call.attrs<ops::AttentionAttrs>().scale, allow_tf32(),
                          stream_for(q));
  if (!lse.is_same(call.out[1])) call.out[1].copy_(lse);
}

// in (grad, q, k, v, out, lse), out (dq, dk, dv).
void causal_attention_backward_kernel(const KernelCall& call) {
  const Tensor& q = call.in[1];
  check_problem(call, q);
  const std::pair<const Tensor*, const char*> operands[] = {
      {&call.in[0], "grad"}, {&q, "q"},           {&call.in[2], "k"},  {&call.in[3], "v"},
      {&call.in[4], "out"},  {&call.out[0], "dq"}, {&call.out[1], "dk"}, {&call.out[2], "dv"}};
  for (const auto& [t, what] : operands) check_heads(call, *t, what);
  const Tensor lse = call.in[5].contiguous();
  const Tensor row_dot = empty(lse.shape(), TensorOptions(lse.dtype()).device(q.device()));
  // Grouped-query attention: the kernel writes dk and dv per query head, and
  // each group of query heads sums into its key/value head here.
  const int64_t kv_heads = call.in[2].size(1), group = q.size(1) / kv_heads;
  const auto per_query_head = [&](const Tensor& d) {
    return group == 1 ? d : empty(q.shape(), TensorOptions(d.dtype()).device(q.device()));
  };
  const Tensor dk = per_query_head(call.out[1]), dv = per_query_head(call.out[2]);
  launch_causal_attention_backward(
      tensor_arg(call.out[0]), tensor_arg(dk), tensor_arg(dv), tensor_arg(call.in[0]),
      tensor_arg(q), tensor_arg(call.in[2]), tensor_arg(call.in[3]), tensor_arg(call.in[4]),
      tensor_arg(lse), tensor_arg(row_dot), call.attrs<ops::AttentionAttrs>().scale, allow_tf32(),
      stream_for(q));
  if (group > 1) {
    const Shape grouped = {q.size(0), kv_heads, group, q.size(2), q.size(3)};
    call.out[1].copy_(sum(dk.view(grouped), {2}));
    call.out[2].copy_(sum(dv.view(grouped), {2}));
  }
}

}  // namespace

DLT_REGISTER_GPU_KERNEL(causal_attention, causal_attention_kernel);
DLT_REGISTER_GPU_KERNEL(causal_attention_backward, causal_attention_backward_kernel);

}  // namespace dlt::gpu
