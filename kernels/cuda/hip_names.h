// CUDA runtime names used by kernel sources, mapped to HIP (DLT_HIP builds).
#pragma once

#define cudaError_t hipError_t
#define cudaSuccess hipSuccess
#define cudaGetErrorString hipGetErrorString
#define cudaGetLastError hipGetLastError
#define cudaStream_t hipStream_t
