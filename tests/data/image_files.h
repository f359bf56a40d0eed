// PNG and JPEG files for the image import tests, written with libpng and
// TurboJPEG in every colour type the importer reads.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace dlt::data::testing {

enum class PngColor { gray, gray_alpha, palette, rgb, rgba };

struct PngSpec {
  int width = 0, height = 0;
  PngColor color = PngColor::rgb;
  int bit_depth = 8;              // 1, 2, 4 (gray, palette), 8 or 16 (not palette)
  bool interlaced = false;        // Adam7
  std::vector<uint16_t> samples;  // row-major, channels interleaved; palette: indices
  std::vector<std::array<uint8_t, 3>> palette;
};

void write_png(const std::string& path, const PngSpec& spec);

// channels 1 (gray) or 3 (RGB), 8-bit, interleaved; 4:4:4 chroma.
void write_jpeg(const std::string& path, int width, int height, int channels,
                const std::vector<uint8_t>& pixels, int quality = 95);

// An 8-bit RGB PNG (channels interleaved).
void write_rgb_png(const std::string& path, int width, int height, const std::vector<uint8_t>& rgb);

}  // namespace dlt::data::testing
