#include "dlt/onnx/import/host_math.h"

#include "dlt/ops/ops.h"

namespace dlt::onnx_import {

namespace {
Tensor host_f64(const Tensor& t, const Shape& shape) {
  return t.to(Device::cpu()).to(DType::f64).expand(shape).contiguous();
}
}  // namespace

Tensor host_unary(const Tensor& x, const std::function<double(double)>& f, DType out) {
  const Tensor in = host_f64(x, x.shape());
  Tensor y = empty(x.shape(), DType::f64);
  const double* src = in.data_ptr<double>();
  double* dst = y.data_ptr<double>();
  for (int64_t i = 0; i < y.numel(); ++i) dst[i] = f(src[i]);
  return y.to(out).to(x.device());
}

Tensor host_binary(const Tensor& a, const Tensor& b, const std::function<double(double, double)>& f,
                   DType out) {
  const Shape shape = broadcast_shapes(a.shape(), b.shape());
  const Tensor ha = host_f64(a, shape), hb = host_f64(b, shape);
  Tensor y = empty(shape, DType::f64);
  const double *pa = ha.data_ptr<double>(), *pb = hb.data_ptr<double>();
  double* dst = y.data_ptr<double>();
  for (int64_t i = 0; i < y.numel(); ++i) dst[i] = f(pa[i], pb[i]);
  return y.to(out).to(a.device());
}

}  // namespace dlt::onnx_import
