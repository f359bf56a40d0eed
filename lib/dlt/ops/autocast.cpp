#include "dlt/ops/autocast.h"

#include <unordered_map>

#include "dlt/ops/dispatch.h"

namespace dlt {

namespace {

// The weight casts of the current outermost region on this thread.
struct CastCache {
  // weight -> (the weight, kept alive so its address is not reused; its cast)
  std::unordered_map<const void*, std::pair<Tensor, Tensor>> casts;
  AutocastCacheStats stats;
};
thread_local CastCache cache;
thread_local int depth = 0;
thread_local WeightCopies* kept_copies = nullptr;  // the outermost region's, if any

// An f32 leaf that requires grad: a parameter, cast once per region.
bool cacheable(const Tensor& t) { return t.requires_grad() && t.is_leaf() && t.dtype() == DType::f32; }

bool eligible(const Tensor& t) {
  return t.defined() && is_floating(t.dtype()) && t.dtype() != DType::f64;
}

// `weight` as `to`: cast, or with a WeightCopies, its kept copy recorded for
// autograd as the copy op that to() runs, so its gradient is the same bit for bit.
Tensor weight_cast(const Tensor& weight, DType to) {
  if (!kept_copies) {
    ++cache.stats.casts;
    return weight.to(to);
  }
  bool cast = false;
  Tensor out[] = {kept_copies->get(weight, to, &cast).detach()};  // a fresh alias takes the history
  ++(cast ? cache.stats.casts : cache.stats.kept);
  const Tensor in[] = {weight};
  if (ops::should_record(in)) ops::record(ops::OpId::copy, in, out, nullptr);
  return out[0];
}

Tensor cast(const Tensor& t, DType to) {
  if (!eligible(t) || t.dtype() == to) return t;
  if (to != DType::f32 && cacheable(t)) {
    const void* key = t.impl();
    if (const auto it = cache.casts.find(key); it != cache.casts.end() && it->second.second.dtype() == to) {
      ++cache.stats.hits;
      return it->second.second;
    }
    Tensor low = weight_cast(t, to);
    cache.casts[key] = {t, low};
    return low;
  }
  return t.to(to);
}

}  // namespace

AutocastGuard::AutocastGuard(std::optional<DType> dtype, WeightCopies* copies)
    : prev_(detail::autocast_dtype) {
  DLT_CHECK(!dtype || *dtype == DType::bf16 || *dtype == DType::f16,
            "autocast runs in bfloat16 or float16, not {}", *dtype);
  if (dtype && depth++ == 0) {
    cache = {};
    kept_copies = copies;
  }
  detail::autocast_dtype = dtype;
}

AutocastGuard::~AutocastGuard() {
  if (detail::autocast_dtype && --depth == 0) {
    cache.casts.clear();  // the weights may change next
    kept_copies = nullptr;
  }
  detail::autocast_dtype = prev_;
}

AutocastCacheStats autocast_cache_stats() { return cache.stats; }

namespace ops {

DType autocast_target(CastPolicy policy, DType low, std::span<const Tensor> in) {
  switch (policy) {
    case CastPolicy::Lower: return low;
    case CastPolicy::Fp32: return DType::f32;
    case CastPolicy::Promote: {
      std::optional<DType> widest;
      for (const Tensor& t : in)
        if (eligible(t)) widest = widest ? promote_types(*widest, t.dtype()) : t.dtype();
      return widest.value_or(low);
    }
    case CastPolicy::Keep:
    case CastPolicy::Outside: break;
  }
  throw InternalError(fmt::format("autocast_target: policy {} casts nothing", cast_policy_name(policy)));
}

template <size_t N>
std::optional<std::array<Tensor, N>> autocast(OpId op, const std::array<Tensor, N>& in) {
  if (!autocasting()) [[likely]]
    return std::nullopt;
  const CastPolicy policy = cast_policy(op);
  if (policy == CastPolicy::Keep || policy == CastPolicy::Outside) return std::nullopt;
  const DType to = autocast_target(policy, *autocast_dtype(), in);
  bool changes = false;
  for (const Tensor& t : in) changes |= eligible(t) && t.dtype() != to;
  if (!changes) return std::nullopt;
  std::array<Tensor, N> out;
  for (size_t i = 0; i < N; ++i) out[i] = cast(in[i], to);
  return out;
}

template std::optional<std::array<Tensor, 1>> autocast(OpId, const std::array<Tensor, 1>&);
template std::optional<std::array<Tensor, 2>> autocast(OpId, const std::array<Tensor, 2>&);
template std::optional<std::array<Tensor, 3>> autocast(OpId, const std::array<Tensor, 3>&);

}  // namespace ops
}  // namespace dlt
