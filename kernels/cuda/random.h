// Factories and random numbers: fill (any strides), range, uniform, normal,
// randint (contiguous outputs) and dropout. Random numbers follow
// lib/dlt/core/philox.h's layout: element i uses words 2*(i%2), 2*(i%2)+1 of
// the Philox block at counter offset + i/2, so cuda and cpu draw the same
// numbers for the same (seed, offset).
#pragma once

#include <cstdint>

#include "kernels/cuda/gpu.h"
#include "kernels/cuda/tensor_arg.h"

namespace dlt::gpu {

void launch_fill(TensorArg out, double value, cudaStream_t stream);

// out[i] = start + i * step; linspace fills the second half from `end` back
// so both endpoints are exact.
void launch_range(TensorArg out, double start, double step, double end, bool linspace,
                  cudaStream_t stream);

// Which draw: uniform [a, b), normal (mean a, std b), randint [a, b).
enum class RandomKind { uniform, normal, randint };
void launch_random(RandomKind kind, TensorArg out, double a, double b, uint64_t seed,
                   uint64_t offset, cudaStream_t stream);

// x (contiguous) -> y = x * mask / (1 - p), mask (bool): element i is kept
// when the uniform double of its Philox words is below 1 - p.
void launch_dropout(TensorArg y, TensorArg mask, TensorArg x, double p, uint64_t seed,
                    uint64_t offset, cudaStream_t stream);

}  // namespace dlt::gpu
