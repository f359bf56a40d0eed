// dlt data import images
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "dlt/core/parallel.h"
#include "dlt/data/import/image_codec.h"
#include "dlt/data/import/image_resize.h"
#include "dlt/data/import/importers.h"
#include "dlt/data/import/row_spool.h"
#include "dlt/data/random.h"

namespace dlt::data {

namespace fs = std::filesystem;

namespace {

constexpr int64_t kMaxSide = 65535;  // per side of a --size: larger is a typo, not a training size

// Images decoded (in parallel) per round, per thread: few enough that a round
// of full-size images (no --size) stays small, enough to keep threads busy.
constexpr int64_t kDecodePerThread = 8;
constexpr int64_t kCopyBytes = int64_t(64) << 20;  // spool -> HDF5 copies, per write

bool is_hidden(const fs::path& p) { return p.filename().string().starts_with('.'); }

bool is_image_name(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return !is_hidden(p) && (ext == ".png" || ext == ".jpg" || ext == ".jpeg");
}

// The class folders in `dir`, sorted (byte order, as Python's sorted()).
std::vector<std::string> class_folders(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code kind;
    if (it->is_directory(kind) && !is_hidden(it->path())) names.push_back(it->path().filename().string());
  }
  DLT_CHECK(!ec, "{}: cannot list: {}", dir.string(), ec.message());
  std::sort(names.begin(), names.end());
  return names;
}

// The images anywhere under `dir` (as torchvision's ImageFolder finds them,
// but not inside hidden folders), sorted by path.
std::vector<std::string> image_paths(const fs::path& dir) {
  std::vector<std::string> paths;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code kind;
    if (it->is_directory(kind)) {
      if (is_hidden(it->path())) it.disable_recursion_pending();
    } else if (is_image_name(it->path())) {
      paths.push_back(it->path().string());
    }
  }
  DLT_CHECK(!ec, "{}: cannot list: {}", dir.string(), ec.message());
  std::sort(paths.begin(), paths.end());
  return paths;
}

struct ImageFile {
  std::string path;
  int64_t label;
};

struct Folder {
  std::vector<std::string> class_names;
  std::vector<std::vector<ImageFile>> files;  // per class, sorted by path
};

Folder list_folder(const std::string& dir, OnError on_error, ImageImportReport& report) {
  std::error_code ec;
  DLT_CHECK(fs::exists(dir, ec), "{}: no such folder", dir);
  DLT_CHECK(fs::is_directory(dir, ec), "{}: not a folder", dir);
  Folder f;
  f.class_names = class_folders(dir);
  DLT_CHECK(!f.class_names.empty(), "{}: no class folders (expected {}/<class>/<image>.png|.jpg|.jpeg)",
            dir, dir);
  int64_t total = 0;
  for (size_t c = 0; c < f.class_names.size(); ++c) {
    const fs::path class_dir = fs::path(dir) / f.class_names[c];
    auto& files = f.files.emplace_back();
    for (std::string& path : image_paths(class_dir)) files.push_back({std::move(path), int64_t(c)});
    if (files.empty()) {
      const std::string reason = "no images (.png, .jpg, .jpeg)";
      DLT_CHECK(on_error == OnError::skip, "{}: {} (--on-error skip leaves the class empty)",
                class_dir.string(), reason);
      report.skipped.push_back({class_dir.string(), reason});
    }
    total += int64_t(files.size());
  }
  DLT_CHECK(total > 0, "{}: no images (.png, .jpg, .jpeg) in any of its {} class folders", dir,
            f.class_names.size());
  return f;
}

struct Split {
  std::vector<ImageFile> train, val;
};

// Of each class, round(n * val_fraction) files drawn with the seed (at least
// one left for training) go to val; each split is then shuffled as a whole.
Split split_folder(const Folder& f, double val_fraction, uint64_t seed) {
  Split s;
  for (size_t c = 0; c < f.files.size(); ++c) {
    std::vector<ImageFile> files = f.files[c];
    shuffle(std::span(files), seed, Stream::image_split, int64_t(c));
    const auto n = int64_t(files.size());
    const int64_t n_val = std::clamp<int64_t>(std::llround(double(n) * val_fraction), 0, std::max<int64_t>(n - 1, 0));
    s.val.insert(s.val.end(), files.begin(), files.begin() + n_val);
    s.train.insert(s.train.end(), files.begin() + n_val, files.end());
  }
  shuffle(std::span(s.train), seed, Stream::image_order, 0);
  shuffle(std::span(s.val), seed, Stream::image_order, 1);
  return s;
}

