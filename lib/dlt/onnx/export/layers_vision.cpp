// ONNX export of the image models: ResNet (Conv / BatchNormalization / Relu
// blocks, GlobalAveragePool, Gemm) and ViT (patch Conv, class token Expanded
// to the batch, encoder blocks, the class token's row). Grey [H, W] samples
// get their channel dim back with an Unsqueeze, as the models' forward does.
#include "dlt/nn/layers/resnet.h"
#include "dlt/nn/layers/vit.h"
#include "dlt/onnx/export/blocks.h"

namespace dlt::onnx_export {

namespace {

// (B, H, W) -> (B, 1, H, W); (B, C, H, W) stays.
Value images(ExportContext& ctx, const Value& x) {
  return x.rank() == 3 ? unsqueeze(ctx, x, {1}) : x;
}

// relu(bn2(conv2(relu(bn1(conv1(x))))) + skip(x)), skip the downsample
// (1x1 convolution and batch norm) when the block changes the shape.
Value basic_block(ExportContext& ctx, nn::Module& block, const Value& x) {
  Value h = unary(ctx, "Relu", ctx.run_child(block, "bn1", ctx.run_child(block, "conv1", x)));
  h = ctx.run_child(block, "bn2", ctx.run_child(block, "conv2", h));
  bool downsample = false;
  for (const auto& [name, c] : block.children()) downsample |= name == "downsample";
  const Value skip = downsample ? ctx.run_child(block, "downsample", x) : x;
  return unary(ctx, "Relu", binary(ctx, "Add", h, skip));
}

Value export_resnet(ExportContext& ctx, nn::Module& m, const Value& x) {
  auto& net = dynamic_cast<nn::ResNet&>(m);
  Value h = images(ctx, x);
  h = unary(ctx, "Relu", ctx.run_child(net, "bn1", ctx.run_child(net, "conv1", h)));
  // Plain loop variables, not structured bindings: the lambdas capture them.
  for (const auto& named_stage : net.children()) {
    const std::string& name = named_stage.first;
    const auto& stage = named_stage.second;
    if (name.rfind("layer", 0) != 0) continue;  // conv1, bn1, fc
    h = ctx.part(name, stage->type(), [&] {
      Value y = h;
      for (const auto& named_block : stage->children()) {
        const auto& block = named_block.second;
        y = ctx.part(named_block.first, block->type(), [&] { return basic_block(ctx, *block, y); });
      }
      return y;
    });
  }
  // Global average pool, (B, C, 1, 1) -> (B, C), and the classifier.
  const Value pooled = unary(ctx, "GlobalAveragePool", h);
  const Value features = reshape(ctx, pooled, {0, -1}, {h.shape[0], h.shape[1]});
  return ctx.run_child(net, "fc", features);
}

// patch_embed (B, E, H/P, W/P) -> (B, N, E); [cls; patches] + pos_embed;
// blocks; norm; head on the class token's row.
Value export_vit(ExportContext& ctx, nn::Module& m, const Value& x) {
  auto& vit = dynamic_cast<nn::ViT&>(m);
  const int64_t e = vit.options.embed_dim;
  const Value img = images(ctx, x);
  const int64_t b = img.shape[0];
  auto& patch_embed = child<nn::Module>(vit, "patch_embed");
  const Value patches = ctx.part("patch_embed", patch_embed.type(), [&] {
    const Value grid = ctx.run_child(patch_embed, "proj", img);  // (B, E, H/P, W/P)
    const int64_t n = grid.shape[2] * grid.shape[3];
    return transpose(ctx, reshape(ctx, grid, {0, e, -1}, {b, e, n}), {0, 2, 1});  // (B, N, E)
  });
  // The class token (1, 1, E) expanded to (B, 1, E): the shape [B, 1, E] read at run time.
  const std::string batch = runtime_dim(ctx, img, 0);
  const std::string shape =
      ctx.g.add("Concat", {batch, ctx.g.ints({1, e})}, {attr("axis", int64_t(0))});
  const Value cls{ctx.g.add("Expand", {ctx.param(vit.cls_token), shape}), {b, 1, e}};
  const int64_t tokens = patches.shape[1] + 1;
  const Value seq{ctx.g.add("Concat", {cls.name, patches.name}, {attr("axis", int64_t(1))}),
                  {b, tokens, e}};
  Value h = binary(ctx, "Add", seq, {ctx.param(vit.pos_embed), {1, tokens, e}});
  h = ctx.run_child(vit, "norm", ctx.run_child(vit, "blocks", h));
  const Value first{ctx.g.add("Gather", {h.name, ctx.g.int_scalar(0)}, {attr("axis", int64_t(1))}),
                    {b, e}};
  return ctx.run_child(vit, "head", first);
}

}  // namespace

DLT_REGISTER_LAYER_EXPORT(ResNet, export_resnet);
DLT_REGISTER_LAYER_EXPORT(ViT, export_vit);

}  // namespace dlt::onnx_export
