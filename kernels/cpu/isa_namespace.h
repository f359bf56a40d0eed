// A portable build compiles each vectorised kernel file once per instruction
// set (cmake/cpu_dispatch.cmake). What such a file, or a header it includes,
// defines with external linkage goes in a namespace of that set:
//
//   namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE { ... }   // isa_avx2, ...
//
// Otherwise the copies of an inline function or template would share one
// name, the linker would keep one of them for every set, and an AVX-512 body
// could run on an AVX2 CPU (or a baseline body inside the AVX-512 kernels).
#pragma once

#include "dlt/core/cpu_isa.h"

#define DLT_KERNEL_NAMESPACE_JOIN(a, b) a##b
#define DLT_KERNEL_NAMESPACE_OF(isa) DLT_KERNEL_NAMESPACE_JOIN(isa_, isa)
#define DLT_KERNEL_NAMESPACE DLT_KERNEL_NAMESPACE_OF(DLT_KERNEL_ISA)
