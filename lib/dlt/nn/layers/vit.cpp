#include "dlt/nn/layers/vit.h"

#include "dlt/nn/init.h"
#include "dlt/nn/layers/options.h"
#include "dlt/ops/ops.h"

namespace dlt::nn {

PatchEmbed::PatchEmbed(int64_t patch_size, int64_t embed_dim, const Shape& input_shape,
                       BuildContext& ctx) {
  const Conv2dOptions o{.out_channels = embed_dim,
                        .kernel_size = {patch_size, patch_size},
                        .stride = {patch_size, patch_size}};
  proj_ = register_module("proj", std::make_shared<Conv2d>(o, input_shape, ctx));
  const Shape& grid = proj_->output_shape();  // [E, H / P, W / P]
  output_shape_ = {grid[1] * grid[2], embed_dim};
}

Tensor PatchEmbed::forward(const Tensor& x) {
  // (B, E, H/P, W/P) -> (B, E, N) -> (B, N, E): one row per patch, row-major.
  return (*proj_)(x).flatten(2).transpose(1, 2);
}

ViT::ViT(ViTOptions o, const Shape& input_shape, BuildContext& ctx)
    : options(o), image_(image_shape(input_shape)), gen_(ctx.gen) {
  const int64_t p = o.patch_size, e = o.embed_dim, h = image_[1], w = image_[2];
  DLT_LAYER_CHECK(p >= 1 && h % p == 0 && w % p == 0,
                  "patch_size {} must divide the image's height and width, got image {}", p,
                  shape_str(image_));
  DLT_LAYER_CHECK(e >= 1 && o.heads >= 1 && e % o.heads == 0,
                  "heads ({}) must divide embed_dim ({})", o.heads, e);
  DLT_LAYER_CHECK(o.layers >= 1 && o.classes >= 1,
                  "layers ({}) and classes ({}) must be at least 1", o.layers, o.classes);
  DLT_LAYER_CHECK(o.dropout >= 0 && o.dropout < 1, "dropout must be in [0, 1), got {}", o.dropout);
  const int64_t tokens = (h / p) * (w / p) + 1;  // the patches and the class token

  patch_embed_ = register_module("patch_embed", std::make_shared<PatchEmbed>(p, e, image_, ctx));
  cls_token = register_parameter("cls_token", empty({1, 1, e}, param_options(ctx)));
  pos_embed = register_parameter("pos_embed", empty({1, tokens, e}, param_options(ctx)));
  const TransformerBlockOptions block{
      .heads = o.heads, .mlp_ratio = o.mlp_ratio, .causal = false, .dropout = o.dropout};
  const Shape hidden = {tokens, e};
  blocks_ =
      register_module("blocks", std::make_shared<TransformerStack>(block, o.layers, hidden, ctx));
  norm_ = register_module("norm", std::make_shared<LayerNorm>(LayerNormOptions{}, hidden, ctx));
  head_ = register_module(
      "head", std::make_shared<Linear>(LinearOptions{.out = o.classes}, Shape{e}, ctx));

  // timm's init. The patch projection keeps torch's Conv2d default, LayerNorm
  // weights their ones.
  init::trunc_normal_(pos_embed, 0, 0.02, -2, 2, ctx.gen);
  init::normal_(cls_token, 0, 1e-6, ctx.gen);
  for (auto& [name, param] : named_parameters()) {
    if (name.starts_with("patch_embed.")) continue;
    Tensor t = param;
    if (t.dim() == 2)
      init::trunc_normal_(t, 0, 0.02, -2, 2, ctx.gen);  // Linear weights
    else if (name.ends_with(".bias"))
      init::zeros_(t);  // Linear (and LayerNorm, already zero) biases
  }
  output_shape_ = {o.classes};
}

std::string ViT::describe() const {
  return fmt::format("image={}, patch_size={}, embed_dim={}, heads={}, layers={}, mlp_ratio={}, "
                     "dropout={}, classes={}",
                     shape_str(image_), options.patch_size, options.embed_dim, options.heads,
                     options.layers, options.mlp_ratio, options.dropout, options.classes);
}

Tensor ViT::forward(const Tensor& x) {
  const Tensor images = x.dim() == 3 ? x.unsqueeze(1) : x;  // (B, H, W) -> (B, 1, H, W)
  DLT_CHECK(images.dim() == 4 && images.size(1) == image_[0] && images.size(2) == image_[1] &&
                images.size(3) == image_[2],
            "ViT: expected images (B, {}, {}, {}), got {}", image_[0], image_[1], image_[2],
            shape_str(x.shape()));
  const int64_t b = images.size(0), e = options.embed_dim;
  const Tensor patches = (*patch_embed_)(images);                       // (B, N, E)
  const Tensor tokens = cat({cls_token.expand({b, 1, e}), patches}, 1);  // (B, N + 1, E)
  Tensor h = dropout(tokens + pos_embed, options.dropout, training(), gen_);
  h = (*norm_)((*blocks_)(h));
  return (*head_)(h.select(1, 0));  // the class token's row (B, E) -> (B, classes)
}

static const LayerInfo kViTInfo{
    .summary = "Vision Transformer: patches, class token, position embeddings, pre-norm encoder "
               "blocks, head on the class token: [C, H, W] or [H, W] -> [classes]",
    .options = {{"patch_size", "", "P: square patches, kernel and stride of the patch projection"},
                {"embed_dim", "", "E, the width of every token"},
                {"heads", "1", "attention heads; divides embed_dim"},
                {"layers", "1", "encoder blocks"},
                {"mlp_ratio", "4", "hidden width of the MLP as a multiple of E"},
                {"dropout", "0", "after the position embeddings and in every block"},
                {"classes", "", "outputs of the head"}},
    .example = "{type: ViT, patch_size: 2, embed_dim: 8, heads: 2, classes: 3}",
    .example_input = {4, 4}};

static Built build_vit(const config::Node& spec, const Shape& input_shape, BuildContext& ctx) {
  check_options(spec, kViTInfo);
  const ViTOptions o{.patch_size = read_positive(spec, "patch_size"),
                     .embed_dim = read_positive(spec, "embed_dim"),
                     .heads = read_int(spec, "heads", 1, 1, 1024),
                     .layers = read_int(spec, "layers", 1, 1, 1024),
                     .mlp_ratio = read_int(spec, "mlp_ratio", 4, 1, 64),
                     .dropout = read_double(spec, "dropout", 0, 0, 1),
                     .classes = read_positive(spec, "classes")};
  return make_layer<ViT>(o, input_shape, ctx);
}
DLT_REGISTER_LAYER(ViT, build_vit, kViTInfo);

}  // namespace dlt::nn
