#include "dlt/data/import/image_resize.h"

#include <algorithm>
#include <cmath>

namespace dlt::data {

namespace {

struct Tap {
  int64_t index;  // source pixel
  float weight;
};

// For each of the `dst` outputs along one axis, the source pixels it reads.
std::vector<std::vector<Tap>> axis_taps(int64_t src, int64_t dst) {
  std::vector<std::vector<Tap>> taps(static_cast<size_t>(dst));
  const double scale = double(src) / double(dst);
  for (int64_t i = 0; i < dst; ++i) {
    auto& t = taps[size_t(i)];
    if (dst <= src) {  // area: output i covers source [i * scale, (i + 1) * scale)
      const double lo = double(i) * scale, hi = double(i + 1) * scale;
      for (auto j = int64_t(lo); j < src && double(j) < hi; ++j) {
        const double overlap = std::min(hi, double(j + 1)) - std::max(lo, double(j));
        if (overlap > 0) t.push_back({j, float(overlap / scale)});
      }
    } else {  // bilinear between the two nearest source centres
      const double x = std::clamp((double(i) + 0.5) * scale - 0.5, 0.0, double(src - 1));
      const auto j = int64_t(x);
      const double f = x - double(j);
      t.push_back({j, float(1 - f)});
      if (f > 0) t.push_back({j + 1, float(f)});
    }
  }
  return taps;
}

}  // namespace

Image resize_image(const Image& in, int64_t height, int64_t width) {
  if (in.height == height && in.width == width) return in;
  const int64_t c = in.channels;
  const auto cols = axis_taps(in.width, width), rows = axis_taps(in.height, height);

  // Rows first (in.height x width), kept in float so the second pass rounds once.
  std::vector<float> mid(size_t(in.height * width * c));
  for (int64_t y = 0; y < in.height; ++y)
    for (int64_t x = 0; x < width; ++x)
      for (int64_t k = 0; k < c; ++k) {
        float v = 0;
        for (const Tap& t : cols[size_t(x)]) v += t.weight * in.pixels[size_t((y * in.width + t.index) * c + k)];
        mid[size_t((y * width + x) * c + k)] = v;
      }

  Image out{height, width, c, std::vector<uint8_t>(size_t(height * width * c))};
  for (int64_t y = 0; y < height; ++y)
    for (int64_t x = 0; x < width; ++x)
      for (int64_t k = 0; k < c; ++k) {
        float v = 0;
        for (const Tap& t : rows[size_t(y)]) v += t.weight * mid[size_t((t.index * width + x) * c + k)];
        out.pixels[size_t((y * width + x) * c + k)] = uint8_t(std::clamp(std::lround(v), 0L, 255L));
      }
  return out;
}

}  // namespace dlt::data
