// PNG and JPEG decoding in every colour type the image import reads, the
// decoders' reasons for damaged files, and the resize filter on known patterns.
#include <gtest/gtest.h>
#include <zlib.h>

#include "dlt/data/import/image_codec.h"
#include "dlt/data/import/image_resize.h"
#include "tests/data/fixtures.h"
#include "tests/data/image_files.h"
#include "tests/test_util.h"

namespace dlt::data {
namespace {

using testing::PngColor;
using testing::TempDir;
using ::testing::HasSubstr;

Image decode_file(const std::string& path, int channels) {
  const std::string bytes = testing::read_file(path);
  Image img;
  const std::string error = decode_image(
      std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), channels, img);
  EXPECT_EQ(error, "") << path;
  return img;
}

std::string decode_error(const std::string& path) {
  const std::string bytes = testing::read_file(path);
  Image img;
  return decode_image(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), 3, img);
}

std::vector<uint8_t> bytes(std::initializer_list<int> v) { return {v.begin(), v.end()}; }

// A 3x2 image in each PNG colour type, read back as RGB and as gray.
TEST(ImageCodec, EveryPngColourTypeBecomes8BitRgbOrGray) {
  TempDir tmp;
  const std::vector<uint8_t> rgb = bytes({10, 20, 30, 200, 100, 0, 255, 255, 255,
                                          0, 0, 0, 1, 2, 3, 90, 180, 45});
  const auto luma = [](const std::vector<uint8_t>& p) {  // PIL's convert("L")
    std::vector<uint8_t> out;
    for (size_t i = 0; i < p.size(); i += 3)
      out.push_back(uint8_t((19595u * p[i] + 38470u * p[i + 1] + 7471u * p[i + 2] + 0x8000u) >> 16));
    return out;
  };
  const auto check = [&](const std::string& name, const std::vector<uint8_t>& want_rgb) {
    SCOPED_TRACE(name);
    const Image c = decode_file(tmp.path(name), 3);
    EXPECT_EQ(c.height, 2);
    EXPECT_EQ(c.width, 3);
    EXPECT_EQ(c.channels, 3);
    EXPECT_EQ(c.pixels, want_rgb);
    const Image g = decode_file(tmp.path(name), 1);
    EXPECT_EQ(g.channels, 1);
    EXPECT_EQ(g.pixels, luma(want_rgb));
  };
  std::vector<uint16_t> samples(rgb.begin(), rgb.end());
  testing::write_png(tmp.path("rgb.png"), {.width = 3, .height = 2, .color = PngColor::rgb, .samples = samples});
  check("rgb.png", rgb);
  testing::write_png(tmp.path("adam7.png"),
                     {.width = 3, .height = 2, .color = PngColor::rgb, .interlaced = true, .samples = samples});
  check("adam7.png", rgb);

  std::vector<uint16_t> rgba, rgb16;
  for (size_t i = 0; i < rgb.size(); ++i) {
    rgba.push_back(rgb[i]);
    if (i % 3 == 2) rgba.push_back(uint16_t(i * 20));  // alpha, dropped
    rgb16.push_back(uint16_t(rgb[i] * 257));           // v * 257 scales back to v exactly
  }
  testing::write_png(tmp.path("rgba.png"), {.width = 3, .height = 2, .color = PngColor::rgba, .samples = rgba});
  check("rgba.png", rgb);
  testing::write_png(tmp.path("rgb16.png"),
                     {.width = 3, .height = 2, .color = PngColor::rgb, .bit_depth = 16, .samples = rgb16});
  check("rgb16.png", rgb);

  testing::write_png(tmp.path("palette.png"),
                     {.width = 3, .height = 2, .color = PngColor::palette, .samples = {2, 0, 1, 1, 1, 2},
                      .palette = {{{7, 8, 9}}, {{250, 0, 125}}, {{33, 66, 99}}}});
  check("palette.png", bytes({33, 66, 99, 7, 8, 9, 250, 0, 125, 250, 0, 125, 250, 0, 125, 33, 66, 99}));

  const std::vector<uint8_t> gray = bytes({0, 17, 128, 200, 254, 255});
  const auto as_rgb = [](const std::vector<uint8_t>& g) {
    std::vector<uint8_t> out;
    for (const uint8_t v : g) out.insert(out.end(), {v, v, v});
    return out;
  };
  testing::write_png(tmp.path("gray.png"), {.width = 3, .height = 2, .color = PngColor::gray,
                                            .samples = {gray.begin(), gray.end()}});
  check("gray.png", as_rgb(gray));
  testing::write_png(tmp.path("gray_alpha.png"),
                     {.width = 3, .height = 2, .color = PngColor::gray_alpha,
                      .samples = {0, 9, 17, 9, 128, 0, 200, 255, 254, 3, 255, 1}});
  check("gray_alpha.png", as_rgb(gray));
  std::vector<uint16_t> gray16;
  for (const uint8_t v : gray) gray16.push_back(uint16_t(v * 257));
  testing::write_png(tmp.path("gray16.png"),
                     {.width = 3, .height = 2, .color = PngColor::gray, .bit_depth = 16, .samples = gray16});
  check("gray16.png", as_rgb(gray));
  // 4-bit gray: v -> v * 17 (0..15 -> 0..255).
  testing::write_png(tmp.path("gray4.png"), {.width = 3, .height = 2, .color = PngColor::gray,
                                             .bit_depth = 4, .samples = {0, 1, 15, 8, 2, 15}});
  check("gray4.png", as_rgb(bytes({0, 17, 255, 136, 34, 255})));
}

