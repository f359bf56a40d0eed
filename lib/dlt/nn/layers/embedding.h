// Embedding, like torch.nn.Embedding: int64 indices (B, *) -> rows of the
// weight (B, *, dim).
#pragma once

#include <optional>

#include "dlt/nn/layers/layer.h"

namespace dlt::nn {

struct EmbeddingOptions {
  int64_t num_embeddings = 0;  // required
  int64_t dim = 0;             // required
  // A row that stays zero and gets no gradient; negative counts from the end.
  std::optional<int64_t> padding_idx;
};

class Embedding : public Layer {
 public:
  Embedding(EmbeddingOptions options, const Shape& input_shape, BuildContext& ctx);
  Tensor forward(const Tensor& indices) override;
  std::string type() const override { return "Embedding"; }
  std::string describe() const override;

  const EmbeddingOptions options;
  Tensor weight;  // (num_embeddings, dim): N(0, 1), padding row zero

 private:
  int64_t padding_idx_ = -1;  // wrapped; -1: none
};

}  // namespace dlt::nn
