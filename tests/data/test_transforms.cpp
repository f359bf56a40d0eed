// The fused crop / flip / to-float / normalise pass against a plain
// reference, and the randomness that drives it.
#include <gtest/gtest.h>

#include <set>

#include "dlt/data/transforms.h"
#include "tests/test_util.h"

namespace dlt::data {
namespace {

using dlt::testing::expect_error;

// torchvision's order, step by step: zero-pad, crop at (dy, dx), flip,
// to float (uint8 / 255), normalise.
std::vector<float> reference(const std::vector<uint8_t>& img, int64_t C, int64_t H, int64_t W,
                             int64_t pad, int64_t dy, int64_t dx, bool flip,
                             const std::vector<float>& mean, const std::vector<float>& std) {
  std::vector<float> out(static_cast<size_t>(C * H * W));
  for (int64_t c = 0; c < C; ++c)
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < W; ++x) {
        const int64_t cx = flip ? W - 1 - x : x;          // flip the cropped image
        const int64_t py = y + dy, px = cx + dx;          // in the padded image
        const int64_t sy = py - pad, sx = px - pad;       // in the original
        const bool inside = sy >= 0 && sy < H && sx >= 0 && sx < W;
        const float v = inside ? img[size_t((c * H + sy) * W + sx)] / 255.0f : 0.0f;
        out[size_t((c * H + y) * W + x)] = (v - mean[size_t(c)]) / std[size_t(c)];
      }
  return out;
}

ImageTransform crop_flip(int64_t padding, bool hflip) {
  ImageTransform t;
  t.crop_padding = padding;
  t.hflip = hflip;
  return t;
}

ImageTransform normalize(std::vector<float> mean, std::vector<float> std) {
  ImageTransform t;
  t.mean = std::move(mean);
  t.std = std::move(std);
  return t;
}

bool close(const std::vector<float>& a, const std::vector<float>& b) {
  for (size_t i = 0; i < a.size(); ++i)
    if (std::abs(a[i] - b[i]) > 1e-5f) return false;
  return true;
}

TEST(Transforms, CropFlipNormaliseMatchesTheReference) {
  const int64_t C = 2, H = 5, W = 6, pad = 2;
  std::vector<uint8_t> img(size_t(C * H * W));
  for (size_t i = 0; i < img.size(); ++i) img[i] = uint8_t(17 + 13 * i);
  ImageTransform t = normalize({0.3f, 0.6f}, {0.5f, 0.2f});
  t.crop_padding = pad;
  t.hflip = true;
  const SampleTransform st(t, {"x", DType::u8, {C, H, W}});

  // Each output must be the reference for one crop and flip; over many
  // samples every one of the 5 x 5 x 2 choices must turn up.
  std::set<std::tuple<int64_t, int64_t, bool>> seen;
  for (int64_t index = 0; index < 600; ++index) {
    std::vector<float> out(img.size());
    st.apply(reinterpret_cast<const std::byte*>(img.data()), out.data(), 3, 1, index);
    int matches = 0;
    for (int64_t dy = 0; dy <= 2 * pad; ++dy)
      for (int64_t dx = 0; dx <= 2 * pad; ++dx)
        for (const bool flip : {false, true})
          if (close(out, reference(img, C, H, W, pad, dy, dx, flip, t.mean, t.std))) {
            ++matches;
            seen.insert({dy, dx, flip});
          }
    ASSERT_GE(matches, 1) << "sample " << index << " is no crop/flip of the input";
  }
  EXPECT_EQ(seen.size(), 50u);
}

TEST(Transforms, SameSampleSameAugmentation) {
  const std::vector<uint8_t> img(4 * 4, 9);
  std::vector<uint8_t> ramp(16);
  for (size_t i = 0; i < 16; ++i) ramp[i] = uint8_t(i * 10);
  const SampleTransform st(crop_flip(1, true), {"x", DType::u8, {4, 4}});
  const auto run = [&](uint64_t seed, int64_t epoch, int64_t index) {
    std::vector<float> out(16);
    st.apply(reinterpret_cast<const std::byte*>(ramp.data()), out.data(), seed, epoch, index);
    return out;
  };
  EXPECT_EQ(run(1, 2, 3), run(1, 2, 3));
  int differ = 0;
  for (int64_t e = 0; e < 20; ++e) differ += run(1, e, 3) != run(1, e + 1, 3);
  EXPECT_GT(differ, 10);  // a new epoch, a new augmentation (9 x 2 choices)
}

TEST(Transforms, ConversionAloneKeepsAnyShape) {
  const float values[3] = {1.5f, -2.0f, 4.0f};
  const SampleTransform st(normalize({1.0f}, {2.0f}), {"f", DType::f32, {3}});
  EXPECT_EQ(st.output().dtype, DType::f32);
  float out[3];
  st.apply(reinterpret_cast<const std::byte*>(values), out, 0, 0, 0);
  EXPECT_FLOAT_EQ(out[0], 0.25f);  // floats are not divided by 255
  EXPECT_FLOAT_EQ(out[1], -1.5f);
  EXPECT_FLOAT_EQ(out[2], 1.5f);

  const uint8_t px[2] = {0, 255};
  ImageTransform to_float;
  to_float.to_float = true;
  const SampleTransform u8(to_float, {"u", DType::u8, {2}});
  u8.apply(reinterpret_cast<const std::byte*>(px), out, 0, 0, 0);
  EXPECT_EQ(out[0], 0.0f);
  EXPECT_EQ(out[1], 1.0f);
}

TEST(Transforms, BadOptionsAreErrors) {
  expect_error([] { SampleTransform(crop_flip(-1, true), {"v", DType::f32, {10}}); },
               {"'v'", "(H, W) or (C, H, W)", "[10]"});
  expect_error([] { SampleTransform(normalize({0.5f}, {}), {"x", DType::u8, {2, 2}}); },
               {"as many std values"});
  expect_error([] { SampleTransform(normalize({0.5f}, {0.0f}), {"x", DType::u8, {2, 2}}); },
               {"std must be positive"});
}

}  // namespace
}  // namespace dlt::data
