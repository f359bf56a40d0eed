// The parallel loader: values, order independence from the worker count,
// resuming from a cursor, early shutdown and errors raised in workers.
#include <gtest/gtest.h>

#include <set>

#include "dlt/data/array_dataset.h"
#include "dlt/data/loader.h"
#include "tests/data/fixtures.h"
#include "tests/test_util.h"

namespace dlt::data {
namespace {

using dlt::testing::expect_error;
using dlt::testing::to_vector;
using testing::pixel;
using testing::TempDir;
using testing::write_arrays;

std::shared_ptr<const Dataset> open_xy(const std::string& path) {
  return std::make_shared<ArrayDataset>(path, std::vector<std::string>{"x", "y"});
}

std::vector<Batch> drain(Loader& loader) {
  std::vector<Batch> out;
  while (auto b = loader.next()) out.push_back(std::move(*b));
  return out;
}

// Bitwise equality of two batch streams.
void expect_same_batches(const std::vector<Batch>& a, const std::vector<Batch>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].cursor, b[i].cursor) << "batch " << i;
    EXPECT_EQ(a[i].indices, b[i].indices) << "batch " << i;
    ASSERT_EQ(a[i].fields.size(), b[i].fields.size());
    for (size_t f = 0; f < a[i].fields.size(); ++f) {
      EXPECT_EQ(a[i].fields[f].shape(), b[i].fields[f].shape());
      EXPECT_EQ(to_vector<double>(a[i].fields[f]), to_vector<double>(b[i].fields[f]))
          << "batch " << i << " field " << f;
    }
  }
}

LoaderOptions augmenting(int workers) {
  LoaderOptions o;
  o.batch_size = 8;
  o.workers = workers;
  o.epochs = 2;
  o.sampler.seed = 7;
  o.transform.mean = {0.5f, 0.4f, 0.3f};
  o.transform.std = {0.2f, 0.25f, 0.3f};
  o.transform.crop_padding = 1;
  o.transform.hflip = true;
  return o;
}

TEST(ArrayDataset, DiscoversShapesAndDtypes) {
  TempDir tmp;
  const auto ds = open_xy(write_arrays(tmp.path("a.h5"), 10));
  EXPECT_EQ(ds->size(), 10);
  ASSERT_EQ(ds->fields().size(), 2u);
  EXPECT_EQ(ds->fields()[0].dtype, DType::u8);
  EXPECT_EQ(ds->fields()[0].shape, (Shape{3, 5, 4}));
  EXPECT_EQ(ds->fields()[1].dtype, DType::i64);
  EXPECT_EQ(ds->fields()[1].shape, Shape{});
  EXPECT_EQ(ds->describe(), tmp.path("a.h5") + " [x, y]");
}

TEST(Loader, SequentialBatchesHoldTheStoredValues) {
  TempDir tmp;
  LoaderOptions o;
  o.batch_size = 7;
  o.sampler.shuffle = Shuffle::none;
  Loader loader(open_xy(write_arrays(tmp.path("a.h5"), 50)), o);
  EXPECT_EQ(loader.batches_per_epoch(), 8);  // 7 * 7 + 1
  const auto batches = drain(loader);
  ASSERT_EQ(batches.size(), 8u);
  int64_t s = 0;
  for (const Batch& b : batches) {
    const int64_t n = b.fields[0].size(0);
    EXPECT_EQ(n, &b == &batches.back() ? 1 : 7);
    EXPECT_EQ(b.fields[0].shape(), (Shape{n, 3, 5, 4}));
    EXPECT_EQ(b.fields[0].dtype(), DType::u8);
    const auto x = to_vector<int>(b.fields[0]);
    const auto y = to_vector<int64_t>(b.fields[1]);
    for (int64_t i = 0; i < n; ++i, ++s) {
      EXPECT_EQ(y[size_t(i)], s);
      for (int64_t p = 0; p < 60; ++p) ASSERT_EQ(x[size_t(i * 60 + p)], pixel(s, p));
    }
  }
  EXPECT_EQ(s, 50);
  EXPECT_EQ(loader.cursor(), (Cursor{1, 0}));
}

