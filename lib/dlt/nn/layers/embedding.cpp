#include "dlt/nn/layers/embedding.h"
#include "dlt/nn/layers/options.h"

#include "dlt/core/grad_mode.h"
#include "dlt/nn/init.h"
#include "dlt/ops/ops.h"

namespace dlt::nn {

Embedding::Embedding(EmbeddingOptions o, const Shape& input_shape, BuildContext& ctx)
    : options(o) {
  DLT_LAYER_CHECK(o.num_embeddings >= 1 && o.dim >= 1,
                  "num_embeddings and dim must be at least 1, got {} and {}", o.num_embeddings,
                  o.dim);
  if (o.padding_idx) {
    DLT_LAYER_CHECK(*o.padding_idx >= -o.num_embeddings && *o.padding_idx < o.num_embeddings,
                    "padding_idx {} is out of range for {} embeddings", *o.padding_idx,
                    o.num_embeddings);
    padding_idx_ = *o.padding_idx < 0 ? *o.padding_idx + o.num_embeddings : *o.padding_idx;
  }
  weight = register_parameter("weight", empty({o.num_embeddings, o.dim}, param_options(ctx)));
  init::normal_(weight, 0, 1, ctx.gen);
  if (padding_idx_ >= 0) {
    NoGradGuard no_grad;
    weight.select(0, padding_idx_).zero_();
  }
  output_shape_ = input_shape;
  output_shape_.push_back(o.dim);
}

Tensor Embedding::forward(const Tensor& indices) { return embedding(weight, indices, padding_idx_); }

std::string Embedding::describe() const {
  std::string s = fmt::format("num_embeddings={}, dim={}", options.num_embeddings, options.dim);
  if (padding_idx_ >= 0) s += fmt::format(", padding_idx={}", padding_idx_);
  return s;
}

static const LayerInfo kEmbeddingInfo{
    .summary = "a learned vector per token id (torch.nn.Embedding): [T] ids -> [T, dim]",
    .options = {
        {"num_embeddings", "", "vocabulary size"},
        {"dim", "", "size of each vector"},
        {"padding_idx", "null",
         "a row that stays zero and gets no gradient; negative counts from the end"}},
    .example = "{type: Embedding, num_embeddings: 10, dim: 4}",
    .example_input = {5}};

static Built build_embedding(const config::Node& spec, const Shape& input_shape,
                             BuildContext& ctx) {
  check_options(spec, kEmbeddingInfo);
  EmbeddingOptions o{.num_embeddings = read_positive(spec, "num_embeddings"),
                     .dim = read_positive(spec, "dim"),
                     .padding_idx = std::nullopt};
  if (const auto p = spec.find("padding_idx"); p && !p->is_null())
    o.padding_idx = read_int(spec, "padding_idx", 0, -o.num_embeddings, o.num_embeddings - 1);
  return make_layer<Embedding>(o, input_shape, ctx);
}
DLT_REGISTER_LAYER(Embedding, build_embedding, kEmbeddingInfo);

}  // namespace dlt::nn
