// Files for the data tests: temporary folders, small HDF5 datasets whose
// every value is known, gzipped IDX files, and ways to damage a file.
#pragma once

#include "tests/test_util.h"

#include <cstdint>
#include <string>
#include <vector>

#include "dlt/core/shape.h"
#include "dlt/data/h5_writer.h"

namespace dlt::data::testing {

// A fresh folder, removed with its contents when the test ends.
using TempDir = ::dlt::testing::TempDir;

// Pixel i of sample s in the arrays below: a pattern that differs per sample.
inline uint8_t pixel(int64_t s, int64_t i) { return uint8_t((s * 31 + i * 7) % 251); }

// Writes `path` with "x": uint8 [n, 3, 5, 4] of pixel(s, i) and "y": int64
// [n] with y[s] = s, both stored with `layout`. Returns path.
std::string write_arrays(const std::string& path, int64_t n, const Layout& layout = {});

// Writes a file with one dataset `key` of a raw HDF5 type (one H5Writer
// refuses, such as uint16), left unwritten; an empty shape is a scalar.
void write_raw(const std::string& path, const char* key, hid_t type, const Shape& shape);

// Writes a gzip-compressed IDX file: magic 0x0000080<rank>, big-endian dims, data.
void write_idx_gz(const std::string& path, const Shape& shape, const std::vector<uint8_t>& data,
                  uint32_t magic = 0);  // 0: the right magic for uint8 of this rank

// Overwrites the stored bytes of chunk `index` of `key` with garbage.
void corrupt_chunk(const std::string& path, const char* key, hsize_t index);

// A small classification set for training runs: "train/x" (n_train,
// features) and "val/x" (n_val, features) f32 in [-1, 1), "train/y" and
// "val/y" i64 = the index of the largest of the first `classes` features, so
// a small MLP learns it in a few dozen steps.
void write_classification(const std::string& path, int64_t n_train, int64_t n_val,
                          int64_t features, int64_t classes);
// The same set with feature 0 of training rows [0, large_rows) set to
// `value`: gradients that fit in f32 but overflow once multiplied by a large
// loss scale (mixed-precision tests).
void write_classification_with_large_rows(const std::string& path, int64_t n_train, int64_t n_val,
                                          int64_t features, int64_t classes, int64_t large_rows, float value);

// Writes a plain file with these bytes.
void write_file(const std::string& path, const std::string& bytes);
// All samples of `keys` in file order, as doubles per field.
std::vector<std::vector<double>> read_all(const std::string& path, const std::vector<std::string>& keys);
// About `bytes` bytes of verse-like text for tokenizer tests: numbered lines
// of words drawn from a fixed list by a fixed generator, with commas, colons,
// a few accented and Greek words, always the same text for the same size.
std::string sample_text(size_t bytes);
// The names in a folder, sorted.
std::vector<std::string> dir_entries(const std::string& dir);
std::string read_file(const std::string& path);
// Cuts a file down to its first `bytes` bytes.
void truncate_file(const std::string& path, int64_t bytes);

}  // namespace dlt::data::testing
