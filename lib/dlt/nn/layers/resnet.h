// A small ResNet for 28x28 / 32x32 images (He et al. 2016, CIFAR layout):
//
//   conv1 (3x3) -> bn1 -> ReLU                        (B, W0, H, W)
//   layer1..layerS: `blocks` BasicBlocks of width Wi; the first block of each
//                   stage after the first halves H and W (stride 2)
//   global average pool -> fc                         (B, classes)
//
// Names follow torchvision ("conv1.weight", "layer1.0.conv1.weight",
// "layer2.0.downsample.0.weight", "fc.weight"), so a checkpoint loads into
// the equivalent torch model. Input shape [C, H, W], or [H, W] for one
// channel (Fashion-MNIST). Initialisation as torchvision's: convolutions
// kaiming_normal(fan_out, relu), batch norms ones/zeros, fc torch's default.
#pragma once

#include <memory>
#include <vector>

#include "dlt/nn/layers/batch_norm.h"
#include "dlt/nn/layers/conv2d.h"
#include "dlt/nn/layers/layer.h"
#include "dlt/nn/layers/linear.h"

namespace dlt::nn {

struct ResNetOptions {
  int64_t classes = 0;                         // required
  std::vector<int64_t> widths = {16, 32, 64};  // channels per stage
  std::vector<int64_t> blocks = {2, 2, 2};     // BasicBlocks per stage
};

// The skip path when a block changes the shape: 1x1 convolution (stride s)
// and batch norm, children "0" and "1" like torchvision's Sequential.
class Downsample : public Layer {
 public:
  Downsample(int64_t out, int64_t stride, const Shape& input_shape, BuildContext& ctx);
  Tensor forward(const Tensor& x) override;
  std::string type() const override { return "Sequential"; }

 private:
  std::shared_ptr<Conv2d> conv_;
  std::shared_ptr<BatchNorm2d> bn_;
};

// relu(bn2(conv2(relu(bn1(conv1(x))))) + skip(x)): (B, C, H, W) -> (B, out, H/s, W/s).
class BasicBlock : public Layer {
 public:
  BasicBlock(int64_t out, int64_t stride, const Shape& input_shape, BuildContext& ctx);
  Tensor forward(const Tensor& x) override;
  std::string type() const override { return "BasicBlock"; }

 private:
  std::shared_ptr<Conv2d> conv1_, conv2_;
  std::shared_ptr<BatchNorm2d> bn1_, bn2_;
  std::shared_ptr<Downsample> downsample_;  // null when the shape is kept
};

// One stage: BasicBlocks named "0", "1", ...; the first one strides.
class ResNetStage : public Layer {
 public:
  ResNetStage(int64_t width, int64_t blocks, int64_t stride, const Shape& input_shape,
              BuildContext& ctx);
  Tensor forward(const Tensor& x) override;
  std::string type() const override { return "Sequential"; }

 private:
  std::vector<std::shared_ptr<BasicBlock>> blocks_;
};

class ResNet : public Layer {
 public:
  ResNet(ResNetOptions options, const Shape& input_shape, BuildContext& ctx);

  Tensor forward(const Tensor& x) override;  // (B, C, H, W) or (B, H, W) -> (B, classes)
  std::string type() const override { return "ResNet"; }
  std::string describe() const override;

  const ResNetOptions options;

 private:
  int64_t in_channels_;
  std::shared_ptr<Conv2d> conv1_;
  std::shared_ptr<BatchNorm2d> bn1_;
  std::vector<std::shared_ptr<ResNetStage>> stages_;
  std::shared_ptr<Linear> fc_;
};

}  // namespace dlt::nn
