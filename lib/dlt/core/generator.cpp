#include "dlt/core/generator.h"

#include "dlt/core/philox.h"

namespace dlt {

Generator& default_generator() {
  static Generator g;
  return g;
}

void manual_seed(uint64_t seed) { default_generator().manual_seed(seed); }

DrawPosition reserve_draw(Generator* gen, uint64_t n) {
  Generator& g = gen ? *gen : default_generator();
  return {g.seed(), g.take_offset(philox_counters(n))};
}

}  // namespace dlt
