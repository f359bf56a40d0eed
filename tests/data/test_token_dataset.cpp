// Token windows for language models: x/y shifted by one, sequential and
// random offsets, and the streams that cannot be used.
#include <gtest/gtest.h>

#include <set>

#include "dlt/data/loader.h"
#include "dlt/data/token_dataset.h"
#include "tests/data/fixtures.h"
#include "tests/test_util.h"

namespace dlt::data {
namespace {

using dlt::testing::expect_error;
using dlt::testing::to_vector;
using testing::TempDir;

// A stream whose token k is k (int32), or k % 256 (uint8).
std::string write_stream(const std::string& path, int64_t n, DType dtype = DType::i32) {
  H5Writer w(path);
  if (dtype == DType::u8) {
    std::vector<uint8_t> t(static_cast<size_t>(n));
    for (int64_t k = 0; k < n; ++k) t[size_t(k)] = uint8_t(k % 256);
    w.write("train/tokens", dtype, {n}, t.data());
  } else {
    std::vector<int32_t> t(static_cast<size_t>(n));
    for (int64_t k = 0; k < n; ++k) t[size_t(k)] = int32_t(k);
    w.write("train/tokens", DType::i32, {n}, t.data());
  }
  w.commit();
  return path;
}

// Reads windows `indices` of `epoch` as (x, y) int64 vectors.
std::pair<std::vector<int64_t>, std::vector<int64_t>> windows(const TokenDataset& ds,
                                                              std::vector<int64_t> indices,
                                                              int64_t epoch = 0) {
  const int64_t T = ds.fields()[0].shape[0];
  std::vector<int64_t> x(indices.size() * size_t(T)), y(x.size());
  std::byte* out[2] = {reinterpret_cast<std::byte*>(x.data()), reinterpret_cast<std::byte*>(y.data())};
  ds.read(indices, epoch, out);
  return {x, y};
}

TEST(TokenDataset, SequentialWindowsTileTheStream) {
  TempDir tmp;
  const TokenDataset ds(write_stream(tmp.path("t.h5"), 103), "train/tokens", {.block_size = 10});
  EXPECT_EQ(ds.size(), 10);  // (103 - 1) / 10
  EXPECT_EQ(ds.fields()[0].dtype, DType::i64);
  EXPECT_EQ(ds.fields()[1].shape, Shape{10});
  const auto [x, y] = windows(ds, {0, 9, 4});
  for (size_t w = 0; w < 3; ++w) {
    const int64_t start = std::vector<int64_t>{0, 90, 40}[w];
    for (int64_t t = 0; t < 10; ++t) {
      EXPECT_EQ(x[w * 10 + size_t(t)], start + t);
      EXPECT_EQ(y[w * 10 + size_t(t)], start + t + 1);  // the next token
    }
  }
}

TEST(TokenDataset, ByteStreamsWidenToInt64) {
  TempDir tmp;
  const TokenDataset ds(write_stream(tmp.path("b.h5"), 600, DType::u8), "train/tokens",
                        {.block_size = 300});
  const auto [x, y] = windows(ds, {0});
  EXPECT_EQ(x[255], 255);
  EXPECT_EQ(x[256], 0);
  EXPECT_EQ(y[255], 0);
}

TEST(TokenDataset, RandomOffsetsDependOnlyOnSeedEpochAndIndex) {
  TempDir tmp;
  const std::string path = write_stream(tmp.path("t.h5"), 1000);
  const TokenDataset ds(path, "train/tokens", {.block_size = 16, .random_offsets = true, .seed = 4});
  std::set<int64_t> starts;
  for (int64_t i = 0; i < ds.size(); ++i) {
    const auto [x, y] = windows(ds, {i}, 2);
    EXPECT_EQ(x[0], ds.offset(i, 2));
    EXPECT_LE(x[0] + 16, 999);  // y's last token is inside the stream
    EXPECT_EQ(y[15], x[0] + 16);
    starts.insert(x[0]);
  }
  EXPECT_GT(starts.size(), 50u);
  EXPECT_EQ(ds.offset(7, 2), ds.offset(7, 2));
  EXPECT_NE(windows(ds, {0, 1, 2, 3}, 0), windows(ds, {0, 1, 2, 3}, 1));
}

TEST(TokenDataset, LoaderBatchesWindows) {
  TempDir tmp;
  const auto ds = std::make_shared<TokenDataset>(write_stream(tmp.path("t.h5"), 401),
                                                 "train/tokens", TokenWindows{.block_size = 8});
  LoaderOptions o;
  o.batch_size = 16;
  o.sampler.seed = 3;
  Loader loader(ds, o);
  const auto batch = loader.next();
  ASSERT_TRUE(batch);
  EXPECT_EQ(batch->fields[0].shape(), (Shape{16, 8}));
  EXPECT_EQ(batch->fields[1].dtype(), DType::i64);
  const auto x = to_vector<int64_t>(batch->fields[0]);
  for (size_t i = 0; i < 16; ++i) EXPECT_EQ(x[i * 8], batch->indices[i] * 8);
}

TEST(TokenDataset, StreamsThatCannotBeUsed) {
  TempDir tmp;
  const std::string path = tmp.path("bad.h5");
  {
    H5Writer w(path);
    const std::vector<float> f(100);
    const std::vector<int32_t> two(100);
    const std::vector<int32_t> shorty(8);
    w.write("floats", DType::f32, {100}, f.data());
    w.write("matrix", DType::i32, {10, 10}, two.data());
    w.write("short", DType::i32, {8}, shorty.data());
    w.commit();
  }
  expect_error([&] { TokenDataset(path, "floats", {}); }, {path, "'floats'", "must be integers"});
  expect_error([&] { TokenDataset(path, "matrix", {}); }, {"1-D token stream", "[10, 10]"});
  expect_error([&] { TokenDataset(path, "short", {.block_size = 8}); }, {"8 tokens", "too few"});
  expect_error([&] { TokenDataset(path, "short", {.block_size = 0}); }, {"block size must be positive"});
  const std::string big = write_stream(tmp.path("big.h5"), 10000);
  expect_error([&] { TokenDataset(big, "train/tokens", {.block_size = 8, .random_offsets = true}, 1024); },
               {"random windows need", "cache"});
}

}  // namespace
}  // namespace dlt::data