TEST(Loader, ConvertsAndNormalisesInputs) {
  TempDir tmp;
  LoaderOptions o;
  o.batch_size = 4;
  o.sampler.shuffle = Shuffle::full;
  o.transform.mean = {0.5f};
  o.transform.std = {0.25f};
  Loader loader(open_xy(write_arrays(tmp.path("a.h5"), 9)), o);
  EXPECT_EQ(loader.output_fields()[0].dtype, DType::f32);
  const auto batch = loader.next();
  ASSERT_TRUE(batch);
  EXPECT_EQ(batch->fields[0].dtype(), DType::f32);
  const auto x = to_vector<float>(batch->fields[0]);
  const auto y = to_vector<int64_t>(batch->fields[1]);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(y[i], batch->indices[i]);  // labels travel with their samples
    for (int64_t p = 0; p < 60; ++p)
      ASSERT_NEAR(x[i * 60 + size_t(p)], (pixel(y[i], p) / 255.0 - 0.5) / 0.25, 1e-5);
  }
}

TEST(Loader, SameBatchesWhateverTheWorkerCount) {
  TempDir tmp;
  const auto ds = open_xy(write_arrays(tmp.path("a.h5"), 45));
  Loader one(ds, augmenting(1)), three(ds, augmenting(3));
  const auto a = drain(one), b = drain(three);
  EXPECT_EQ(a.size(), 12u);  // 2 epochs of ceil(45 / 8)
  expect_same_batches(a, b);
  EXPECT_NE(a[0].indices, a[6].indices);  // each epoch has its own order
}

TEST(Loader, ResumesFromASavedCursor) {
  TempDir tmp;
  const auto ds = open_xy(write_arrays(tmp.path("a.h5"), 45));
  Loader full(ds, augmenting(2));
  const auto all = drain(full);

  Loader first(ds, augmenting(2));
  for (int i = 0; i < 9; ++i) first.next();
  const Cursor saved = first.cursor();
  EXPECT_EQ(saved, (Cursor{1, 3}));

  Loader resumed(ds, augmenting(3), saved);
  const auto rest = drain(resumed);
  expect_same_batches(rest, std::vector<Batch>(all.begin() + 9, all.end()));
}

TEST(Loader, ChunkedCompressedFileGivesTheSameBatchesAsContiguous) {
  TempDir tmp;
  const auto plain = open_xy(write_arrays(tmp.path("plain.h5"), 45));
  const auto packed = open_xy(write_arrays(tmp.path("packed.h5"), 45, {.chunk_rows = 4, .compress = 6}));
  Loader a(plain, augmenting(2)), b(packed, augmenting(2));
  expect_same_batches(drain(a), drain(b));
}

