// matmul and linear: torch's shape rules, dtype checks, output allocation.
#include "dlt/ops/autocast.h"
#include "dlt/ops/dispatch.h"
#include "dlt/ops/ops.h"

namespace dlt {

using ops::OpId;

namespace {

// GEMM back ends (oneDNN, cuBLAS) read a matrix row- or column-major with a
// leading dimension: one of its last two strides is 1 and the other spans at
// least a row (column). Transposed views qualify as they are; anything else
// (every other column, an expanded row) is copied first.
bool gemm_readable(const Tensor& t) {
  if (t.dim() == 1) return t.stride(0) == 1 || t.size(0) <= 1;
  const int64_t rows = t.size(-2), cols = t.size(-1), rs = t.stride(-2), cs = t.stride(-1);
  const bool row_major = (cs == 1 || cols == 1) && (rs >= cols || rows == 1);
  const bool col_major = (rs == 1 || rows == 1) && (cs >= rows || cols == 1);
  return row_major || col_major;
}

Tensor gemm_operand(const Tensor& t) { return gemm_readable(t) ? t : t.contiguous(); }

void check_gemm_dtypes(const char* op, const Tensor& a, const Tensor& b, const char* a_name,
                       const char* b_name) {
  DLT_CHECK(a.dtype() == b.dtype(), "{}: expected {} and {} to have the same dtype, got {} and {}",
            op, a_name, b_name, a.dtype(), b.dtype());
  DLT_CHECK(a.dtype() != DType::boolean, "{}: bool tensors are not supported", op);
}

Shape drop_last(const Shape& s, size_t n) {
  return s.size() > n ? Shape(s.begin(), s.end() - int64_t(n)) : Shape();
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  DLT_CHECK(a.defined() && b.defined(), "matmul: undefined input tensor");
  if (const auto c = ops::autocast<2>(OpId::matmul, {a, b})) return matmul((*c)[0], (*c)[1]);
  DLT_CHECK(a.dim() >= 1 && b.dim() >= 1,
            "matmul: both arguments need at least 1 dimension, got shapes {} and {}",
            shape_str(a.shape()), shape_str(b.shape()));
  check_gemm_dtypes("matmul", a, b, "the left operand", "the right operand");
  const int64_t k_a = a.size(-1), k_b = b.dim() == 1 ? b.size(0) : b.size(-2);
  DLT_CHECK(k_a == k_b, "matmul: shapes {} and {} cannot be multiplied ({} != {})",
            shape_str(a.shape()), shape_str(b.shape()), k_a, k_b);

  // Batch dims (all but the last two) broadcast; a vector operand has none.
  const Shape a_batch = drop_last(a.shape(), 2), b_batch = drop_last(b.shape(), 2);
  const size_t nb = std::max(a_batch.size(), b_batch.size());
  Shape shape(nb);
  for (size_t i = 0; i < nb; ++i) {
    const int64_t da = i + a_batch.size() < nb ? 1 : a_batch[i + a_batch.size() - nb];
    const int64_t db = i + b_batch.size() < nb ? 1 : b_batch[i + b_batch.size() - nb];
    DLT_CHECK(da == db || da == 1 || db == 1,
              "matmul: batch dimensions of shapes {} and {} cannot be broadcast ({} vs {})",
              shape_str(a.shape()), shape_str(b.shape()), da, db);
    shape[i] = da == 1 ? db : da;
  }
  if (a.dim() >= 2) shape.push_back(a.size(-2));  // M
  if (b.dim() >= 2) shape.push_back(b.size(-1));  // N

  Tensor ins[] = {gemm_operand(a), gemm_operand(b)};
  Tensor outs[] = {empty(shape, TensorOptions(a.dtype()).device(a.device()))};
  ops::run(OpId::matmul, ins, outs, nullptr);
  return outs[0];
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  DLT_CHECK(x.defined() && weight.defined(), "linear: undefined input or weight");
  if (const auto c = ops::autocast<3>(OpId::linear, {x, weight, bias})) return linear((*c)[0], (*c)[1], (*c)[2]);
  DLT_CHECK(x.dim() >= 1, "linear: the input must have at least 1 dimension, got shape {}",
            shape_str(x.shape()));
  DLT_CHECK(weight.dim() == 2, "linear: weight must be 2-D (out_features, in_features), got shape {}",
            shape_str(weight.shape()));
  check_gemm_dtypes("linear", x, weight, "input", "weight");
  DLT_CHECK(x.size(-1) == weight.size(1),
            "linear: input of shape {} and weight of shape {} cannot be multiplied (input features "
            "{} != in_features {})",
            shape_str(x.shape()), shape_str(weight.shape()), x.size(-1), weight.size(1));
  if (bias.defined()) {
    check_gemm_dtypes("linear", x, bias, "input", "bias");
    DLT_CHECK(bias.dim() == 1 && bias.size(0) == weight.size(0),
              "linear: bias of shape {} does not match weight of shape {} (expected [{}])",
              shape_str(bias.shape()), shape_str(weight.shape()), weight.size(0));
  }
  Shape shape = drop_last(x.shape(), 1);
  shape.push_back(weight.size(0));
  Tensor ins[] = {gemm_operand(x), gemm_operand(weight),
                  bias.defined() ? bias.contiguous() : Tensor()};
  Tensor outs[] = {empty(shape, TensorOptions(x.dtype()).device(x.device()))};
  ops::run(OpId::linear, ins, outs, nullptr);
  return outs[0];
}

}  // namespace dlt
