// Elementwise functions dlt has no op for (erf, floor, mod, ...) computed on
// the host in double precision and returned in the requested dtype on the
// inputs' device. Exact for every dtype dlt has but int64 beyond 2^53.
#pragma once

#include <functional>

#include "dlt/core/tensor.h"

namespace dlt::onnx_import {

Tensor host_unary(const Tensor& x, const std::function<double(double)>& f, DType out);
// a and b broadcast (numpy rules).
Tensor host_binary(const Tensor& a, const Tensor& b, const std::function<double(double, double)>& f,
                   DType out);

}  // namespace dlt::onnx_import