// Pure red, green and blue as PIL's Image.convert("L") gives them.
TEST(ImageCodec, GrayIsItu601LumaAsInPil) {
  const Image rgb{1, 4, 3, bytes({255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255})};
  EXPECT_EQ(convert_channels(rgb, 1).pixels, bytes({76, 150, 29, 255}));
  EXPECT_EQ(convert_channels(Image{1, 2, 1, bytes({7, 200})}, 3).pixels, bytes({7, 7, 7, 200, 200, 200}));
}

// A smooth gradient at quality 95: within a few levels of the original.
TEST(ImageCodec, JpegDecodesWithinASmallTolerance) {
  TempDir tmp;
  const int w = 16, h = 12;
  std::vector<uint8_t> rgb, gray;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      rgb.insert(rgb.end(), {uint8_t(x * 15), uint8_t(y * 20), uint8_t(120)});
      gray.push_back(uint8_t(x * 8 + y * 10));
    }
  testing::write_jpeg(tmp.path("c.jpg"), w, h, 3, rgb);
  testing::write_jpeg(tmp.path("g.jpeg"), w, h, 1, gray);
  const Image c = decode_file(tmp.path("c.jpg"), 3);
  const Image g = decode_file(tmp.path("g.jpeg"), 1);
  ASSERT_EQ(c.pixels.size(), rgb.size());
  ASSERT_EQ(g.pixels.size(), gray.size());
  for (size_t i = 0; i < rgb.size(); ++i) EXPECT_NEAR(c.pixels[i], rgb[i], 4) << i;
  for (size_t i = 0; i < gray.size(); ++i) EXPECT_NEAR(g.pixels[i], gray[i], 2) << i;
  EXPECT_EQ(decode_file(tmp.path("g.jpeg"), 3).channels, 3);
}

