// Decoding PNG (libpng) and JPEG (TurboJPEG) files into 8-bit gray or RGB
// pixels, for `dlt data import images`. Decoding never throws and never
// aborts: a corrupt, truncated or unsupported file yields its reason.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace dlt::data {

// An 8-bit image, rows top to bottom, channels interleaved (H, W, C).
struct Image {
  int64_t height = 0, width = 0, channels = 0;
  std::vector<uint8_t> pixels;
};

// Images above this many pixels (134 M, near PIL's decompression-bomb limit)
// are refused before any memory is taken for them.
inline constexpr int64_t kMaxImagePixels = int64_t(1) << 27;

// Decodes PNG or JPEG bytes (told apart by their signature, not the file's
// name) into `channels` (1: gray, 3: RGB) 8-bit channels: 16-bit samples are
// scaled to 8 bits, palettes expanded, alpha dropped, gray replicated to RGB
// and RGB weighted to gray as ITU-R 601 luma (what PIL's convert("L") does).
// Returns "" on success, else the decoder's reason, e.g. "PNG: IDAT: CRC error".
std::string decode_image(std::span<const uint8_t> bytes, int channels, Image& out);

// `in` with `channels` channels: gray -> RGB copies, RGB -> gray is ITU-R 601 luma.
Image convert_channels(const Image& in, int channels);

}  // namespace dlt::data
