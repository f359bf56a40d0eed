#include "dlt/ops/dispatch.h"
#include "dlt/core/trace.h"
#include "dlt/ops/flops.h"

#include <array>
#include <cstdlib>

#include "dlt/core/grad_mode.h"

namespace dlt::ops {

namespace {

using Table = std::array<std::array<KernelFn, kNumDeviceTypes>, kNumOps>;
Table& table() {
  static Table t{};
  return t;
}

// CPU kernels by instruction set.
using CpuTable = std::array<std::array<KernelFn, kNumCpuIsas>, kNumOps>;
CpuTable& cpu_table() {
  static CpuTable t{};
  return t;
}

GradRecorder& recorder() {
  static GradRecorder r = nullptr;
  return r;
}

constexpr OpInfo kOpInfos[] = {
#define X(name, kind, attrs, cast) {#name, OpKind::kind, CastPolicy::cast},
    DLT_OPS(X)
#undef X
};

}  // namespace

const OpInfo& op_info(OpId id) { return kOpInfos[static_cast<int>(id)]; }

const char* cast_policy_name(CastPolicy p) {
  switch (p) {
    case CastPolicy::Lower: return "lower";
    case CastPolicy::Fp32: return "fp32";
    case CastPolicy::Promote: return "promote";
    case CastPolicy::Keep: return "keep";
    case CastPolicy::Outside: return "outside";
  }
  return "?";
}

bool needs_kernel(OpId id) {
  const OpKind k = op_info(id).kind;
  return k == OpKind::Compute || k == OpKind::NoGrad || k == OpKind::Backward;
}
bool needs_formula(OpId id) {
  const OpKind k = op_info(id).kind;
  return k == OpKind::Compute || k == OpKind::View;
}
bool is_differentiable(OpId id) {
  const OpKind k = op_info(id).kind;
  return k == OpKind::Compute || k == OpKind::View || k == OpKind::Composite;
}

void register_kernel(OpId op, DeviceType device, KernelFn fn, CpuIsa isa) {
  if (device == DeviceType::cpu)
    cpu_table()[static_cast<int>(op)][static_cast<int>(isa)] = fn;
  else
    table()[static_cast<int>(op)][static_cast<int>(device)] = fn;
}

std::vector<CpuIsa> compiled_cpu_isas() {
  std::vector<CpuIsa> isas;
  for (int i = 0; i < kNumCpuIsas; ++i)
    for (const auto& row : cpu_table())
      if (row[i]) {
        isas.push_back(static_cast<CpuIsa>(i));
        break;
      }
  return isas;
}

CpuIsa cpu_kernel_isa() {
  static const CpuIsa isa = [] {
    const char* env = std::getenv("DLT_CPU_ISA");
    return choose_cpu_isa(env ? env : "", compiled_cpu_isas(), cpu_runs);
  }();
  return isa;
}

KernelFn find_cpu_kernel(OpId op, CpuIsa isa) {
  // Files compiled once (oneDNN's wrappers) register baseline kernels only:
  // a set falls back to the best set below it.
  const auto& row = cpu_table()[static_cast<int>(op)];
  if (isa == CpuIsa::native) return row[static_cast<int>(isa)];
  for (int i = static_cast<int>(isa); i >= 0; --i)
    if (row[i]) return row[i];
  return nullptr;
}

KernelFn find_kernel(OpId op, DeviceType device) {
  if (device == DeviceType::cpu) return find_cpu_kernel(op, cpu_kernel_isa());
  return table()[static_cast<int>(op)][static_cast<int>(device)];
}

void set_grad_recorder(GradRecorder r) { recorder() = r; }

bool should_record(std::span<const Tensor> in) {
  if (!GradMode::enabled()) return false;
  for (const Tensor& t : in)
    if (t.requires_grad()) return true;
  return false;
}

void record(OpId op, std::span<const Tensor> in, std::span<Tensor> out, const void* attrs) {
  DLT_ASSERT(recorder() != nullptr, "no autograd recorder registered");
  recorder()(op, in, out, attrs);
}

std::string op_with_shapes(OpId op, std::span<const Tensor> in) {
  std::string label = op_name(op);
  for (const Tensor& t : in) {
    label += ' ';
    label += t.defined() ? shape_str(t.shape()) : std::string("-");
  }
  return label;
}

Device common_device(OpId op, std::span<const Tensor> in) {
  const Tensor* first = nullptr;
  for (const Tensor& t : in) {
    if (!t.defined()) continue;
    if (!first) {
      first = &t;
      continue;
    }
    DLT_CHECK(t.device() == first->device(),
              "{}: expected all tensors on one device, found {} and {}", op_name(op),
              first->device(), t.device());
  }
  return first ? first->device() : Device::cpu();
}

namespace {

// The device whose kernel runs the call. A copy between devices runs on the
// accelerator's copy kernel, which moves data in either direction.
Device kernel_device(OpId op, std::span<const Tensor> in, std::span<Tensor> out) {
  if (in.empty()) return out[0].device();
  if (op == OpId::copy && !out[0].device().is_cpu()) return out[0].device();
  return common_device(op, in);
}

}  // namespace

void run(OpId op, std::span<const Tensor> in, std::span<Tensor> out, const void* attrs) {
  const Device device = kernel_device(op, in, out);
  const KernelFn fn = find_kernel(op, device.type);
  DLT_CHECK(fn != nullptr, "op '{}' has no kernel for device {} in this build", op_name(op),
            device_type_name(device.type));
  if (trace::recording()) [[unlikely]] {
    const trace::OpScope scope(op_name(op), device, [&] { return op_with_shapes(op, in); });
    fn(KernelCall{op, in, out, attrs});
  } else {
    fn(KernelCall{op, in, out, attrs});
  }
  if (flop_count_enabled()) add_flops(op_flops(op, in, out, attrs));
  // NoGrad ops (comparisons, argmax) give results without history.
  if (needs_formula(op) && should_record(in)) record(op, in, out, attrs);
}

}  // namespace dlt::ops
