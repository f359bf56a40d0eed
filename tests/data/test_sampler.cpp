// Epoch orders: permutations from (seed, epoch), chunk-local shuffles, and
// shards that are disjoint, equally long and cover the epoch.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <set>

#include "dlt/data/sampler.h"
#include "tests/test_util.h"

namespace dlt::data {
namespace {

using dlt::testing::expect_error;

std::vector<int64_t> sorted(std::vector<int64_t> v) {
  std::sort(v.begin(), v.end());
  return v;
}

std::vector<int64_t> iota(int64_t n, int64_t from = 0) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), from);
  return v;
}

Sampler make(int64_t n, Shuffle shuffle, uint64_t seed = 1, int64_t chunk = 1) {
  return Sampler(n, chunk, 10, {.shuffle = shuffle, .seed = seed});
}

TEST(Sampler, NoShuffleIsTheIdentity) {
  EXPECT_EQ(make(23, Shuffle::none).epoch_order(3), iota(23));
}

TEST(Sampler, FullShuffleIsAPermutationFixedBySeedAndEpoch) {
  const Sampler s = make(1000, Shuffle::full);
  const auto e0 = s.epoch_order(0), e1 = s.epoch_order(1);
  EXPECT_EQ(sorted(e0), iota(1000));
  EXPECT_EQ(sorted(e1), iota(1000));
  EXPECT_NE(e0, iota(1000));
  EXPECT_NE(e0, e1);
  EXPECT_EQ(e0, make(1000, Shuffle::full).epoch_order(0));  // a pure function
  EXPECT_NE(e0, make(1000, Shuffle::full, 2).epoch_order(0));
}

TEST(Sampler, FullShuffleIsUniformEnough) {
  // Where sample 0 lands over many epochs: every slot of 8 about equally often.
  const Sampler s = make(8, Shuffle::full);
  std::vector<int> hits(8);
  for (int e = 0; e < 8000; ++e) {
    const auto o = s.epoch_order(e);
    ++hits[size_t(std::find(o.begin(), o.end(), 0) - o.begin())];
  }
  for (const int h : hits) EXPECT_NEAR(h, 1000, 150);
}

TEST(Sampler, ChunkedShuffleMixesWithinWindowsOfChunks) {
  // 10 chunks of 7 (the last has 5), windows of 3 chunks.
  const int64_t n = 68, chunk = 7, window = 3, chunks = 10;
  Sampler s(n, chunk, 4, {.shuffle = Shuffle::chunked, .seed = 5, .window_chunks = window});
  const auto order = s.epoch_order(0);
  EXPECT_EQ(sorted(order), iota(n));
  EXPECT_NE(order, s.epoch_order(1));
  // Where each chunk's samples landed.
  std::vector<size_t> first(chunks, order.size()), last(chunks, 0);
  for (size_t pos = 0; pos < order.size(); ++pos) {
    const size_t c = size_t(order[pos] / chunk);
    first[c] = std::min(first[c], pos);
    last[c] = std::max(last[c], pos);
  }
  // Taken in order of appearance, each `window` chunks fill one stretch of
  // the order exactly: samples never leave their window.
  std::vector<size_t> by_first(chunks);
  std::iota(by_first.begin(), by_first.end(), 0);
  std::sort(by_first.begin(), by_first.end(), [&](size_t a, size_t b) { return first[a] < first[b]; });
  size_t start = 0;
  for (size_t w = 0; w < chunks; w += window) {
    size_t end = start;
    for (size_t k = w; k < std::min<size_t>(chunks, w + window); ++k) {
      const size_t c = by_first[k];
      EXPECT_GE(first[c], start) << "chunk " << c;
      end += size_t(std::min(chunk, n - int64_t(c) * chunk));
    }
    for (size_t k = w; k < std::min<size_t>(chunks, w + window); ++k)
      EXPECT_LT(last[by_first[k]], end) << "chunk " << by_first[k] << " leaves its window";
    start = end;
  }
}

