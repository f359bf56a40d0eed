// rotary_embedding: rotary position embeddings (RoPE): argument checks and
// the kernel call.
#include "dlt/ops/rotary.h"

#include "dlt/core/grad_mode.h"
#include "dlt/ops/dispatch.h"
#include "dlt/ops/ops.h"

namespace dlt {

// x (*, T, H, D) holds D / 2 pairs (x[2i], x[2i + 1]) per head, each rotated
// by the angle whose cosine and sine are cos[t, i] and sin[t, i]:
//   out[2i]     = x[2i] cos - x[2i + 1] sin
//   out[2i + 1] = x[2i] sin + x[2i + 1] cos
// The tables are cast to x's dtype, so the result has x's dtype; they are
// constants (no gradient).
Tensor rotary_embedding(const Tensor& x, const Tensor& cos, const Tensor& sin) {
  DLT_CHECK(x.defined() && cos.defined() && sin.defined(),
            "rotary_embedding: undefined input tensor");
  DLT_CHECK(is_floating(x.dtype()), "rotary_embedding expects a floating point input, got {}",
            x.dtype());
  DLT_CHECK(x.dim() >= 3 && x.size(-1) % 2 == 0,
            "rotary_embedding: expected x (*, T, H, D) with an even head size D, got {}",
            shape_str(x.shape()));
  const int64_t t = x.size(-3), half = x.size(-1) / 2;
  DLT_CHECK(cos.shape() == Shape({t, half}) && sin.shape() == cos.shape(),
            "rotary_embedding: expected cos and sin of shape (T, D / 2) = {} for x {}, got {} and {}",
            shape_str({t, half}), shape_str(x.shape()), shape_str(cos.shape()),
            shape_str(sin.shape()));
  DLT_CHECK(!GradMode::enabled() || (!cos.requires_grad() && !sin.requires_grad()),
            "rotary_embedding: the cos and sin tables are constants and take no gradient");
  return ops::rotate_pairs(x.contiguous(), cos.to(x.dtype()).contiguous(),
                           sin.to(x.dtype()).contiguous(), false);
}

namespace ops {

Tensor rotate_pairs(const Tensor& x, const Tensor& cos, const Tensor& sin, bool inverse) {
  const RotaryAttrs attrs{inverse};
  Tensor ins[] = {x, cos, sin};
  Tensor outs[] = {empty(x.shape(), TensorOptions(x.dtype()).device(x.device()))};
  run(OpId::rotary_embedding, ins, outs, &attrs);
  return outs[0];
}

}  // namespace ops
}  // namespace dlt
