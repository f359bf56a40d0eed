// Launchers of the GPU reductions over any set of dims of a strided input
// (the geometry comes from reduce_geometry.h).
#pragma once

#include <cstdint>

#include "kernels/cuda/gpu.h"
#include "kernels/cuda/reduce_geometry.h"
#include "kernels/cuda/tensor_arg.h"

namespace dlt::gpu {

enum class ReduceKind : uint8_t {
  sum,        // integers and bool accumulate and return int64
  mean,       // sum / count
  mean_acc,   // mean, written in the accumulation type (float / double)
  deviation,  // sum((x - param)^2) / scalar: the second pass of var
  amax,       // nan wins
  amin,
  lse_max,    // amax in the accumulation type, an infinite max written as 0
  lse_sum,    // log(sum(exp(x - param))) + param: the second pass of logsumexp
  argmax,     // first index of the extreme (nan wins), optional values
  argmin,
};

struct ReduceCall {
  ReduceKind kind = ReduceKind::sum;
  TensorArg in;
  ReduceGeometry geometry;
  void* out = nullptr;          // one per output, contiguous; values of argmax/argmin (or null)
  int64_t* indices = nullptr;   // argmax/argmin
  const void* param = nullptr;  // per output, accumulation type (deviation, lse_sum)
  double scalar = 1;            // the divisor of mean / deviation
  void* workspace = nullptr;    // reduce_workspace_bytes(geometry) bytes
};

void launch_reduce(const ReduceCall& call, cudaStream_t stream);

}  // namespace dlt::gpu