TEST(Loader, RanksSeeDisjointSlicesOfEachGlobalBatch) {
  TempDir tmp;
  const auto ds = open_xy(write_arrays(tmp.path("a.h5"), 100));
  std::set<int64_t> seen;
  for (int64_t rank = 0; rank < 3; ++rank) {
    LoaderOptions o = augmenting(2);
    o.epochs = 1;
    o.sampler.rank = rank;
    o.sampler.world_size = 3;
    Loader loader(ds, o);
    const auto batches = drain(loader);
    EXPECT_EQ(batches.size(), 13u);  // 100 samples in global batches of 8, sliced 2 or 3 per rank
    for (const Batch& b : batches) {
      EXPECT_EQ(b.global_size, b.cursor.batch == 12 ? 4 : 8);
      EXPECT_EQ(b.fields.at(0).size(0), int64_t(b.indices.size()));
      for (const int64_t i : b.indices) EXPECT_TRUE(seen.insert(i).second) << "sample " << i << " twice";
    }
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST(Loader, StopsCleanlyWhenTheConsumerStopsEarly) {
  TempDir tmp;
  const auto ds = open_xy(write_arrays(tmp.path("a.h5"), 200));
  LoaderOptions o;
  o.batch_size = 2;
  o.workers = 4;
  o.prefetch = 3;
  o.epochs = 1000;
  {
    Loader loader(ds, o);
    ASSERT_TRUE(loader.next());
  }  // destroyed with workers blocked on a full queue: must not hang
  { Loader untouched(ds, o); }
  SUCCEED();
}

// A dataset whose reads fail with a plain std::exception at one sample.
class FailingDataset final : public Dataset {
 public:
  explicit FailingDataset(int64_t bad) : bad_(bad) {}
  int64_t size() const override { return 20; }
  const std::vector<Field>& fields() const override { return fields_; }
  std::string describe() const override { return "failing.h5 [v]"; }
  int64_t chunk_size() const override { return 1; }
  int64_t bytes() const override { return 20 * 4; }
  int64_t cache_bytes() const override { return 1 << 20; }
  void read(std::span<const int64_t> indices, int64_t, std::span<std::byte* const> out) const override {
    auto* v = reinterpret_cast<int32_t*>(out[0]);
    for (const int64_t i : indices) {
      if (i == bad_) throw std::runtime_error("disk on fire");
      *v++ = int32_t(i);
    }
  }

 private:
  int64_t bad_;
  std::vector<Field> fields_{{"v", DType::i32, {}}};
};

TEST(Loader, WorkerFailuresReachTheConsumerAsDltErrors) {
  LoaderOptions o;
  o.batch_size = 4;
  o.workers = 3;
  o.sampler.shuffle = Shuffle::none;
  Loader loader(std::make_shared<FailingDataset>(9), o);
  ASSERT_TRUE(loader.next());  // samples 0-3
  ASSERT_TRUE(loader.next());  // 4-7
  expect_error([&] { loader.next(); }, {"failing.h5 [v]", "batch 2", "disk on fire"});
  expect_error([&] { loader.next(); }, {"disk on fire"});  // the cursor stays on it
  EXPECT_EQ(loader.cursor(), (Cursor{0, 2}));
}

TEST(Loader, BatchLargerThanTheDatasetWithDropLastIsAnError) {
  TempDir tmp;
  const auto ds = open_xy(write_arrays(tmp.path("a.h5"), 10));
  LoaderOptions o;
  o.batch_size = 16;
  o.sampler.drop_last = true;
  expect_error([&] { Loader(ds, o); }, {tmp.path("a.h5"), "[x, y]", "batch size 16", "10 samples",
                                         "drop_last"});
  o.sampler.drop_last = false;
  Loader fine(ds, o);
  EXPECT_EQ(fine.batches_per_epoch(), 1);
}

TEST(Loader, FullShuffleNeedsTheDataInTheCache) {
  TempDir tmp;
  const std::string path = write_arrays(tmp.path("a.h5"), 100);
  const auto small = std::make_shared<ArrayDataset>(path, std::vector<std::string>{"x", "y"}, 1000);
  LoaderOptions o;
  expect_error([&] { Loader(small, o); }, {path, "full shuffle", "chunked"});
  o.sampler.shuffle = Shuffle::none;
  Loader streaming(small, o);  // a sequential pass streams through a small cache
  EXPECT_EQ(drain(streaming).size(), 1u);
}

TEST(Loader, BadOptionsAreErrors) {
  TempDir tmp;
  const auto ds = open_xy(write_arrays(tmp.path("a.h5"), 10));
  LoaderOptions o;
  o.workers = 0;
  expect_error([&] { Loader(ds, o); }, {"at least one worker"});
  o = {};
  expect_error([&] { Loader(ds, o, {0, 5}); }, {"cursor", "batch 5"});
  o.transform.mean = {0.1f, 0.2f};
  o.transform.std = {1.0f, 1.0f};
  expect_error([&] { Loader(ds, o); }, {"2 mean/std values", "[3, 5, 4]", "3 channel"});
}

}  // namespace
}  // namespace dlt::data
