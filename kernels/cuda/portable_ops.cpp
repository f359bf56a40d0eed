// The host half of the portable GEMM and convolution: plans the strided,
// broadcast-batched problem from tensors and, in the HIP build, registers
// the matmul, linear, conv2d and conv_transpose2d kernels.
#include "kernels/cuda/portable_ops.h"

#include "dlt/ops/dispatch.h"
#include "kernels/cuda/conv_bias.h"
#include "kernels/cuda/portable_conv.h"
#include "kernels/cuda/portable_gemm.h"
#include "kernels/cuda/tensor_arg_host.h"

namespace dlt::gpu {
namespace {

// An operand as (batch..., rows, cols) with element strides.
struct Operand {
  Shape shape, strides;
  void* data;
};

// Empty tensors may have no storage: their kernels read nothing.
void* data_or_null(const Tensor& t) {
  return t.defined() && t.numel() > 0 ? t.raw_data() : nullptr;
}

Operand operand(const Tensor& t) { return {t.shape(), t.strides(), data_or_null(t)}; }
// matmul's left vector (K) is a row (1, K), its right vector (K) a column (K, 1).
Operand row_of(const Tensor& v) { return {{1, v.size(0)}, {0, v.stride(0)}, data_or_null(v)}; }
Operand column_of(const Tensor& v) { return {{v.size(0), 1}, {v.stride(0), 0}, data_or_null(v)}; }
// linear's weight (out, in) read as (in, out) without a copy.
Operand transposed(const Tensor& w) {
  return {{w.size(1), w.size(0)}, {w.stride(1), w.stride(0)}, data_or_null(w)};
}

Shape batch_part(const Shape& s) { return Shape(s.begin(), s.end() - 2); }

// C = A @ B (+ bias) where `out` holds C with the shape batch + (M, N) minus
// the dims a vector operand lacks: out_has_rows / out_has_cols say whether
// out has the M and N dims.
void run_gemm(const Operand& a, const Operand& b, const Tensor& bias, Tensor& out,
              bool out_has_rows, bool out_has_cols) {
  if (out.numel() == 0) return;
  const Shape a_batch = batch_part(a.shape), b_batch = batch_part(b.shape);
  const Shape batch = broadcast_shapes(a_batch, b_batch);
  const Shape a_bs = broadcast_strides(a_batch, batch_part(a.strides), batch);
  const Shape b_bs = broadcast_strides(b_batch, batch_part(b.strides), batch);
  const int64_t nb = int64_t(batch.size());
  const int64_t c_row_stride = out_has_rows ? out.stride(nb) : 0;
  const int64_t c_col_stride = out_has_cols ? out.stride(-1) : 0;

  portable::GemmProblem p;
  p.dtype = dtype_code(out.dtype());
  p.m = a.shape.end()[-2];
  p.k = a.shape.end()[-1];
  p.n = b.shape.end()[-1];
  p.a = {a.data, a.strides.end()[-2], a.strides.end()[-1], {}};
  p.b = {b.data, b.strides.end()[-2], b.strides.end()[-1], {}};
  p.c = {out.raw_data(), c_row_stride, c_col_stride, {}};
  p.bias = data_or_null(bias);
  // Size-1 batch dims carry nothing: drop them.
  for (int64_t d = 0; d < nb; ++d) {
    if (batch[size_t(d)] == 1) continue;
    DLT_CHECK(p.batch_ndim < kMaxDims, "matmul: more than {} batch dims", kMaxDims);
    const int i = p.batch_ndim++;
    p.batch_shape[i] = batch[size_t(d)];
    p.a.batch_strides[i] = a_bs[size_t(d)];
    p.b.batch_strides[i] = b_bs[size_t(d)];
    p.c.batch_strides[i] = out.stride(d);
  }
  // B shared by the innermost batch dim, and A's and C's rows running on
  // evenly across it: those batches are more rows of one GEMM (bigger tiles).
  while (p.batch_ndim > 0) {
    const int i = p.batch_ndim - 1;
    if (p.b.batch_strides[i] != 0 || p.a.batch_strides[i] != p.m * p.a.row_stride ||
        p.c.batch_strides[i] != p.m * p.c.row_stride)
      break;
    p.m *= p.batch_shape[i];
    --p.batch_ndim;
  }
  portable::launch_portable_gemm(p, stream_for(out));
}

portable::ConvShape conv_shape(const Shape& x, const Shape& weight, const Shape& y,
                     const ops::Conv2dAttrs& a) {
  const bool batched = x.size() == 4;
  const size_t c = batched ? 1 : 0;
  return {.B = batched ? x[0] : 1, .Cin = x[c], .H = x[c + 1], .W = x[c + 2],
          .Cout = weight[0], .kH = weight[2], .kW = weight[3],
          .Ho = y[c + 1], .Wo = y[c + 2], .groups = a.groups,
          .stride = {a.stride[0], a.stride[1]}, .padding = {a.padding[0], a.padding[1]},
          .dilation = {a.dilation[0], a.dilation[1]}};
}

void check_contiguous_output(const Tensor& t, const char* op) {
  DLT_CHECK(!t.defined() || t.is_contiguous(),
            "{}: the portable GPU kernel writes contiguous outputs, got shape {} strides {}", op,
            shape_str(t.shape()), shape_str(t.strides()));
}

}  // namespace

void portable_matmul(const Tensor& a, const Tensor& b, Tensor& out) {
  run_gemm(a.dim() == 1 ? row_of(a) : operand(a), b.dim() == 1 ? column_of(b) : operand(b),
           Tensor(), out, a.dim() > 1, b.dim() > 1);
}

void portable_linear(const Tensor& x, const Tensor& weight, const Tensor& bias, Tensor& out) {
  run_gemm(x.dim() == 1 ? row_of(x) : operand(x), transposed(weight),
           bias.defined() ? bias.contiguous() : Tensor(), out, x.dim() > 1, true);
}

void portable_conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
                     const ops::Conv2dAttrs& attrs, Tensor& y) {
  check_contiguous_output(y, "conv2d");
  if (y.numel() == 0) return;
  const Tensor xc = x.contiguous(), wc = weight.contiguous();
  const Tensor bc = bias.defined() ? bias.contiguous() : Tensor();
  portable::launch_portable_conv2d(conv_shape(x.shape(), weight.shape(), y.shape(), attrs),
                                   dtype_code(y.dtype()), data_or_null(xc), data_or_null(wc),
                                   data_or_null(bc), y.raw_data(), stream_for(y));
}

