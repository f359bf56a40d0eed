// The dispatch table: (op, device type) -> kernel. The op layer checks
// arguments, allocates outputs and calls run(); kernels only compute. After
// the kernel, run() hands the call to the autograd recorder (registered by
// lib/dlt/autograd) when history must be recorded.
#pragma once

#include <span>
#include <vector>

#include "dlt/core/cpu_isa.h"
#include "dlt/core/tensor.h"
#include "dlt/ops/op_list.h"

namespace dlt::ops {

// What a kernel sees: inputs (some may be undefined, e.g. an absent bias)
// and outputs already allocated with their final shape, dtype and device.
struct KernelCall {
  OpId op;
  std::span<const Tensor> in;
  std::span<Tensor> out;
  const void* attrs_ptr = nullptr;

  template <class A> const A& attrs() const { return *static_cast<const A*>(attrs_ptr); }
};

using KernelFn = void (*)(const KernelCall&);

// A CPU kernel is registered for the instruction set its file was compiled
// for; find_kernel gives the one of the running set (or of the best set
// below it that has one). Other devices ignore `isa`.
void register_kernel(OpId op, DeviceType device, KernelFn fn, CpuIsa isa);
KernelFn find_kernel(OpId op, DeviceType device);  // nullptr when missing
KernelFn find_cpu_kernel(OpId op, CpuIsa isa);     // the kernel `isa` runs

// The instruction set whose CPU kernels run, chosen at the first call
// (DLT_CPU_ISA, else the best this CPU runs); and every set this build carries.
CpuIsa cpu_kernel_isa();
std::vector<CpuIsa> compiled_cpu_isas();

// Records the backward node of a call (set by the autograd library).
using GradRecorder = void (*)(OpId op, std::span<const Tensor> in, std::span<Tensor> out,
                              const void* attrs);
void set_grad_recorder(GradRecorder recorder);
bool should_record(std::span<const Tensor> in);  // grad mode on and an input requires grad
void record(OpId op, std::span<const Tensor> in, std::span<Tensor> out, const void* attrs);

// Runs `op` on the device of its inputs (all must share one), then records
// history. `out` must be allocated.
void run(OpId op, std::span<const Tensor> in, std::span<Tensor> out, const void* attrs);

// Ops without tensor inputs (factories, fills).
inline void run_no_inputs(OpId op, std::span<Tensor> out, const void* attrs) {
  run(op, std::span<const Tensor>(), out, attrs);
}

// "matmul [8192, 768] [768, 2304]": an op and its inputs' shapes, as the
// profiler names a call.
std::string op_with_shapes(OpId op, std::span<const Tensor> in);

// The common device of the defined inputs (a user error if they differ).
Device common_device(OpId op, std::span<const Tensor> in);

}  // namespace dlt::ops

// In a kernel file: DLT_REGISTER_KERNEL(relu, cpu, relu_kernel);
#define DLT_REGISTER_KERNEL(op, device, fn)                                          \
  static const bool dlt_kernel_registered_##op##_##device = [] {                     \
    ::dlt::ops::register_kernel(::dlt::ops::OpId::op, ::dlt::DeviceType::device, fn, \
                                ::dlt::CpuIsa::DLT_KERNEL_ISA);                      \
    return true;                                                                     \
  }()
