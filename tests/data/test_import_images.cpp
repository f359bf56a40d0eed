// Image folders -> HDF5 (dlt data import images): exact pixels, labels and
// class names, the seeded split, and corrupt files under --on-error fail and skip.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "dlt/data/import/importers.h"
#include "dlt/data/inspect.h"
#include "tests/data/fixtures.h"
#include "tests/data/image_files.h"
#include "tests/test_util.h"

namespace dlt::data {
namespace {

namespace fs = std::filesystem;
using dlt::testing::expect_error;
using testing::PngColor;
using testing::read_all;
using testing::TempDir;
using ::testing::HasSubstr;

// A pattern unique to (class, index), so a stored row can be traced to its file.
std::vector<uint8_t> pattern(int label, int index, int h, int w, int c) {
  std::vector<uint8_t> p(size_t(h * w * c));
  for (size_t i = 0; i < p.size(); ++i) p[i] = uint8_t((label * 71 + index * 13 + int(i) * 5) % 256);
  return p;
}

// (H, W, C) interleaved -> (C, H, W) planes, as the import stores them.
std::vector<double> planar(const std::vector<uint8_t>& hwc, int c) {
  const size_t hw = hwc.size() / size_t(c);
  std::vector<double> out(hwc.size());
  for (size_t k = 0; k < size_t(c); ++k)
    for (size_t i = 0; i < hw; ++i) out[k * hw + i] = hwc[i * size_t(c) + k];
  return out;
}

// Rows of a split as (label, pixels), sorted: the import shuffles the stored order.
using Rows = std::vector<std::pair<double, std::vector<double>>>;
Rows stored_rows(const std::string& file, const std::string& split) {
  const auto v = read_all(file, {split + "/images", split + "/labels"});
  const size_t n = v[1].size(), per = v[0].size() / n;
  Rows rows;
  for (size_t i = 0; i < n; ++i)
    rows.push_back({v[1][i], std::vector<double>(v[0].begin() + long(i * per), v[0].begin() + long((i + 1) * per))});
  std::sort(rows.begin(), rows.end());
  return rows;
}

ImageImport options(double val_fraction, int channels = 3) {
  ImageImport o;
  o.val_fraction = val_fraction;
  o.channels = channels;
  return o;
}

TEST(ImportImages, PngPixelsLabelsAndClassNamesWithoutResize) {
  TempDir tmp;
  const std::string dir = tmp.path("pets");
  Rows expected;
  const std::vector<std::string> classes = {"bird", "cat", "dog"};  // sorted: labels 0, 1, 2
  for (int label = 0; label < 3; ++label) {
    fs::create_directories(dir + "/" + classes[size_t(label)]);
    for (int i = 0; i < 3; ++i) {
      const std::vector<uint8_t> rgb = pattern(label, i, 4, 5, 3);
      const std::string name = fmt::format("{}/{}/img{}.{}", dir, classes[size_t(label)], i, i == 2 ? "PNG" : "png");
      testing::write_rgb_png(name, 5, 4, rgb);
      expected.push_back({label, planar(rgb, 3)});
    }
  }
  // Gray and palette files in an RGB import; and files and folders that are no images.
  const std::vector<uint8_t> gray = pattern(1, 7, 4, 5, 1);
  testing::write_png(dir + "/cat/gray.png", {.width = 5, .height = 4, .color = PngColor::gray,
                                             .samples = {gray.begin(), gray.end()}});
  std::vector<uint8_t> gray_rgb;
  for (const uint8_t v : gray) gray_rgb.insert(gray_rgb.end(), {v, v, v});
  expected.push_back({1, planar(gray_rgb, 3)});
  // Images in nested folders belong to their class, as in torchvision's ImageFolder.
  fs::create_directories(dir + "/dog/more");
  const std::vector<uint8_t> nested = pattern(2, 9, 4, 5, 3);
  testing::write_rgb_png(dir + "/dog/more/x.jpg.png", 5, 4, nested);
  expected.push_back({2, planar(nested, 3)});
  testing::write_file(dir + "/cat/notes.txt", "not an image, ignored");
  testing::write_file(dir + "/cat/._img0.png", "macOS metadata, hidden, ignored");
  fs::create_directories(dir + "/dog/.thumbs");
  testing::write_file(dir + "/dog/.thumbs/t.png", "in a hidden folder, ignored");
  testing::write_file(dir + "/README", "ignored too");
  fs::create_directories(dir + "/.cache");
  std::sort(expected.begin(), expected.end());

  const std::string out = tmp.path("out/pets.h5");
  const ImageImportReport r = import_images(dir, out, options(0));
  EXPECT_EQ(r.classes, 3);
  EXPECT_EQ(r.train, 11);
  EXPECT_EQ(r.val, 0);
  EXPECT_TRUE(r.skipped.empty());
  EXPECT_EQ(stored_rows(out, "train"), expected);

  const std::string tree = inspect(out);
  EXPECT_THAT(tree, HasSubstr("images: uint8 [11, 3, 4, 5], contiguous"));
  EXPECT_THAT(tree, HasSubstr("labels: int64 [11]"));
  EXPECT_THAT(tree, HasSubstr("@class_names = [\"bird\", \"cat\", \"dog\"]"));
  EXPECT_THAT(tree, HasSubstr("@source = \"" + dir + "\""));
  EXPECT_THAT(tree, HasSubstr("@resize = \"none\""));
  EXPECT_THAT(tree, ::testing::Not(HasSubstr("val/")));
  EXPECT_EQ(testing::dir_entries(tmp.path("out")), std::vector<std::string>{"pets.h5"});  // no leftovers
}

TEST(ImportImages, GrayChannelsResizeAndMixedFormats) {
  TempDir tmp;
  const std::string dir = tmp.path("shades");
  fs::create_directories(dir + "/dark");
  fs::create_directories(dir + "/light");
  // Constant images of many sizes and formats: each stays its constant through the resize.
  testing::write_jpeg(dir + "/dark/a.jpg", 20, 10, 3, std::vector<uint8_t>(20 * 10 * 3, 40));
  testing::write_jpeg(dir + "/dark/b.JPEG", 3, 5, 1, std::vector<uint8_t>(3 * 5, 40));
  testing::write_png(dir + "/light/c.png", {.width = 9, .height = 9, .color = PngColor::rgba,
                                            .samples = std::vector<uint16_t>(9 * 9 * 4, 220)});
  testing::write_png(dir + "/light/d.png", {.width = 2, .height = 3, .color = PngColor::gray, .bit_depth = 16,
                                            .samples = std::vector<uint16_t>(6, 220 * 257)});
  ImageImport o = options(0, 1);
  parse_image_size("6x8", o);
  const std::string out = tmp.path("shades.h5");
  import_images(dir, out, o);
  EXPECT_THAT(inspect(out), HasSubstr("images: uint8 [4, 1, 6, 8]"));
  for (const auto& [label, pixels] : stored_rows(out, "train"))
    for (const double v : pixels) EXPECT_NEAR(v, label == 0 ? 40 : 220, 1);
}

TEST(ImportImages, SplitIsStratifiedSeededAndRepeatable) {
  TempDir tmp;
  const std::string dir = tmp.path("d");
  for (int label = 0; label < 2; ++label) {
    fs::create_directories(fmt::format("{}/c{}", dir, label));
    for (int i = 0; i < 10; ++i)
      testing::write_rgb_png(fmt::format("{}/c{}/{:02}.png", dir, label, i), 3, 2, pattern(label, i, 2, 3, 3));
  }
  const auto import = [&](uint64_t seed, const std::string& name) {
    ImageImport o = options(0.3);
    o.seed = seed;
    const ImageImportReport r = import_images(dir, tmp.path(name), o);
    EXPECT_EQ(r.train, 14);
    EXPECT_EQ(r.val, 6);
    return std::pair(read_all(tmp.path(name), {"train/images", "train/labels"}),
                     read_all(tmp.path(name), {"val/images", "val/labels"}));
  };
  const auto a = import(5, "a.h5"), b = import(5, "b.h5"), c = import(6, "c.h5");
  EXPECT_EQ(a, b);  // same files and seed: the same bytes in the same order
  EXPECT_NE(a, c);
  const std::vector<double>& val_labels = a.second[1];
  EXPECT_EQ(std::count(val_labels.begin(), val_labels.end(), 0.0), 3);  // 30% of each class
  EXPECT_EQ(std::count(val_labels.begin(), val_labels.end(), 1.0), 3);
  // The stored order is shuffled, not class after class.
  const std::vector<double>& train_labels = a.first[1];
  EXPECT_FALSE(std::is_sorted(train_labels.begin(), train_labels.end()));

  import_images(dir, tmp.path("chunked.h5"), {.val_fraction = 0.3, .layout = {.chunk_rows = 4, .compress = 3}});
  EXPECT_THAT(inspect(tmp.path("chunked.h5")), HasSubstr("images: uint8 [14, 3, 2, 3], chunks [4, 3, 2, 3], gzip 3"));
}

// A folder with good images and every kind of bad one.
struct DamagedFolder {
  TempDir tmp;
  std::string dir = tmp.path("d");
  std::vector<std::string> bad;  // the files (and folder) an import must name
  DamagedFolder() {
    for (const char* c : {"a", "b", "c"}) fs::create_directories(dir + "/" + c);
    for (int i = 0; i < 4; ++i) {
      testing::write_rgb_png(fmt::format("{}/a/{}.png", dir, i), 8, 8, pattern(0, i, 8, 8, 3));
      testing::write_jpeg(fmt::format("{}/b/{}.jpg", dir, i), 8, 8, 3, pattern(1, i, 8, 8, 3));
    }
    const std::string png = testing::read_file(dir + "/a/0.png");
    const std::string jpg = testing::read_file(dir + "/b/0.jpg");
    testing::write_file(dir + "/a/truncated.png", png.substr(0, png.size() - 30));
    testing::write_file(dir + "/b/corrupt.jpg", jpg.substr(0, 30) + std::string(200, '\xff'));
    testing::write_file(dir + "/b/text.png", "hello\n");
    bad = {dir + "/a/truncated.png", dir + "/b/corrupt.jpg", dir + "/b/text.png", dir + "/c"};
  }
};

TEST(ImportImages, FailNamesTheFileAndWritesNothing) {
  DamagedFolder f;
  const std::string out = f.tmp.path("out/x.h5");
  expect_error([&] { import_images(f.dir, out, options(0.25)); }, {"(--on-error skip"});
  // One bad thing at a time, each named with its reason.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {f.dir + "/c", "no images (.png, .jpg, .jpeg)"},
      {f.dir + "/a/truncated.png", "PNG: "},
      {f.dir + "/b/corrupt.jpg", "JPEG: "},
      {f.dir + "/b/text.png", "not a PNG or JPEG file"}};
  testing::write_rgb_png(f.dir + "/c/0.png", 8, 8, pattern(2, 0, 8, 8, 3));
  testing::write_rgb_png(f.dir + "/c/1.png", 8, 8, pattern(2, 1, 8, 8, 3));
  for (size_t k = 1; k < cases.size(); ++k) {
    for (size_t other = 1; other < cases.size(); ++other)
      if (other != k) fs::rename(cases[other].first, cases[other].first + ".off");
    expect_error([&] { import_images(f.dir, out, options(0.25)); }, {cases[k].first + ": " + cases[k].second});
    for (size_t other = 1; other < cases.size(); ++other)
      if (other != k) fs::rename(cases[other].first + ".off", cases[other].first);
  }
  fs::remove_all(f.dir + "/c");
  fs::create_directories(f.dir + "/c");
  expect_error([&] { import_images(f.dir, out, options(0.25)); }, {f.dir + "/c: no images"});
  EXPECT_TRUE(!fs::exists(f.tmp.path("out")) || testing::dir_entries(f.tmp.path("out")).empty());
}

TEST(ImportImages, SkipListsEachBadFileAndGoesOn) {
  DamagedFolder f;
  ImageImport o = options(0.25);
  o.on_error = OnError::skip;
  const ImageImportReport r = import_images(f.dir, f.tmp.path("x.h5"), o);
  std::vector<std::string> skipped;
  for (const SkippedImage& s : r.skipped) {
    skipped.push_back(s.path);
    EXPECT_FALSE(s.reason.empty()) << s.path;
  }
  std::sort(skipped.begin(), skipped.end());
  std::vector<std::string> want = f.bad;
  std::sort(want.begin(), want.end());
  EXPECT_EQ(skipped, want);
  EXPECT_EQ(r.classes, 3);  // the empty class keeps its label
  EXPECT_EQ(r.train + r.val, 8);
  const std::string tree = inspect(f.tmp.path("x.h5"));
  EXPECT_THAT(tree, HasSubstr("@class_names = [\"a\", \"b\", \"c\"]"));
  EXPECT_THAT(tree, HasSubstr("@skipped = 4"));
}

TEST(ImportImages, SizesMustMatchWithoutResize) {
  TempDir tmp;
  fs::create_directories(tmp.path("d/x"));
  testing::write_rgb_png(tmp.path("d/x/a.png"), 4, 3, pattern(0, 0, 3, 4, 3));
  testing::write_rgb_png(tmp.path("d/x/b.png"), 5, 3, pattern(0, 1, 3, 5, 3));
  // Either file may come first in the shuffled order; the message names both.
  expect_error([&] { import_images(tmp.path("d"), tmp.path("o.h5"), options(0)); },
               {tmp.path("d/x/a.png"), tmp.path("d/x/b.png"), "3x4", "3x5", "--size HxW"});
  EXPECT_FALSE(fs::exists(tmp.path("o.h5")));
}

TEST(ImportImages, BadFoldersAndOptions) {
  TempDir tmp;
  expect_error([&] { import_images(tmp.path("none"), tmp.path("o.h5"), {}); }, {tmp.path("none"), "no such folder"});
  testing::write_file(tmp.path("file"), "x");
  expect_error([&] { import_images(tmp.path("file"), tmp.path("o.h5"), {}); }, {tmp.path("file"), "not a folder"});
  fs::create_directories(tmp.path("flat"));
  testing::write_rgb_png(tmp.path("flat/a.png"), 2, 2, pattern(0, 0, 2, 2, 3));
  expect_error([&] { import_images(tmp.path("flat"), tmp.path("o.h5"), {}); }, {tmp.path("flat"), "no class folders"});
  fs::create_directories(tmp.path("empty/a"));
  fs::create_directories(tmp.path("empty/b"));
  ImageImport skip;
  skip.on_error = OnError::skip;
  expect_error([&] { import_images(tmp.path("empty"), tmp.path("o.h5"), skip); },
               {tmp.path("empty"), "no images", "2 class folders"});
  fs::create_directories(tmp.path("one/a"));
  testing::write_rgb_png(tmp.path("one/a/x.png"), 2, 2, pattern(0, 0, 2, 2, 3));
  expect_error([&] { import_images(tmp.path("one"), tmp.path("o.h5"), options(0.5)); },
               {"1 images cannot be split"});
  expect_error([&] { import_images(tmp.path("one"), tmp.path("o.h5"), options(1)); }, {"[0, 1)"});
  expect_error([&] { import_images(tmp.path("one"), tmp.path("o.h5"), options(0, 2)); }, {"channels must be 1"});
  ImageImport o;
  for (const char* bad : {"64", "64x", "x64", "0x5", "5x-1", "abcxdef", "70000x1"})
    expect_error([&] { parse_image_size(bad, o); }, {"expected HxW"});
  parse_image_size("32x48", o);
  EXPECT_EQ(o.height, 32);
  EXPECT_EQ(o.width, 48);
  EXPECT_FALSE(fs::exists(tmp.path("o.h5")));
}

}  // namespace
}  // namespace dlt::data