std::vector<uint8_t> read_bytes(const std::string& path, std::string& error) {
  std::vector<uint8_t> bytes;
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    error = fmt::format("cannot open: {}", std::strerror(errno));
    return bytes;
  }
  uint8_t buf[1 << 16];
  while (const size_t n = std::fread(buf, 1, sizeof buf, f)) bytes.insert(bytes.end(), buf, buf + n);
  if (std::ferror(f)) error = fmt::format("read error: {}", std::strerror(errno));
  std::fclose(f);
  return bytes;
}

// One file decoded, resized and laid out as (C, H, W); or why not.
struct Decoded {
  int64_t height = 0, width = 0;
  std::vector<uint8_t> planes;
  std::string error;
};

Decoded load_image(const std::string& path, const ImageImport& o) noexcept {
  Decoded d;
  try {
    const std::vector<uint8_t> bytes = read_bytes(path, d.error);
    Image img;
    if (d.error.empty()) d.error = decode_image(bytes, o.channels, img);
    if (!d.error.empty()) return d;
    if (o.height > 0) img = resize_image(img, o.height, o.width);
    d.height = img.height, d.width = img.width;
    const size_t hw = size_t(img.height * img.width), c = size_t(img.channels);
    d.planes.resize(hw * c);
    for (size_t k = 0; k < c; ++k)
      for (size_t i = 0; i < hw; ++i) d.planes[k * hw + i] = img.pixels[i * c + k];
  } catch (const std::exception& e) {  // out of memory, mostly
    d.error = e.what();
  }
  return d;
}

// Decodes `files` block by block into `spool`, in order, appending their
// labels; files that fail are skipped (listed in `report`) or an error.
class Decoder {
 public:
  Decoder(const ImageImport& o, RowSpool& spool, ImageImportReport& report)
      : o_(o), spool_(spool), report_(report) {}

  std::vector<int64_t> run(const std::vector<ImageFile>& files) {
    std::vector<int64_t> labels;
    std::vector<Decoded> block;
    const auto block_size = size_t(kDecodePerThread * num_threads());
    for (size_t start = 0; start < files.size(); start += block_size) {
      const size_t n = std::min(files.size() - start, block_size);
      block.assign(n, {});
      parallel_for(0, int64_t(n), 1, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) block[size_t(i)] = load_image(files[start + size_t(i)].path, o_);
      });
      for (size_t i = 0; i < n; ++i) {
        const ImageFile& file = files[start + i];
        if (keep(file, block[i])) labels.push_back(file.label);
      }
    }
    return labels;
  }

  int64_t height() const { return height_; }
  int64_t width() const { return width_; }

 private:
  bool keep(const ImageFile& file, const Decoded& d) {
    if (!d.error.empty()) {
      DLT_CHECK(o_.on_error == OnError::skip, "{}: {} (--on-error skip leaves such files out)",
                file.path, d.error);
      report_.skipped.push_back({file.path, d.error});
      return false;
    }
    if (first_.empty()) {
      first_ = file.path, height_ = d.height, width_ = d.width;
      spool_.set_row_bytes(int64_t(d.planes.size()));
    }
    DLT_CHECK(d.height == height_ && d.width == width_,
              "{} is {}x{} (HxW) but {} is {}x{}: pass --size HxW to resize every image to one size",
              file.path, d.height, d.width, first_, height_, width_);
    spool_.append(d.planes.data());
    return true;
  }

  const ImageImport& o_;
  RowSpool& spool_;
  ImageImportReport& report_;
  std::string first_;  // the first image kept: the size all others must have
  int64_t height_ = 0, width_ = 0;
};

