// Vision Transformer (Dosovitskiy et al. 2021; timm's VisionTransformer):
// images (B, C, H, W), or (B, H, W) grey ones, -> class logits (B, classes).
//
//   patches = patch_embed.proj(x)             (B, E, H/P, W/P): Conv2d, kernel = stride = P
//   tokens  = [cls_token; patches as rows]    (B, N + 1, E), N = HW / P^2
//   h = pos_drop(tokens + pos_embed)          learned position embeddings (1, N + 1, E)
//   h = blocks.0 .. blocks.L-1 (h)            pre-norm encoder blocks (causal false)
//   logits = head(norm(h)[:, 0])              the class token's row
//
// Parameter names are timm's at the top (patch_embed.proj, cls_token,
// pos_embed, norm, head) and dlt's TransformerBlock's inside the blocks
// (ln1, attn.qkv, attn.proj, ln2, mlp.fc, mlp.proj; timm: norm1, attn.qkv,
// attn.proj, norm2, mlp.fc1, mlp.fc2). Initialisation is timm's:
// trunc_normal_(std 0.02, a = -2, b = 2) for pos_embed and every Linear
// weight, zero Linear biases, N(0, 1e-6) for cls_token, LayerNorms at
// (1, 0), torch's default Conv2d init for the patch projection.
#pragma once

#include <memory>

#include "dlt/nn/layers/conv2d.h"
#include "dlt/nn/layers/layer.h"
#include "dlt/nn/layers/layer_norm.h"
#include "dlt/nn/layers/linear.h"
#include "dlt/nn/layers/transformer_block.h"

namespace dlt::nn {

struct ViTOptions {
  int64_t patch_size = 0;  // required; P divides H and W
  int64_t embed_dim = 0;   // required; E
  int64_t heads = 1;       // divides E
  int64_t layers = 1;      // encoder blocks
  int64_t mlp_ratio = 4;   // MLP hidden width = mlp_ratio * E
  double dropout = 0.0;    // after the position embeddings, and in every block
  int64_t classes = 0;     // required
};

// patch_embed: the patch projection as a child, so its weight is
// `patch_embed.proj.weight` as in timm.
class PatchEmbed : public Layer {
 public:
  // input_shape [C, H, W] -> output [N, E]
  PatchEmbed(int64_t patch_size, int64_t embed_dim, const Shape& input_shape, BuildContext& ctx);
  Tensor forward(const Tensor& x) override;  // (B, C, H, W) -> (B, N, E)
  std::string type() const override { return "PatchEmbed"; }

 private:
  std::shared_ptr<Conv2d> proj_;
};

class ViT : public Layer {
 public:
  ViT(ViTOptions options, const Shape& input_shape, BuildContext& ctx);
  Tensor forward(const Tensor& x) override;
  std::string type() const override { return "ViT"; }
  std::string describe() const override;

  const ViTOptions options;
  Tensor cls_token;  // (1, 1, E)
  Tensor pos_embed;  // (1, N + 1, E)

 private:
  Shape image_;  // [C, H, W]
  std::shared_ptr<PatchEmbed> patch_embed_;
  std::shared_ptr<TransformerStack> blocks_;
  std::shared_ptr<LayerNorm> norm_;
  std::shared_ptr<Linear> head_;
  Generator* gen_;  // pos_drop's masks
};

}  // namespace dlt::nn