void portable_conv2d_backward_input(const Tensor& dy, const Tensor& weight,
                                    const ops::Conv2dAttrs& attrs, Tensor& dx) {
  check_contiguous_output(dx, "conv2d_backward_input");
  if (dx.numel() == 0) return;
  const Tensor dyc = dy.contiguous(), wc = weight.contiguous();
  portable::launch_portable_conv2d_backward_input(
      conv_shape(dx.shape(), weight.shape(), dy.shape(), attrs), dtype_code(dx.dtype()),
      data_or_null(dyc), data_or_null(wc), dx.raw_data(), stream_for(dx));
}

void portable_conv2d_backward_weight(const Tensor& dy, const Tensor& x,
                                     const ops::Conv2dAttrs& attrs, Tensor& dweight,
                                     Tensor& dbias) {
  check_contiguous_output(dweight, "conv2d_backward_weight");
  check_contiguous_output(dbias, "conv2d_backward_weight");
  if (dweight.numel() == 0) return;  // no output channels: no bias either
  const Tensor dyc = dy.contiguous(), xc = x.contiguous();
  portable::launch_portable_conv2d_backward_weight(
      conv_shape(x.shape(), dweight.shape(), dy.shape(), attrs), dtype_code(dweight.dtype()),
      data_or_null(dyc), data_or_null(xc), dweight.raw_data(), data_or_null(dbias),
      stream_for(dweight));
}

#if defined(DLT_WITH_HIP)
namespace {

using ops::Conv2dAttrs;
using ops::KernelCall;

// ins: a, b; out: a @ b
void matmul_kernel(const KernelCall& c) { portable_matmul(c.in[0], c.in[1], c.out[0]); }
// ins: x, weight, bias (or undefined); out: y
void linear_kernel(const KernelCall& c) { portable_linear(c.in[0], c.in[1], c.in[2], c.out[0]); }
// ins: x, weight, bias (or undefined); out: y
void conv2d_kernel(const KernelCall& c) {
  portable_conv2d(c.in[0], c.in[1], c.in[2], c.attrs<Conv2dAttrs>(), c.out[0]);
}
// ins: dy, weight; out: dx
void conv2d_backward_input_kernel(const KernelCall& c) {
  portable_conv2d_backward_input(c.in[0], c.in[1], c.attrs<Conv2dAttrs>(), c.out[0]);
}
// ins: x, weight, bias (or undefined); out: y, conv2d's input gradient plus the bias
void conv_transpose2d_kernel(const KernelCall& c) {
  const Tensor& bias = c.in[2];
  Tensor& y = c.out[0];
  portable_conv2d_backward_input(c.in[0], c.in[1], c.attrs<ops::ConvTranspose2dAttrs>().conv(), y);
  if (!bias.defined() || y.numel() == 0) return;
  const int64_t B = y.dim() == 4 ? y.size(0) : 1, C = bias.size(0);
  const Tensor bc = bias.contiguous();
  launch_add_channel_bias(y.raw_data(), bc.raw_data(), dtype_code(y.dtype()), B, C,
                          y.numel() / (B * C), stream_for(y));
}
// ins: dy, x; out: dweight and, when asked for, dbias
void conv2d_backward_weight_kernel(const KernelCall& c) {
  Tensor no_bias;
  portable_conv2d_backward_weight(c.in[0], c.in[1], c.attrs<Conv2dAttrs>(), c.out[0],
                                  c.out.size() > 1 ? c.out[1] : no_bias);
}

DLT_REGISTER_GPU_KERNEL(matmul, matmul_kernel);
DLT_REGISTER_GPU_KERNEL(linear, linear_kernel);
DLT_REGISTER_GPU_KERNEL(conv2d, conv2d_kernel);
DLT_REGISTER_GPU_KERNEL(conv2d_backward_input, conv2d_backward_input_kernel);
DLT_REGISTER_GPU_KERNEL(conv_transpose2d, conv_transpose2d_kernel);
DLT_REGISTER_GPU_KERNEL(conv2d_backward_weight, conv2d_backward_weight_kernel);

}  // namespace
#endif

}  // namespace dlt::gpu
