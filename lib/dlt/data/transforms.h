// Per-sample conversion and augmentation of the input field (x), in
// torchvision's order RandomCrop(padding) -> RandomHorizontalFlip ->
// ToTensor -> Normalize, fused into one pass that writes float32.
// Randomness comes from (seed, epoch, sample index), so a sample is
// augmented the same way whichever worker or batch handles it.
#pragma once

#include <vector>

#include "dlt/data/dataset.h"

namespace dlt::data {

struct ImageTransform {
  bool to_float = false;         // float32 output; uint8 is divided by 255 (ToTensor)
  std::vector<float> mean, std;  // Normalize: one value per channel, or one for all
  int64_t crop_padding = -1;     // >= 0: random crop of the original size from the
                                 // image zero-padded by this many pixels per side
  bool hflip = false;            // mirror left-right with probability 1/2

  bool enabled() const { return to_float || !mean.empty() || !std.empty() || crop_padding >= 0 || hflip; }
};

// An ImageTransform checked against, and prepared for, one input field.
// Samples are (H, W) or (C, H, W); without crop and flip any shape works
// (channels are dim 0 of a rank-3 sample, else there is one).
class SampleTransform {
 public:
  SampleTransform(const ImageTransform& options, const Field& input);

  const Field& output() const { return output_; }  // float32, the input's shape
  // One sample: `in` (the input field's bytes) -> `out` (numel floats).
  void apply(const std::byte* in, float* out, uint64_t seed, int64_t epoch, int64_t index) const;

 private:
  template <class S>
  void apply_typed(const S* in, float* out, int64_t dy, int64_t dx, bool flip) const;

  Field input_, output_;
  int64_t C_ = 1, H_ = 1, W_ = 1, pad_ = 0;
  bool crop_ = false, hflip_ = false;
  std::vector<float> scale_, shift_;  // per channel: out = in * scale + shift
};

}  // namespace dlt::data
