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

TEST(Sampler, ShardsAreDisjointEqualAndCoverTheEpoch) {
  for (const Shuffle shuffle : {Shuffle::none, Shuffle::full, Shuffle::chunked}) {
    const int64_t n = 100, world = 3;
    std::vector<int64_t> all;
    int64_t batches = -1;
    for (int64_t rank = 0; rank < world; ++rank) {
      Sampler s(n, 8, 10, {.shuffle = shuffle, .seed = 9, .rank = rank, .world_size = world});
      const auto part = s.epoch_order(4);
      EXPECT_EQ(int64_t(part.size()), 33);
      if (batches >= 0) {
        EXPECT_EQ(s.batches_per_epoch(), batches);
      }
      batches = s.batches_per_epoch();
      all.insert(all.end(), part.begin(), part.end());
    }
    EXPECT_EQ(batches, 4);
    EXPECT_EQ(std::set<int64_t>(all.begin(), all.end()).size(), all.size())
        << "shards overlap (" << shuffle_name(shuffle) << ")";
    // Together they are the epoch's order, less its last n % world samples.
    const auto global = Sampler(n, 8, 10, {.shuffle = shuffle, .seed = 9}).epoch_order(4);
    EXPECT_EQ(all, std::vector<int64_t>(global.begin(), global.begin() + 99));
  }
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
  expect_error([] { Sampler(3, 1, 1, {.world_size = 4}); }, {"3 samples", "4 ranks"});
  expect_error([] { Sampler(10, 1, 4, {.world_size = 4, .drop_last = true}); },
               {"batch size 4", "2 samples of each rank", "drop_last"});
  expect_error([] { parse_shuffle("random"); }, {"unknown shuffle 'random'"});
}

}  // namespace
}  // namespace dlt::data
