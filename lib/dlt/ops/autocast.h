// Autocast (torch.autocast): inside an AutocastGuard(bf16 or f16), each op
// casts its floating inputs as its op-list row says (CastPolicy) before it
// checks them: GEMMs and convolutions run in the low dtype, losses, softmax,
// normalisation, exp/log/pow and sums in f32, mixed inputs in the widest.
// f64 inputs are never cast (as torch). The casts are ordinary differentiable
// copies, so the tensors saved for backward are low precision and gradients
// reach f32 parameters in f32.
//
// A weight (an f32 leaf that requires grad) is cast once per autocast region
// however often it is used (a tied embedding and head: one copy); the cache
// is dropped when the outermost guard ends, before the weights change. A
// region given a WeightCopies (weight_copies.h) takes each weight's copy from
// it instead, cast only when the weight changed since the copy was made or
// written: training keeps them from step to step, written by the optimizer.
// Backward passes run with autocast off: each backward kernel sees the dtypes
// its forward saved.
#pragma once

#include <array>
#include <optional>
#include <span>

#include "dlt/core/tensor.h"
#include "dlt/ops/op_list.h"
#include "dlt/ops/weight_copies.h"

namespace dlt {

namespace detail {
inline thread_local std::optional<DType> autocast_dtype;
}

// The low dtype of the autocast region this thread is in, if any.
inline std::optional<DType> autocast_dtype() { return detail::autocast_dtype; }
inline bool autocasting() { return detail::autocast_dtype.has_value(); }

// RAII: autocast to `dtype` (bf16 or f16; nullopt turns it off) while it
// lives. `copies`, for an outermost region: where its weight casts are kept
// (it must outlive the region).
class AutocastGuard {
 public:
  explicit AutocastGuard(std::optional<DType> dtype, WeightCopies* copies = nullptr);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  std::optional<DType> prev_;
};

// How many weight casts the cache made and reused in this thread's current
// (or last) region: tests check a weight is cast once. `kept`: weights whose
// current copy came from the region's WeightCopies without a cast.
struct AutocastCacheStats {
  int64_t casts = 0, hits = 0, kept = 0;
};
AutocastCacheStats autocast_cache_stats();

namespace ops {

// The inputs of `op` as its policy casts them under the current autocast
// dtype; nullopt when nothing changes (autocast off, or already so). An op's
// front end calls it first and, when it returns casts, calls itself again on
// them:
//   if (const auto c = autocast(OpId::linear, {x, weight, bias})) return linear((*c)[0], (*c)[1], (*c)[2]);
template <size_t N>
std::optional<std::array<Tensor, N>> autocast(OpId op, const std::array<Tensor, N>& in);

// The dtype each floating input of `op` runs in, given the autocast dtype
// (the policy as a function; tests derive the expected casts from it).
DType autocast_target(CastPolicy policy, DType low, std::span<const Tensor> in);

}  // namespace ops
}  // namespace dlt