TEST(ImageCodec, DamagedFilesGiveTheDecodersReason) {
  TempDir tmp;
  std::vector<uint8_t> rgb(24 * 24 * 3);
  for (size_t i = 0; i < rgb.size(); ++i) rgb[i] = uint8_t(i * 37 % 251);
  testing::write_rgb_png(tmp.path("ok.png"), 24, 24, rgb);
  testing::write_jpeg(tmp.path("ok.jpg"), 24, 24, 3, rgb);
  const std::string png = testing::read_file(tmp.path("ok.png"));
  const std::string jpg = testing::read_file(tmp.path("ok.jpg"));

  testing::write_file(tmp.path("cut.png"), png.substr(0, png.size() / 2));
  EXPECT_THAT(decode_error(tmp.path("cut.png")), HasSubstr("PNG: the file ends early (truncated)"));
  std::string crc = png;
  crc[50] = char(crc[50] ^ 0x55);  // inside IDAT (data from byte 41)
  testing::write_file(tmp.path("crc.png"), crc);
  EXPECT_THAT(decode_error(tmp.path("crc.png")), HasSubstr("PNG: IDAT: "));  // zlib or the CRC check, whichever trips first
  testing::write_file(tmp.path("text.png"), "not an image at all\n");
  EXPECT_EQ(decode_error(tmp.path("text.png")), "not a PNG or JPEG file");
  testing::write_file(tmp.path("empty.png"), "");
  EXPECT_EQ(decode_error(tmp.path("empty.png")), "empty file");

  // A valid header of 20000 x 20000 pixels before the small image's data: refused before allocating.
  std::string ihdr = std::string("IHDR") + std::string("\0\0\x4e\x20\0\0\x4e\x20\x08\x02\0\0\0", 13);
  const uLong crc_value = crc32(0, reinterpret_cast<const Bytef*>(ihdr.data()), uInt(ihdr.size()));
  std::string bomb = png.substr(0, 8) + std::string("\0\0\0\x0d", 4) + ihdr;
  for (int shift = 24; shift >= 0; shift -= 8) bomb += char((crc_value >> shift) & 0xff);
  bomb += png.substr(8 + 25);  // after the signature and the original IHDR
  testing::write_file(tmp.path("bomb.png"), bomb);
  EXPECT_EQ(decode_error(tmp.path("bomb.png")), "PNG: 20000 x 20000 pixels is over the limit of 134217728 pixels");

  testing::write_file(tmp.path("cut.jpg"), jpg.substr(0, jpg.size() / 2));
  EXPECT_THAT(decode_error(tmp.path("cut.jpg")), HasSubstr("JPEG: Premature end of JPEG file"));
  std::string garbled = jpg.substr(0, 4) + std::string(jpg.size() - 4, '\x55');
  testing::write_file(tmp.path("garbled.jpg"), garbled);
  EXPECT_THAT(decode_error(tmp.path("garbled.jpg")), HasSubstr("JPEG: "));
}

Image gray_image(int64_t h, int64_t w, std::vector<uint8_t> pixels) { return {h, w, 1, std::move(pixels)}; }

TEST(ImageResize, AConstantImageStaysConstant) {
  const Image in{7, 5, 3, std::vector<uint8_t>(7 * 5 * 3, 201)};
  for (const auto& [h, w] : std::vector<std::pair<int64_t, int64_t>>{{3, 2}, {10, 13}, {2, 9}, {7, 5}, {1, 1}}) {
    const Image out = resize_image(in, h, w);
    EXPECT_EQ(out.pixels, std::vector<uint8_t>(size_t(h * w * 3), 201)) << h << "x" << w;
  }
}

TEST(ImageResize, HalvingACheckerboardAveragesEachBlock) {
  std::vector<uint8_t> board;
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 6; ++x) board.push_back((x + y) % 2 ? 255 : 0);
  EXPECT_EQ(resize_image(gray_image(8, 6, board), 4, 3).pixels, std::vector<uint8_t>(12, 128));  // 127.5 rounds up
  // 2x2 blocks of one value each average to that value.
  const Image blocks = gray_image(2, 4, {0, 0, 90, 90, 0, 0, 90, 90});
  EXPECT_EQ(resize_image(blocks, 1, 2).pixels, bytes({0, 90}));
}

TEST(ImageResize, AreaWeightsAndBilinearOnKnownRows) {
  // 3 -> 2: output 0 covers source [0, 1.5), output 1 covers [1.5, 3).
  EXPECT_EQ(resize_image(gray_image(1, 3, {0, 90, 180}), 1, 2).pixels, bytes({30, 150}));
  // 2 -> 4: centres at -0.25 (clamped), 0.25, 0.75, 1.25 (clamped).
  EXPECT_EQ(resize_image(gray_image(1, 2, {0, 255}), 1, 4).pixels, bytes({0, 64, 191, 255}));
  // Columns grow while rows shrink: each axis uses its own filter.
  const Image mixed = resize_image(gray_image(2, 2, {0, 255, 100, 155}), 1, 4);
  EXPECT_EQ(mixed.pixels, bytes({50, 89, 166, 205}));
}

}  // namespace
}  // namespace dlt::data
