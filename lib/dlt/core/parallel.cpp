#include "dlt/core/parallel.h"

#include "dlt/core/error.h"

namespace dlt {

int num_threads() { return omp_get_max_threads(); }

void set_num_threads(int n) {
  DLT_CHECK(n >= 1, "thread count must be at least 1 (got {})", n);
  omp_set_num_threads(n);
}

}  // namespace dlt