TEST(Sampler, RanksSliceEachGlobalBatchWhateverTheWorldSize) {
  for (const Shuffle shuffle : {Shuffle::none, Shuffle::full, Shuffle::chunked}) {
    const int64_t n = 100, B = 12;
    const Sampler one(n, 8, B, {.shuffle = shuffle, .seed = 9});
    const auto global = one.epoch_order(4);
    ASSERT_EQ(one.batches_per_epoch(), 9);
    for (const int64_t world : {1, 2, 3, 5}) {
      for (int64_t b = 0; b < one.batches_per_epoch(); ++b) {
        std::vector<int64_t> joined;
        int64_t smallest = B, largest = 0;
        for (int64_t rank = 0; rank < world; ++rank) {
          const Sampler s(n, 8, B, {.shuffle = shuffle, .seed = 9, .rank = rank, .world_size = world});
          EXPECT_EQ(s.batches_per_epoch(), one.batches_per_epoch());
          const auto order = s.epoch_order(4);
          const Sampler::Slice slice = s.batch_slice(b);
          EXPECT_EQ(slice.global, b == 8 ? 4 : B);
          joined.insert(joined.end(), order.begin() + slice.begin, order.begin() + slice.end);
          smallest = std::min(smallest, slice.end - slice.begin);
          largest = std::max(largest, slice.end - slice.begin);
        }
        // The ranks' slices, in rank order, are the global batch; sizes differ by at most one.
        EXPECT_EQ(joined, std::vector<int64_t>(global.begin() + b * B, global.begin() + std::min(n, (b + 1) * B)))
            << shuffle_name(shuffle) << ", world " << world << ", batch " << b;
        EXPECT_LE(largest - smallest, 1);
      }
    }
  }
}

TEST(Sampler, AShortLastBatchLeavesSomeRanksEmptyHanded) {
  // 1001 samples, batches of 10: the last global batch has one sample.
  const Sampler r0(1001, 1, 10, {.rank = 0, .world_size = 2}), r1(1001, 1, 10, {.rank = 1, .world_size = 2});
  EXPECT_EQ(r0.batches_per_epoch(), 101);
  EXPECT_EQ(r1.batches_per_epoch(), 101);
  const auto a = r0.batch_slice(100), b = r1.batch_slice(100);
  EXPECT_EQ(a.end - a.begin, 0);
  EXPECT_EQ(b.end - b.begin, 1);
  EXPECT_EQ(a.global, 1);
  const Sampler d0(1001, 1, 10, {.rank = 0, .world_size = 2, .drop_last = true});
  EXPECT_EQ(d0.batches_per_epoch(), 100);
  EXPECT_EQ(d0.epoch_order(0).size(), 1000u);
}

TEST(Sampler, DropLastKeepsWholeBatchesOnly) {
  Sampler keep(33, 1, 8, {});
  EXPECT_EQ(keep.batches_per_epoch(), 5);
  EXPECT_EQ(keep.epoch_order(0).size(), 33u);
  Sampler drop(33, 1, 8, {.drop_last = true});
  EXPECT_EQ(drop.batches_per_epoch(), 4);
  EXPECT_EQ(drop.epoch_order(0).size(), 32u);
}

TEST(Sampler, BadOptionsAreErrors) {
  expect_error([] { Sampler(10, 1, 0, {}); }, {"batch size must be positive"});
  expect_error([] { Sampler(10, 1, 4, {.rank = 2, .world_size = 2}); }, {"rank 2", "world of 2"});
  expect_error([] { Sampler(10, 1, 11, {.world_size = 2, .drop_last = true}); },
               {"batch size 11", "10 samples of the dataset", "drop_last"});
  expect_error([] { parse_shuffle("random"); }, {"unknown shuffle 'random'"});
}

}  // namespace
}  // namespace dlt::data
