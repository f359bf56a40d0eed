#include "dlt/data/import/image_codec.h"

#include <png.h>
#include <turbojpeg.h>

#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <memory>

#include <fmt/format.h>

namespace dlt::data {

namespace {

std::string too_large(int64_t width, int64_t height) {
  return fmt::format("{} x {} pixels is over the limit of {} pixels", width, height, kMaxImagePixels);
}

// ---- PNG -------------------------------------------------------------------

// Everything libpng's callbacks and the read touch. libpng reports errors by
// longjmp back into read_png_body(); keeping this state outside that frame
// means the jump skips no destructor and reads no stale local.
struct PngRead {
  std::span<const uint8_t> bytes;
  size_t pos = 0;
  char error[256] = "";
  char reason[128] = "";  // our own errors, raised through png_error like libpng's
  png_structp png = nullptr;
  png_infop info = nullptr;
  Image* out = nullptr;
  std::vector<png_bytep> rows;

  ~PngRead() { png_destroy_read_struct(&png, info ? &info : nullptr, nullptr); }
};

// Called by libpng on a fatal error; must not return.
[[noreturn]] void on_png_error(png_structp png, png_const_charp message) {
  auto* s = static_cast<PngRead*>(png_get_error_ptr(png));
  std::snprintf(s->error, sizeof s->error, "%s", message);
  png_longjmp(png, 1);
}

// Warnings (an odd ICC profile, a bad ancillary chunk) leave the pixels intact.
void on_png_warning(png_structp, png_const_charp) {}

void read_png_bytes(png_structp png, png_bytep data, size_t length) {
  auto* s = static_cast<PngRead*>(png_get_io_ptr(png));
  if (s->bytes.size() - s->pos < length) png_error(png, "the file ends early (truncated)");
  std::memcpy(data, s->bytes.data() + s->pos, length);
  s->pos += length;
}

// Reads the image into *s.out as 8-bit gray or RGB; false on a libpng error.
bool read_png_body(PngRead& s) {
  if (setjmp(png_jmpbuf(s.png))) return false;
  png_set_read_fn(s.png, &s, read_png_bytes);
  png_read_info(s.png, s.info);
  const png_uint_32 width = png_get_image_width(s.png, s.info);
  const png_uint_32 height = png_get_image_height(s.png, s.info);
  if (int64_t(width) * int64_t(height) > kMaxImagePixels) {
    std::snprintf(s.reason, sizeof s.reason, "%u x %u pixels is over the limit of %lld pixels",
                  unsigned(width), unsigned(height), static_cast<long long>(kMaxImagePixels));
    png_error(s.png, s.reason);
  }
  const int color_type = png_get_color_type(s.png, s.info);
  if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(s.png);
  if (color_type == PNG_COLOR_TYPE_GRAY) png_set_expand_gray_1_2_4_to_8(s.png);
  if (png_get_bit_depth(s.png, s.info) == 16) png_set_scale_16(s.png);  // rounds, unlike strip_16
  png_set_strip_alpha(s.png);
  png_set_interlace_handling(s.png);
  png_read_update_info(s.png, s.info);
  const int channels = png_get_channels(s.png, s.info);
  if (png_get_bit_depth(s.png, s.info) != 8 || (channels != 1 && channels != 3))
    png_error(s.png, "unsupported pixel format");

  Image& img = *s.out;
  img.width = width, img.height = height, img.channels = channels;
  img.pixels.resize(size_t(width) * height * size_t(channels));
  s.rows.resize(height);
  for (png_uint_32 y = 0; y < height; ++y)
    s.rows[y] = img.pixels.data() + size_t(y) * width * size_t(channels);
  png_read_image(s.png, s.rows.data());
  png_read_end(s.png, nullptr);
  return true;
}

std::string decode_png(std::span<const uint8_t> bytes, Image& out) {
  PngRead s;
  s.bytes = bytes;
  s.out = &out;
  s.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &s, on_png_error, on_png_warning);
  if (s.png) s.info = png_create_info_struct(s.png);
  if (!s.png || !s.info) return "PNG: out of memory";
  if (!read_png_body(s)) return fmt::format("PNG: {}", s.error);
  return "";
}

// ---- JPEG ------------------------------------------------------------------

struct TjClose {
  void operator()(void* h) const { tjDestroy(h); }
};

std::string decode_jpeg(std::span<const uint8_t> bytes, Image& out) {
  const std::unique_ptr<void, TjClose> tj(tjInitDecompress());
  if (!tj) return fmt::format("JPEG: {}", tjGetErrorStr2(nullptr));
  // TurboJPEG's API takes non-const buffers but does not write them.
  auto* data = const_cast<unsigned char*>(bytes.data());
  const auto size = static_cast<unsigned long>(bytes.size());
  int width = 0, height = 0, subsampling = 0, colorspace = 0;
  if (tjDecompressHeader3(tj.get(), data, size, &width, &height, &subsampling, &colorspace) != 0)
    return fmt::format("JPEG: {}", tjGetErrorStr2(tj.get()));
  if (int64_t(width) * height > kMaxImagePixels) return "JPEG: " + too_large(width, height);
  const bool gray = colorspace == TJCS_GRAY;
  out.width = width, out.height = height, out.channels = gray ? 1 : 3;
  out.pixels.resize(size_t(width) * size_t(height) * size_t(out.channels));
  // Warnings too ("Premature end of JPEG file"): libjpeg would fill the rest with gray.
  if (tjDecompress2(tj.get(), data, size, out.pixels.data(), width, 0, height,
                    gray ? TJPF_GRAY : TJPF_RGB, TJFLAG_STOPONWARNING) != 0)
    return fmt::format("JPEG: {}", tjGetErrorStr2(tj.get()));
  return "";
}

bool starts_with(std::span<const uint8_t> bytes, std::initializer_list<uint8_t> magic) {
  return bytes.size() >= magic.size() && std::equal(magic.begin(), magic.end(), bytes.begin());
}

}  // namespace

Image convert_channels(const Image& in, int channels) {
  if (in.channels == channels) return in;
  Image out{in.height, in.width, channels, {}};
  const size_t n = size_t(in.height * in.width);
  out.pixels.resize(n * size_t(channels));
  const uint8_t* p = in.pixels.data();
  if (channels == 3) {
    for (size_t i = 0; i < n; ++i) out.pixels[3 * i] = out.pixels[3 * i + 1] = out.pixels[3 * i + 2] = p[i];
  } else {
    // 0.299 R + 0.587 G + 0.114 B in 16-bit fixed point, rounded: PIL's weights.
    for (size_t i = 0; i < n; ++i)
      out.pixels[i] = uint8_t((19595u * p[3 * i] + 38470u * p[3 * i + 1] + 7471u * p[3 * i + 2] + 0x8000u) >> 16);
  }
  return out;
}

std::string decode_image(std::span<const uint8_t> bytes, int channels, Image& out) {
  std::string error;
  if (starts_with(bytes, {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}))
    error = decode_png(bytes, out);
  else if (starts_with(bytes, {0xff, 0xd8, 0xff}))
    error = decode_jpeg(bytes, out);
  else
    return bytes.empty() ? "empty file" : "not a PNG or JPEG file";
  if (error.empty() && out.channels != channels) out = convert_channels(out, channels);
  return error;
}

}  // namespace dlt::data
