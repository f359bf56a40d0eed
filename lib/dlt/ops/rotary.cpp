// rotary_embedding: rotary position embeddings (RoPE), composite.
#include "dlt/ops/ops.h"

namespace dlt {

// x (*, T, H, D) holds D / 2 pairs (x[2i], x[2i + 1]) per head, each rotated
// by the angle whose cosine and sine are cos[t, i] and sin[t, i]:
//   out[2i]     = x[2i] cos - x[2i + 1] sin
//   out[2i + 1] = x[2i] sin + x[2i + 1] cos
// The tables are cast to x's dtype, so the result has x's dtype.
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
  Shape pairs = x.shape();  // (*, T, H, D / 2, 2)
  pairs.back() = half;
  pairs.push_back(2);
  const Tensor xp = x.reshape(pairs);
  const Tensor x0 = xp.select(-1, 0), x1 = xp.select(-1, 1);  // (*, T, H, D / 2)
  const Tensor c = cos.to(x.dtype()).view({t, 1, half}), s = sin.to(x.dtype()).view({t, 1, half});
  return stack({x0 * c - x1 * s, x0 * s + x1 * c}, -1).view(x.shape());
}

}  // namespace dlt
