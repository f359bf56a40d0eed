#include "dlt/nn/layers/grouped_attention.h"

#include <cmath>
#include <limits>

#include "dlt/nn/causal_lm.h"
#include "dlt/ops/attention.h"
#include "dlt/ops/ops.h"

namespace dlt::nn {

Tensor grouped_causal_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                int64_t offset) {
  const int64_t b = q.size(0), h = q.size(1), tq = q.size(2), d = q.size(3);
  const int64_t kv_heads = k.size(1), tk = k.size(2), group = h / kv_heads;
  if (offset == 0 && (q.device().type == DeviceType::cpu || d <= ops::kMaxGpuAttentionHeadDim))
    return causal_attention(q, k, v);

  const double scale = 1.0 / std::sqrt(double(d));
  const Tensor rows = q.reshape({b, kv_heads, group * tq, d});
  Tensor att = (matmul(rows, k.transpose(-2, -1)) * scale).view({b, kv_heads, group, tq, tk});
  att = masked_fill(att, causal_mask(tq, offset, q.device()),
                    -std::numeric_limits<double>::infinity());
  att = softmax(att, -1).view({b, kv_heads, group * tq, tk});
  return matmul(att, v).view({b, h, tq, d});
}

}  // namespace dlt::nn
