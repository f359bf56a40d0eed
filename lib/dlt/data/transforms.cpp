#include "dlt/data/transforms.h"

#include <algorithm>

#include "dlt/data/random.h"

namespace dlt::data {

SampleTransform::SampleTransform(const ImageTransform& o, const Field& input)
    : input_(input), output_{input.name, DType::f32, input.shape} {
  const Shape& s = input.shape;
  crop_ = o.crop_padding >= 0;
  hflip_ = o.hflip;
  pad_ = std::max<int64_t>(0, o.crop_padding);
  if (crop_ || hflip_)
    DLT_CHECK(s.size() == 2 || s.size() == 3,
              "'{}': random crop and flip need (H, W) or (C, H, W) images, not samples of shape {}",
              input.name, shape_str(s));
  if (s.size() == 3) {
    C_ = s[0], H_ = s[1], W_ = s[2];
  } else if (s.size() == 2) {
    H_ = s[0], W_ = s[1];
  } else {
    W_ = numel_of(s);
  }

  DLT_CHECK(o.mean.size() == o.std.size(), "'{}': normalize needs as many std values ({}) as "
            "means ({})", input.name, o.std.size(), o.mean.size());
  DLT_CHECK(o.mean.size() <= 1 || int64_t(o.mean.size()) == C_,
            "'{}': {} mean/std values for samples of shape {} with {} channel(s)", input.name,
            o.mean.size(), shape_str(s), C_);
  const float unit = input.dtype == DType::u8 ? 1.0f / 255 : 1.0f;  // ToTensor
  for (int64_t c = 0; c < C_; ++c) {
    const float mean = o.mean.empty() ? 0.0f : o.mean[o.mean.size() == 1 ? 0 : size_t(c)];
    const float std = o.std.empty() ? 1.0f : o.std[o.std.size() == 1 ? 0 : size_t(c)];
    DLT_CHECK(std > 0, "'{}': normalize std must be positive, got {}", input.name, std);
    scale_.push_back(unit / std);
    shift_.push_back(-mean / std);
  }
}

void SampleTransform::apply(const std::byte* in, float* out, uint64_t seed, int64_t epoch,
                            int64_t index) const {
  int64_t dy = pad_, dx = pad_;  // the crop's corner in the padded image; pad_: no shift
  bool flip = false;
  if (crop_ || hflip_) {
    const auto w = random_words(seed, Stream::augment, epoch, uint64_t(index));
    if (crop_) {
      dy = uniform_below(w[0], uint32_t(2 * pad_ + 1));
      dx = uniform_below(w[1], uint32_t(2 * pad_ + 1));
    }
    flip = hflip_ && (w[2] >> 31);
  }
  visit_stored(input_.dtype, [&]<class S>() {
    apply_typed(reinterpret_cast<const S*>(in), out, dy, dx, flip);
  });
}

template <class S>
void SampleTransform::apply_typed(const S* in, float* out, int64_t dy, int64_t dx,
                                  bool flip) const {
  const int64_t plane = H_ * W_;
  for (int64_t c = 0; c < C_; ++c, in += plane, out += plane) {
    const float a = scale_[size_t(c)], b = shift_[size_t(c)];
    if (dy == pad_ && dx == pad_ && !flip) {  // no crop shift, no flip: one straight run
      for (int64_t i = 0; i < plane; ++i) out[i] = float(in[i]) * a + b;
      continue;
    }
    // out(y, x) = in(y + dy - pad, x' + dx - pad) with x' = flip ? W-1-x : x;
    // pixels from the padding are 0 before normalising, i.e. b after.
    const int64_t shift_x = dx - pad_;
    const int64_t x0 = std::clamp<int64_t>(flip ? shift_x : -shift_x, 0, W_);
    const int64_t x1 = std::clamp<int64_t>(flip ? W_ + shift_x : W_ - shift_x, 0, W_);
    for (int64_t y = 0; y < H_; ++y) {
      float* row = out + y * W_;
      const int64_t sy = y + dy - pad_;
      if (sy < 0 || sy >= H_) {
        std::fill(row, row + W_, b);
        continue;
      }
      const S* src = in + sy * W_;
      std::fill(row, row + x0, b);
      if (flip) {
        for (int64_t x = x0; x < x1; ++x) row[x] = float(src[W_ - 1 - x + shift_x]) * a + b;
      } else {
        for (int64_t x = x0; x < x1; ++x) row[x] = float(src[x + shift_x]) * a + b;
      }
      std::fill(row + std::max(x0, x1), row + W_, b);
    }
  }
}

}  // namespace dlt::data
