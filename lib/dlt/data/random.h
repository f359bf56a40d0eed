// Random numbers for the data pipeline, from the counter-based Philox
// generator: every draw is a pure function of (seed, stream, epoch, i), so
// shuffles and augmentations do not depend on the worker count, the batch
// a sample lands in, or where a resumed run starts.
#pragma once

#include <cstdint>
#include <span>

#include "dlt/core/philox.h"

namespace dlt::data {

// Independent streams under one seed, one per use.
enum class Stream : uint8_t {
  permutation = 1, chunk_order, chunk_window, augment, token_offset,
  image_split, image_order,  // dlt data import images: the val draw, the stored order
};

// The 4 words of draw i: key = seed, counter = (i, stream and epoch).
inline Philox4x32::Block random_words(uint64_t seed, Stream stream, int64_t epoch, uint64_t i) {
  return Philox4x32::generate(seed, i, uint64_t(stream) << 56 | (uint64_t(epoch) & ((1ull << 56) - 1)));
}

// A uniform integer in [0, n) from 64 random bits: Lemire's multiply-shift,
// whose bias (below n / 2^64) no shuffle of fewer than 2^40 items can show.
inline uint64_t uniform_below(uint32_t hi, uint32_t lo, uint64_t n) {
  const uint64_t bits = uint64_t(hi) << 32 | lo;
  return uint64_t((static_cast<unsigned __int128>(bits) * n) >> 64);
}

// The same from one 32-bit word (bias below n / 2^32), for small n.
inline uint32_t uniform_below(uint32_t word, uint32_t n) {
  return uint32_t((uint64_t(word) * n) >> 32);
}

// Fisher-Yates over `items`; swap k takes its index from draw counter + k.
template <class T>
void shuffle(std::span<T> items, uint64_t seed, Stream stream, int64_t epoch, uint64_t counter = 0) {
  for (uint64_t n = items.size(); n > 1; --n) {
    const auto w = random_words(seed, stream, epoch, counter + n);
    const uint64_t j = uniform_below(w[0], w[1], n);  // swap slot n-1 with one of [0, n)
    std::swap(items[n - 1], items[j]);
  }
}

}  // namespace dlt::data
