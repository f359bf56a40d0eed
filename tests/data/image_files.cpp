#include "tests/data/image_files.h"

#include <png.h>
#include <turbojpeg.h>

#include <csetjmp>
#include <cstdio>
#include <stdexcept>

namespace dlt::data::testing {

namespace {

int channels_of(PngColor c) {
  switch (c) {
    case PngColor::gray: case PngColor::palette: return 1;
    case PngColor::gray_alpha: return 2;
    case PngColor::rgb: return 3;
    case PngColor::rgba: return 4;
  }
  return 0;
}

int png_color_type(PngColor c) {
  switch (c) {
    case PngColor::gray: return PNG_COLOR_TYPE_GRAY;
    case PngColor::gray_alpha: return PNG_COLOR_TYPE_GRAY_ALPHA;
    case PngColor::palette: return PNG_COLOR_TYPE_PALETTE;
    case PngColor::rgb: return PNG_COLOR_TYPE_RGB;
    case PngColor::rgba: return PNG_COLOR_TYPE_RGBA;
  }
  return 0;
}

// One PNG row's bytes: big-endian 16-bit samples, or samples under 8 bits packed from the top bit.
std::vector<png_byte> pack_row(const PngSpec& s, int y) {
  const size_t n = size_t(s.width) * size_t(channels_of(s.color));
  const uint16_t* in = s.samples.data() + size_t(y) * n;
  std::vector<png_byte> row;
  if (s.bit_depth == 16) {
    for (size_t i = 0; i < n; ++i) row.push_back(png_byte(in[i] >> 8)), row.push_back(png_byte(in[i]));
  } else if (s.bit_depth == 8) {
    row.assign(in, in + n);
  } else {
    row.assign((n * size_t(s.bit_depth) + 7) / 8, 0);
    for (size_t i = 0; i < n; ++i) {
      const size_t bit = i * size_t(s.bit_depth);
      row[bit / 8] |= png_byte(in[i] << (8 - s.bit_depth - int(bit % 8)));
    }
  }
  return row;
}

bool write_png_body(png_structp png, png_infop info, FILE* f, const PngSpec& s,
                    std::vector<std::vector<png_byte>>& rows, std::vector<png_bytep>& pointers,
                    std::vector<png_color>& palette) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_init_io(png, f);
  png_set_IHDR(png, info, png_uint_32(s.width), png_uint_32(s.height), s.bit_depth,
               png_color_type(s.color), s.interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  for (const auto& c : s.palette) palette.push_back({c[0], c[1], c[2]});
  if (s.color == PngColor::palette) png_set_PLTE(png, info, palette.data(), int(palette.size()));
  png_write_info(png, info);
  for (int y = 0; y < s.height; ++y) rows.push_back(pack_row(s, y));
  for (auto& r : rows) pointers.push_back(r.data());
  png_write_image(png, pointers.data());
  png_write_end(png, nullptr);
  return true;
}

}  // namespace

void write_png(const std::string& path, const PngSpec& s) {
  if (s.samples.size() != size_t(s.width) * size_t(s.height) * size_t(channels_of(s.color)))
    throw std::runtime_error(path + ": sample count does not match the PNG's size");
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) throw std::runtime_error("cannot create " + path);
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  std::vector<std::vector<png_byte>> rows;
  std::vector<png_bytep> pointers;
  std::vector<png_color> palette;
  const bool ok = write_png_body(png, info, f, s, rows, pointers, palette);
  png_destroy_write_struct(&png, &info);
  std::fclose(f);
  if (!ok) throw std::runtime_error("libpng could not write " + path);
}

void write_rgb_png(const std::string& path, int width, int height, const std::vector<uint8_t>& rgb) {
  write_png(path, {.width = width, .height = height, .color = PngColor::rgb,
                   .samples = std::vector<uint16_t>(rgb.begin(), rgb.end())});
}

void write_jpeg(const std::string& path, int width, int height, int channels,
                const std::vector<uint8_t>& pixels, int quality) {
  tjhandle tj = tjInitCompress();
  unsigned char* jpeg = nullptr;
  unsigned long size = 0;
  const int status = tjCompress2(tj, pixels.data(), width, 0, height, channels == 1 ? TJPF_GRAY : TJPF_RGB,
                                 &jpeg, &size, channels == 1 ? TJSAMP_GRAY : TJSAMP_444, quality, 0);
  tjDestroy(tj);
  FILE* f = status == 0 ? std::fopen(path.c_str(), "wb") : nullptr;
  const bool ok = f && std::fwrite(jpeg, 1, size, f) == size;
  if (f) std::fclose(f);
  tjFree(jpeg);
  if (!ok) throw std::runtime_error("cannot write JPEG " + path);
}

}  // namespace dlt::data::testing
