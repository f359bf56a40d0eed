#include "dlt/core/math_mode.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace dlt {
namespace {

std::atomic<bool>& tf32_flag() {
  static std::atomic<bool> flag = [] {
    const char* env = std::getenv("DLT_ALLOW_TF32");
    return env != nullptr && std::strcmp(env, "1") == 0;
  }();
  return flag;
}

std::string (*g_gemm_path)(DType) = nullptr;

}  // namespace

void set_allow_tf32(bool allow) { tf32_flag().store(allow); }
bool allow_tf32() { return tf32_flag().load(); }

std::string cpu_gemm_path(DType dtype) { return g_gemm_path ? g_gemm_path(dtype) : "unknown (no CPU kernels)"; }
void register_cpu_gemm_path(std::string (*describe)(DType)) { g_gemm_path = describe; }

}  // namespace dlt
