#include "tests/data/fixtures.h"

#include "dlt/data/array_dataset.h"
#include "dlt/data/h5_writer.h"
#include "dlt/data/loader.h"

#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace dlt::data::testing {

namespace fs = std::filesystem;

std::string write_arrays(const std::string& path, int64_t n, const Layout& layout) {
  const Shape x_shape{n, 3, 5, 4};
  const int64_t per = 3 * 5 * 4;
  std::vector<uint8_t> x(size_t(n * per));
  std::vector<int64_t> y(static_cast<size_t>(n));
  for (int64_t s = 0; s < n; ++s) {
    for (int64_t i = 0; i < per; ++i) x[size_t(s * per + i)] = pixel(s, i);
    y[size_t(s)] = s;
  }
  H5Writer w(path);
  w.write("x", DType::u8, x_shape, x.data(), layout);
  w.write("y", DType::i64, {n}, y.data(), layout);
  w.commit();
  return path;
}

void write_raw(const std::string& path, const char* key, hid_t type, const Shape& shape) {
  h5::quiet();
  const h5::Id file(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
  const std::vector<hsize_t> dims(shape.begin(), shape.end());
  const h5::Id space(shape.empty() ? H5Screate(H5S_SCALAR)
                                   : H5Screate_simple(int(dims.size()), dims.data(), nullptr),
                     H5Sclose);
  const h5::Id ds(H5Dcreate2(file.get(), key, type, space.get(), H5P_DEFAULT, H5P_DEFAULT,
                             H5P_DEFAULT),
                  H5Dclose);
  if (ds.get() < 0) throw std::runtime_error("creating " + path + " failed");
}

void write_idx_gz(const std::string& path, const Shape& shape, const std::vector<uint8_t>& data,
                  uint32_t magic) {
  if (magic == 0) magic = 0x800u | uint32_t(shape.size());
  std::string bytes;
  const auto put_u32 = [&](uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(char((v >> shift) & 0xff));
  };
  put_u32(magic);
  for (const int64_t d : shape) put_u32(uint32_t(d));
  bytes.append(reinterpret_cast<const char*>(data.data()), data.size());
  gzFile f = gzopen(path.c_str(), "wb");
  if (!f || gzwrite(f, bytes.data(), unsigned(bytes.size())) != int(bytes.size()))
    throw std::runtime_error("writing " + path + " failed");
  gzclose(f);
}

void corrupt_chunk(const std::string& path, const char* key, hsize_t index) {
  haddr_t addr = 0;
  hsize_t size = 0;
  {
    const auto file = h5::open_file(path);
    const h5::Id ds = h5::open_dataset(*file, key);
    const h5::Id space(H5Dget_space(ds.get()), H5Sclose);
    std::vector<hsize_t> offset(8);
    unsigned mask = 0;
    if (H5Dget_chunk_info(ds.get(), space.get(), index, offset.data(), &mask, &addr, &size) < 0)
      throw std::runtime_error("no chunk " + std::to_string(index) + " in " + path);
  }
  std::string bytes = read_file(path);
  for (hsize_t i = 0; i < size; ++i) bytes[size_t(addr + i)] = char(0xA5 ^ i);
  write_file(path, bytes);
}

std::string sample_text(size_t bytes) {
  static const char* const words[] = {
      "and",   "the",    "of",     "that",  "unto",   "he",       "shall", "for",   "his",
      "they",  "LORD",   "them",   "with",  "not",    "all",      "was",   "thou",  "which",
      "him",   "God",    "upon",   "house", "land",   "people",   "came",  "king",  "said",
      "earth", "heaven", "waters", "light", "darkness", "beginning", "created", "caf\xc3\xa9",
      "na\xc3\xafve", "\xce\xbb\xcf\x8c\xce\xb3\xce\xbf\xcf\x82", "Isra\xc3\xabl"};
  uint64_t state = 12345;  // a 64-bit LCG: the same text on every platform
  const auto next = [&](uint64_t n) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return (state >> 33) % n;
  };
  std::string text;
  for (int line = 1; text.size() < bytes; ++line) {
    text += fmt::format("{}:{} ", line / 30 + 1, line % 30 + 1);
    const uint64_t n = 6 + next(25);
    for (uint64_t w = 0; w < n; ++w) {
      text += words[next(std::size(words))];
      text += w + 1 == n ? "." : next(8) == 0 ? ", " : next(12) == 0 ? ": " : " ";
    }
    text += '\n';
  }
  return text;
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::vector<double>> read_all(const std::string& path, const std::vector<std::string>& keys) {
  auto ds = std::make_shared<ArrayDataset>(path, keys);
  LoaderOptions o;
  o.batch_size = ds->size();
  o.sampler.shuffle = Shuffle::none;
  Loader loader(ds, o);
  const auto batch = loader.next();
  std::vector<std::vector<double>> out;
  for (const Tensor& t : batch->fields) out.push_back(::dlt::testing::to_vector<double>(t));
  return out;
}

void truncate_file(const std::string& path, int64_t bytes) { fs::resize_file(path, uintmax_t(bytes)); }

void write_classification(const std::string& path, int64_t n_train, int64_t n_val,
                          int64_t features, int64_t classes) {
  write_classification_with_large_rows(path, n_train, n_val, features, classes, 0, 0);
}

void write_classification_with_large_rows(const std::string& path, int64_t n_train, int64_t n_val,
                                          int64_t features, int64_t classes, int64_t large_rows, float value) {
  H5Writer w(path);
  for (const auto& [split, n] : {std::pair<std::string, int64_t>{"train", n_train}, {"val", n_val}}) {
    std::vector<float> x(static_cast<size_t>(n * features));
    std::vector<int64_t> y(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      float* row = &x[size_t(i * features)];
      for (int64_t f = 0; f < features; ++f)
        row[f] = float(((i + 7) * (f + 3) * 37 + (split == "val")) % 101) / 50.0f - 1;
      y[size_t(i)] = std::max_element(row, row + classes) - row;  // first largest wins ties
      if (split == "train" && i < large_rows) row[0] = value;
    }
    w.write(split + "/x", DType::f32, {n, features}, x.data());
    w.write(split + "/y", DType::i64, {n}, y.data());
  }
  w.commit();
}

std::vector<std::string> dir_entries(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace dlt::data::testing
