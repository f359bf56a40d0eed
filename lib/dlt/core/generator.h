// A random stream: a seed plus a counter offset. Each random op reserves a
// range of counters (take_offset) and derives element i from (seed, offset+i).
// Saving (seed, offset) in a checkpoint restores the stream exactly.
#pragma once

#include <cstdint>
#include <mutex>

namespace dlt {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0x5eed) : seed_(seed) {}
  uint64_t seed() const { return seed_; }
  uint64_t offset() const { return offset_; }
  void manual_seed(uint64_t seed) {
    std::lock_guard lock(mu_);
    seed_ = seed;
    offset_ = 0;
  }
  void set_state(uint64_t seed, uint64_t offset) {
    std::lock_guard lock(mu_);
    seed_ = seed;
    offset_ = offset;
  }
  // Reserves n counters; returns the first.
  uint64_t take_offset(uint64_t n) {
    std::lock_guard lock(mu_);
    const uint64_t o = offset_;
    offset_ += n;
    return o;
  }

 private:
  uint64_t seed_;
  uint64_t offset_ = 0;
  std::mutex mu_;
};

// The process-wide default stream (init, dropout) unless one is passed.
Generator& default_generator();
void manual_seed(uint64_t seed);

// Where a draw of n elements in philox_pair's layout (dlt/core/philox.h)
// sits in a stream: its seed and first counter. reserve_draw takes its
// counters from gen, or from the default generator when gen is null.
struct DrawPosition {
  uint64_t seed, offset;
};
DrawPosition reserve_draw(Generator* gen, uint64_t n);

}  // namespace dlt