// Rows [first, first + labels.size()) of the spool -> <split>/images and <split>/labels.
void write_split(H5Writer& w, const std::string& split, const RowSpool& spool, int64_t first,
                 const std::vector<int64_t>& labels, const Shape& image_shape, const Layout& layout) {
  const auto n = int64_t(labels.size());
  {
    H5Writer::Array images = w.create(split + "/images", DType::u8,
                                      {n, image_shape[0], image_shape[1], image_shape[2]}, layout);
    const int64_t block = std::max<int64_t>(1, kCopyBytes / spool.row_bytes());
    std::vector<uint8_t> rows;
    for (int64_t start = 0; start < n; start += block) {
      const int64_t count = std::min(block, n - start);
      rows.resize(size_t(count * spool.row_bytes()));
      spool.read(first + start, count, rows.data());
      images.write_rows(start, count, rows.data());
    }
  }
  w.write(split + "/labels", DType::i64, {n}, labels.data(), layout);
}

}  // namespace

OnError parse_on_error(std::string_view name) {
  if (name == "fail") return OnError::fail;
  if (name == "skip") return OnError::skip;
  throw Error(fmt::format("unknown --on-error '{}' (expected fail or skip)", name));
}

void parse_image_size(std::string_view text, ImageImport& o) {
  const size_t x = text.find('x');
  const auto number = [](std::string_view s, int64_t& v) {
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return ec == std::errc() && end == s.data() + s.size() && v >= 1 && v <= kMaxSide;
  };
  DLT_CHECK(x != std::string_view::npos && number(text.substr(0, x), o.height) &&
                number(text.substr(x + 1), o.width),
            "image size '{}': expected HxW with both in 1..{}, e.g. 64x64", text, kMaxSide);
}

ImageImportReport import_images(const std::string& dir, const std::string& out, const ImageImport& o) {
  DLT_CHECK(o.val_fraction >= 0 && o.val_fraction < 1, "validation fraction must be in [0, 1), got {}",
            o.val_fraction);
  DLT_CHECK(o.channels == 1 || o.channels == 3, "channels must be 1 (gray) or 3 (RGB), got {}", o.channels);
  DLT_CHECK(o.height >= 0 && o.width >= 0 && (o.height > 0) == (o.width > 0) && o.height <= kMaxSide &&
                o.width <= kMaxSide,
            "image size {}x{}: give both, each in 1..{}, or neither", o.height, o.width, kMaxSide);
  ImageImportReport report;
  const Folder folder = list_folder(dir, o.on_error, report);
  report.classes = int64_t(folder.class_names.size());
  const Split split = split_folder(folder, o.val_fraction, o.seed);
  DLT_CHECK(o.val_fraction == 0 || !split.val.empty(),
            "{}: {} images cannot be split into train and a validation fraction of {} (each class "
            "keeps one image for training)", dir, split.train.size() + split.val.size(), o.val_fraction);

  H5Writer w(out);
  RowSpool spool(out + ".rows.partial");
  Decoder decoder(o, spool, report);
  const std::vector<int64_t> train_labels = decoder.run(split.train);
  const std::vector<int64_t> val_labels = decoder.run(split.val);
  DLT_CHECK(!train_labels.empty(), "{}: no training images left ({} skipped)", dir,
            report.skipped.size());
  DLT_CHECK(split.val.empty() || !val_labels.empty(), "{}: no validation images left ({} skipped)",
            dir, report.skipped.size());

  const Shape image_shape{o.channels, decoder.height(), decoder.width()};
  write_split(w, "train", spool, 0, train_labels, image_shape, o.layout);
  if (!val_labels.empty())
    write_split(w, "val", spool, int64_t(train_labels.size()), val_labels, image_shape, o.layout);
  w.set_attribute("/", "dataset", std::string("image-folder"));
  w.set_attribute("/", "class_names", folder.class_names);
  w.set_attribute("/", "source", dir);
  w.set_attribute("/", "resize", o.height > 0 ? std::string("area (shrink), bilinear (enlarge)")
                                              : std::string("none"));
  w.set_attribute("/", "val_fraction", o.val_fraction);
  w.set_attribute("/", "seed", int64_t(o.seed));
  w.set_attribute("/", "skipped", int64_t(report.skipped.size()));
  w.commit();
  report.train = int64_t(train_labels.size());
  report.val = int64_t(val_labels.size());
  return report;
}

}  // namespace dlt::data
