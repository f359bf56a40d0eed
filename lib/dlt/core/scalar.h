// A number passed to an op next to tensors (x * 2, fill_(0.5)). Like a Python
// number in PyTorch it does not raise the dtype of a tensor operand beyond its
// category: float32 * 2.5 stays float32, int64 * 2.5 becomes float32.
#pragma once

#include <cstdint>
#include <type_traits>

#include "dlt/core/dtype.h"

namespace dlt {

class Scalar {
 public:
  Scalar(double v) : d_(v), i_(int64_t(v)), kind_(Kind::floating) {}  // NOLINT
  Scalar(float v) : Scalar(double(v)) {}                              // NOLINT
  Scalar(bool v) : d_(v), i_(v), kind_(Kind::boolean) {}              // NOLINT
  template <class I, std::enable_if_t<std::is_integral_v<I> && !std::is_same_v<I, bool>, int> = 0>
  Scalar(I v) : d_(double(v)), i_(int64_t(v)), kind_(Kind::integral) {}  // NOLINT

  double to_double() const { return d_; }
  int64_t to_int() const { return i_; }
  bool is_floating() const { return kind_ == Kind::floating; }
  bool is_integral() const { return kind_ == Kind::integral; }
  bool is_bool() const { return kind_ == Kind::boolean; }
  // The dtype a 0-dim tensor holding this number gets on its own.
  DType natural_dtype() const {
    return kind_ == Kind::floating ? DType::f32 : kind_ == Kind::integral ? DType::i64 : DType::boolean;
  }
  template <class T> T to() const {
    if constexpr (std::is_floating_point_v<T> || std::is_same_v<T, Half> ||
                  std::is_same_v<T, BFloat16>)
      return T(d_);
    else if constexpr (std::is_same_v<T, bool>)
      return d_ != 0;
    else
      return kind_ == Kind::floating ? T(d_) : T(i_);
  }

 private:
  enum class Kind : uint8_t { floating, integral, boolean };
  double d_;
  int64_t i_;
  Kind kind_;
};

}  // namespace dlt
