// Work splitting for kernels that process whole rows (normalisation,
// indexing, concatenation): how many rows make a task worth a thread.
#pragma once

#include <algorithm>

#include "kernels/cpu/loops.h"
#include "kernels/cpu/isa_namespace.h"

namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE {

// Rows per task so that one task touches about kElementwiseGrain elements.
inline int64_t rows_grain(int64_t row_len) {
  return std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(1, row_len));
}

}  // namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE
