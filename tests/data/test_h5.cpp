// Reading and writing HDF5, and every kind of bad file: each must be a
// dlt::Error that names the file (and the key, where there is one).
#include <gtest/gtest.h>

#include <filesystem>

#include "dlt/data/array_dataset.h"
#include "dlt/data/h5.h"
#include "dlt/data/loader.h"
#include "tests/data/fixtures.h"
#include "tests/test_util.h"

namespace dlt::data {
namespace {

using dlt::testing::expect_error;
using testing::TempDir;
using testing::write_arrays;

std::shared_ptr<ArrayDataset> open_xy(const std::string& path) {
  return std::make_shared<ArrayDataset>(path, std::vector<std::string>{"x", "y"});
}

TEST(H5, DescribesLayoutAndType) {
  TempDir tmp;
  const std::string path = write_arrays(tmp.path("a.h5"), 10, {.chunk_rows = 4, .compress = 3});
  const auto file = h5::open_file(path);
  EXPECT_EQ(h5::list_datasets(*file), (std::vector<std::string>{"x", "y"}));
  const h5::Id x = h5::open_dataset(*file, "x");
  const h5::DatasetInfo info = h5::describe(*file, x.get(), "x");
  EXPECT_EQ(info.shape, (Shape{10, 3, 5, 4}));
  EXPECT_TRUE(info.supported);
  EXPECT_EQ(info.dtype, DType::u8);
  EXPECT_EQ(info.type_name, "uint8");
  EXPECT_EQ(info.chunk, (Shape{4, 3, 5, 4}));
  EXPECT_EQ(info.gzip_level, 3);

  const std::string plain = write_arrays(tmp.path("b.h5"), 10);
  const auto pf = h5::open_file(plain);
  const auto pinfo = h5::describe(*pf, h5::open_dataset(*pf, "y").get(), "y");
  EXPECT_TRUE(pinfo.chunk.empty());
  EXPECT_EQ(pinfo.gzip_level, -1);
}

TEST(H5, WriterCreatesGroupsAndLeavesNoPartialFileOnFailure) {
  TempDir tmp;
  const std::string path = tmp.path("sub/dir/g.h5");
  {
    H5Writer w(path);
    const int64_t v[3] = {1, 2, 3};
    w.write("train/deep/v", DType::i64, {3}, v);
  }  // not committed
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(path + ".partial"));
  {
    H5Writer w(path);
    const int64_t v[3] = {1, 2, 3};
    w.write("train/deep/v", DType::i64, {3}, v);
    w.commit();
  }
  EXPECT_TRUE(h5::has_dataset(*h5::open_file(path), "train/deep/v"));
  EXPECT_FALSE(h5::has_dataset(*h5::open_file(path), "train/deep"));  // a group
  EXPECT_FALSE(h5::has_dataset(*h5::open_file(path), "nope/v"));
}

TEST(H5BadInput, MissingFile) {
  TempDir tmp;
  expect_error([&] { open_xy(tmp.path("absent.h5")); }, {tmp.path("absent.h5"), "no such file"});
}

TEST(H5BadInput, GarbageBytes) {
  TempDir tmp;
  testing::write_file(tmp.path("junk.h5"), std::string(4096, 'z'));
  expect_error([&] { open_xy(tmp.path("junk.h5")); }, {tmp.path("junk.h5"), "not a readable HDF5 file"});
}

TEST(H5BadInput, TruncatedFile) {
  TempDir tmp;
  const std::string path = write_arrays(tmp.path("cut.h5"), 100);
  testing::truncate_file(path, int64_t(std::filesystem::file_size(path) / 2));
  expect_error([&] { open_xy(path); }, {path, "truncated"});
}

TEST(H5BadInput, MissingKeyListsTheKeysThereAre) {
  TempDir tmp;
  const std::string path = write_arrays(tmp.path("a.h5"), 4);
  expect_error([&] { ArrayDataset(path, {"x", "labels"}); },
               {path, "no dataset 'labels'", "the file has: x, y"});
  expect_error([&] { ArrayDataset(path, {"train/x"}); }, {path, "no dataset 'train/x'"});
}

TEST(H5BadInput, SampleCountsThatDiffer) {
  TempDir tmp;
  const std::string path = tmp.path("a.h5");
  H5Writer w(path);
  const std::vector<uint8_t> x(10 * 4);
  const std::vector<int64_t> y(9);
  w.write("x", DType::u8, {10, 4}, x.data());
  w.write("y", DType::i64, {9}, y.data());
  w.commit();
  expect_error([&] { open_xy(path); }, {path, "'x' has 10 samples but 'y' has 9"});
}

TEST(H5BadInput, UnsupportedDtype) {
  TempDir tmp;
  testing::write_raw(tmp.path("u16.h5"), "x", H5T_NATIVE_UINT16, {4, 2});
  expect_error([&] { ArrayDataset(tmp.path("u16.h5"), {"x"}); },
               {tmp.path("u16.h5"), "'x'", "uint16", "cannot load"});
  testing::write_raw(tmp.path("i8.h5"), "x", H5T_NATIVE_SCHAR, {4});
  expect_error([&] { ArrayDataset(tmp.path("i8.h5"), {"x"}); }, {"int8", "cannot load"});
}

TEST(H5BadInput, EmptyAndScalarDatasets) {
  TempDir tmp;
  const std::string path = tmp.path("e.h5");
  {
    H5Writer w(path);
    w.write("x", DType::f32, {0, 3}, nullptr);
    w.commit();
  }
  expect_error([&] { ArrayDataset(path, {"x"}); }, {path, "'x' is empty", "[0, 3]"});
  testing::write_raw(tmp.path("s.h5"), "x", H5T_NATIVE_FLOAT, {});
  expect_error([&] { ArrayDataset(tmp.path("s.h5"), {"x"}); }, {"'x' is a scalar"});
}

TEST(H5BadInput, CorruptChunkFailsTheBatchThatReadsIt) {
  TempDir tmp;
  // 60-byte samples in chunks of 64: reads come in blocks of 273 chunks
  // (17472 samples, ~1 MiB), so the third block starts at sample 34944.
  const std::string path = write_arrays(tmp.path("c.h5"), 40000, {.chunk_rows = 64, .compress = 1});
  testing::corrupt_chunk(path, "x", 600);  // samples 38400..38463
  LoaderOptions o;
  o.batch_size = 1000;
  o.sampler.shuffle = Shuffle::none;
  Loader loader(open_xy(path), o);
  for (int b = 0; b < 34; ++b) ASSERT_TRUE(loader.next());
  expect_error([&] { loader.next(); }, {path, "'x'", "reading rows 34944..40000", "inflate"});
}

}  // namespace
}  // namespace dlt::data
