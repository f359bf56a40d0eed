// Which threads work on one row of a row-wise kernel (softmax, losses,
// layer norm): a warp per row for short rows, eight rows to a block; a
// whole block per row for long ones.
#pragma once

#include <cstdint>

#include "kernels/cuda/block_reduce.cuh"

namespace dlt::gpu {

inline constexpr int kRowsBlockThreads = 256;
inline constexpr int64_t kWarpRowMax = 1024;  // rows up to this length get one warp

struct RowLaunch {
  bool warp_per_row;
  unsigned blocks, threads;
};

inline RowLaunch row_launch(int64_t rows, int64_t len) {
  if (len <= kWarpRowMax) {
    const int64_t per_block = kRowsBlockThreads / kWarpSize;
    return {true, unsigned(ceil_div(rows, per_block)), unsigned(kRowsBlockThreads)};
  }
  return {false, unsigned(rows), unsigned(len >= 16384 ? 1024 : kRowsBlockThreads)};
}

// This thread's row, lane within the row group and the group's width.
template <bool kWarp> struct RowThread {
  int64_t row;
  int lane, width;
  __device__ RowThread() {
    if constexpr (kWarp) {
      row = int64_t(blockIdx.x) * (blockDim.x / kWarpSize) + threadIdx.x / kWarpSize;
      lane = int(threadIdx.x) % kWarpSize;
      width = kWarpSize;
    } else {
      row = blockIdx.x;
      lane = int(threadIdx.x);
      width = int(blockDim.x);
    }
  }
};

}  // namespace dlt::gpu
