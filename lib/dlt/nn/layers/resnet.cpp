#include "dlt/nn/layers/resnet.h"

#include <cmath>

#include "dlt/nn/init.h"
#include "dlt/nn/layers/options.h"
#include "dlt/ops/ops.h"

namespace dlt::nn {

namespace {

// 3x3 (padding 1) or 1x1 (padding 0) convolution without bias, as torchvision's.
std::shared_ptr<Conv2d> make_conv(int64_t out, int64_t kernel, int64_t stride,
                                  const Shape& input_shape, BuildContext& ctx) {
  const Conv2dOptions o{.out_channels = out,
                        .kernel_size = {kernel, kernel},
                        .stride = {stride, stride},
                        .padding = {kernel / 2, kernel / 2},
                        .bias = false};
  return std::make_shared<Conv2d>(o, input_shape, ctx);
}

std::shared_ptr<BatchNorm2d> make_bn(const Shape& input_shape, BuildContext& ctx) {
  return std::make_shared<BatchNorm2d>(BatchNormOptions{}, input_shape, ctx);
}

}  // namespace

Downsample::Downsample(int64_t out, int64_t stride, const Shape& input_shape, BuildContext& ctx) {
  conv_ = register_module("0", make_conv(out, 1, stride, input_shape, ctx));
  bn_ = register_module("1", make_bn(conv_->output_shape(), ctx));
  output_shape_ = conv_->output_shape();
}

Tensor Downsample::forward(const Tensor& x) { return (*bn_)((*conv_)(x)); }

BasicBlock::BasicBlock(int64_t out, int64_t stride, const Shape& input_shape, BuildContext& ctx) {
  conv1_ = register_module("conv1", make_conv(out, 3, stride, input_shape, ctx));
  bn1_ = register_module("bn1", make_bn(conv1_->output_shape(), ctx));
  conv2_ = register_module("conv2", make_conv(out, 3, 1, conv1_->output_shape(), ctx));
  bn2_ = register_module("bn2", make_bn(conv2_->output_shape(), ctx));
  if (stride != 1 || input_shape[0] != out)
    downsample_ =
        register_module("downsample", std::make_shared<Downsample>(out, stride, input_shape, ctx));
  output_shape_ = conv2_->output_shape();
}

Tensor BasicBlock::forward(const Tensor& x) {
  const Tensor h = (*bn2_)((*conv2_)(relu((*bn1_)((*conv1_)(x)))));
  return relu(h + (downsample_ ? (*downsample_)(x) : x));
}

ResNetStage::ResNetStage(int64_t width, int64_t blocks, int64_t stride, const Shape& input_shape,
                         BuildContext& ctx) {
  Shape shape = input_shape;
  for (int64_t i = 0; i < blocks; ++i) {
    blocks_.push_back(register_module(
        std::to_string(i), std::make_shared<BasicBlock>(width, i == 0 ? stride : 1, shape, ctx)));
    shape = blocks_.back()->output_shape();
  }
  output_shape_ = shape;
}

Tensor ResNetStage::forward(const Tensor& x) {
  Tensor h = x;
  for (const auto& block : blocks_) h = (*block)(h);
  return h;
}

ResNet::ResNet(ResNetOptions o, const Shape& input_shape, BuildContext& ctx)
    : options(std::move(o)) {
  const ResNetOptions& opt = options;
  DLT_LAYER_CHECK(opt.classes >= 1, "classes must be at least 1, got {}", opt.classes);
  DLT_LAYER_CHECK(!opt.widths.empty() && opt.widths.size() == opt.blocks.size(),
                  "widths [{}] and blocks [{}] need one entry per stage",
                  fmt::join(opt.widths, ", "), fmt::join(opt.blocks, ", "));
  for (size_t i = 0; i < opt.widths.size(); ++i)
    DLT_LAYER_CHECK(opt.widths[i] >= 1 && opt.blocks[i] >= 1,
                    "stage {} needs a width and a block count of at least 1, got {} and {}", i + 1,
                    opt.widths[i], opt.blocks[i]);
  const Shape chw = image_shape(input_shape);
  in_channels_ = chw[0];
  // Each stage after the first halves H and W; a 1x1 map is the smallest.
  const int64_t smallest = std::min(chw[1], chw[2]) >> (opt.widths.size() - 1);
  DLT_LAYER_CHECK(smallest >= 1, "a {}x{} image is too small for {} stages", chw[1], chw[2],
                  opt.widths.size());

  conv1_ = register_module("conv1", make_conv(opt.widths[0], 3, 1, chw, ctx));
  bn1_ = register_module("bn1", make_bn(conv1_->output_shape(), ctx));
  Shape shape = conv1_->output_shape();
  for (size_t i = 0; i < opt.widths.size(); ++i) {
    stages_.push_back(register_module(
        "layer" + std::to_string(i + 1),
        std::make_shared<ResNetStage>(opt.widths[i], opt.blocks[i], i == 0 ? 1 : 2, shape, ctx)));
    shape = stages_.back()->output_shape();
  }
  fc_ = register_module(
      "fc", std::make_shared<Linear>(LinearOptions{opt.classes, true}, Shape{shape[0]}, ctx));

  // torchvision: kaiming_normal_(mode="fan_out", nonlinearity="relu") for convolutions.
  const double gain = init::calculate_gain("relu");
  for (auto& [name, p] : named_parameters()) {
    if (p.dim() != 4) continue;
    const int64_t fan_out = init::fan_in_and_fan_out(p.shape()).fan_out;
    init::normal_(p, 0, gain / std::sqrt(double(fan_out)), ctx.gen);
  }
  output_shape_ = {opt.classes};
}

std::string ResNet::describe() const {
  return fmt::format("in_channels={}, widths=[{}], blocks=[{}], classes={}", in_channels_,
                     fmt::join(options.widths, ", "), fmt::join(options.blocks, ", "),
                     options.classes);
}

Tensor ResNet::forward(const Tensor& x) {
  const Tensor images = x.dim() == 3 ? x.unsqueeze(1) : x;  // (B, H, W) -> (B, 1, H, W)
  DLT_CHECK(images.dim() == 4 && images.size(1) == in_channels_,
            "ResNet: expected input (B, {}, H, W), got {}", in_channels_, shape_str(x.shape()));
  Tensor h = relu((*bn1_)((*conv1_)(images)));
  for (const auto& stage : stages_) h = (*stage)(h);
  h = adaptive_avg_pool2d(h, {1, 1}).flatten(1);  // (B, W_last)
  return (*fc_)(h);
}

static const LayerInfo kResNetInfo{
    .summary = "torchvision-style ResNet of BasicBlocks with a 3x3 stem for small images: "
               "[C, H, W] or [H, W] -> [classes]",
    .options = {
        {"classes", "", "outputs of the final Linear"},
        {"widths", "[16, 32, 64]", "channels per stage"},
        {"blocks", "[2, 2, 2]", "BasicBlocks per stage"}},
    .example = "{type: ResNet, classes: 3, widths: [4, 8], blocks: [1, 1]}",
    .example_input = {8, 8}};

static Built build_resnet(const config::Node& spec, const Shape& input_shape, BuildContext& ctx) {
  check_options(spec, kResNetInfo);
  ResNetOptions o{.classes = read_positive(spec, "classes")};
  o.widths = spec.get_or<Shape>("widths", o.widths);
  o.blocks = spec.get_or<Shape>("blocks", o.blocks);
  return make_layer<ResNet>(o, input_shape, ctx);
}
DLT_REGISTER_LAYER(ResNet, build_resnet, kResNetInfo);

}  // namespace dlt::nn
