// exp / log / sqrt of the accumulation types (float and double) for device
// code, so templated kernels call one name for both.
#pragma once

#include "kernels/cuda/gpu.h"

namespace dlt::gpu {

__device__ inline float acc_exp(float v) { return expf(v); }
__device__ inline double acc_exp(double v) { return exp(v); }
__device__ inline float acc_log(float v) { return logf(v); }
__device__ inline double acc_log(double v) { return log(v); }
__device__ inline float acc_sqrt(float v) { return sqrtf(v); }
__device__ inline double acc_sqrt(double v) { return sqrt(v); }

}  // namespace dlt::gpu
