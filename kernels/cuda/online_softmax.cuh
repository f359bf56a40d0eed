// The online max / sum-of-exp of a row, as softmax and cross_entropy keep
// it per thread and merge it across a row group: sum is the sum of
// exp(x - max) over the values seen so far.
#pragma once

#include <limits>

#include "kernels/cuda/acc_math.cuh"
#include "kernels/cuda/block_reduce.cuh"

namespace dlt::gpu {

template <class C> struct MaxSum {
  C max, sum;
};

template <class C> __device__ inline MaxSum<C> empty_max_sum() {
  return {-std::numeric_limits<C>::infinity(), C(0)};
}

template <class C> __device__ inline MaxSum<C> shfl_xor(MaxSum<C> v, int mask) {
  return {shfl_xor(v.max, mask), shfl_xor(v.sum, mask)};
}

template <class C> __device__ inline MaxSum<C> add_value(MaxSum<C> a, C v) {
  if (v > a.max) return {v, a.sum * acc_exp(a.max - v) + C(1)};
  // v <= max or nan: with max == -inf only -inf (adds 0) or nan (poisons the sum) get here.
  if (a.max != -std::numeric_limits<C>::infinity() || v != v) a.sum += acc_exp(v - a.max);
  return a;
}

struct MergeMaxSum {
  template <class C> __device__ MaxSum<C> operator()(MaxSum<C> a, MaxSum<C> b) const {
    const C m = a.max > b.max ? a.max : b.max;
    if (m == -std::numeric_limits<C>::infinity()) return {m, a.sum + b.sum};
    return {m, a.sum * acc_exp(a.max - m) + b.sum * acc_exp(b.max - m)};
  }
};

// log(sum(exp(x))) of the values merged into m.
template <class C> __device__ inline C log_sum_exp(MaxSum<C> m) { return m.max + acc_log(m.sum); }

}  // namespace dlt::gpu
