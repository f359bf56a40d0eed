// The fused LSTM / GRU cells on the GPU: one thread per (row, hidden unit),
// grid-stride, reading the unit's gates of its row; arithmetic in compute_t<T>
// (float for f16 / bf16), the formulas of kernels/cpu/recurrent.cpp.
// Runtime names used: cudaStream_t, cudaGetLastError.
#include "kernels/cuda/loops.cuh"
#include "kernels/cuda/math.cuh"
#include "kernels/cuda/recurrent.h"
#include "kernels/cuda/types.cuh"

namespace dlt::gpu {
namespace {

template <class T> const T* data_of(const TensorArg& t) { return static_cast<const T*>(t.data); }
template <class T> T* mutable_data_of(const TensorArg& t) { return static_cast<T*>(t.data); }
template <class T> __device__ inline compute_t<T> ld(const T* p, int64_t i) {
  return convert<compute_t<T>>(p[i]);
}

#define DLT_FOR_EACH_UNIT(a)                                                              \
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < (a).batch * (a).hidden; \
       e += int64_t(gridDim.x) * blockDim.x)

template <class T>
__global__ void lstm_cell_kernel(T* h, T* c, T* ws, const T* gates, const T* c_prev, CellArgs a) {
  using C = compute_t<T>;
  const int64_t H = a.hidden;
  DLT_FOR_EACH_UNIT(a) {
    const int64_t r = e / H, j = e % H, g0 = r * 4 * H + j;
    const C i = math::sigmoid(ld(gates, g0));
    const C f = math::sigmoid(ld(gates, g0 + H));
    const C cand = math::tanh(ld(gates, g0 + 2 * H));
    const C o = math::sigmoid(ld(gates, g0 + 3 * H));
    const C cn = f * ld(c_prev, e) + i * cand;
    ws[g0] = convert<T>(i);
    ws[g0 + H] = convert<T>(f);
    ws[g0 + 2 * H] = convert<T>(cand);
    ws[g0 + 3 * H] = convert<T>(o);
    c[e] = convert<T>(cn);
    h[e] = convert<T>(o * math::tanh(cn));
  }
}

template <class T>
__global__ void lstm_cell_backward_kernel(T* dg, T* dc_prev, const T* dh, const T* dc,
                                          const T* ws, const T* c_prev, const T* c_new,
                                          CellArgs a) {
  using C = compute_t<T>;
  const int64_t H = a.hidden;
  DLT_FOR_EACH_UNIT(a) {
    const int64_t r = e / H, j = e % H, g0 = r * 4 * H + j;
    const C i = ld(ws, g0), f = ld(ws, g0 + H), cand = ld(ws, g0 + 2 * H), o = ld(ws, g0 + 3 * H);
    const C tc = math::tanh(ld(c_new, e));
    const C dhj = ld(dh, e);
    const C dct = ld(dc, e) + dhj * o * (C(1) - tc * tc);
    dg[g0] = convert<T>(dct * cand * i * (C(1) - i));
    dg[g0 + H] = convert<T>(dct * ld(c_prev, e) * f * (C(1) - f));
    dg[g0 + 2 * H] = convert<T>(dct * i * (C(1) - cand * cand));
    dg[g0 + 3 * H] = convert<T>(dhj * tc * o * (C(1) - o));
    dc_prev[e] = convert<T>(dct * f);
  }
}

template <class T>
__global__ void gru_cell_kernel(T* h, T* ws, const T* gi, const T* gh, const T* h_prev, CellArgs a) {
  using C = compute_t<T>;
  const int64_t H = a.hidden;
  DLT_FOR_EACH_UNIT(a) {
    const int64_t r = e / H, j = e % H, g0 = r * 3 * H + j, w0 = r * 4 * H + j;
    const C rg = math::sigmoid(ld(gi, g0) + ld(gh, g0));
    const C z = math::sigmoid(ld(gi, g0 + H) + ld(gh, g0 + H));
    const C hn = ld(gh, g0 + 2 * H);
    const C n = math::tanh(ld(gi, g0 + 2 * H) + rg * hn);
    ws[w0] = convert<T>(rg);
    ws[w0 + H] = convert<T>(z);
    ws[w0 + 2 * H] = convert<T>(n);
    ws[w0 + 3 * H] = convert<T>(hn);
    h[e] = convert<T>(n + z * (ld(h_prev, e) - n));
  }
}

template <class T>
__global__ void gru_cell_backward_kernel(T* dgi, T* dgh, T* dh_prev, const T* dh, const T* ws,
                                         const T* h_prev, CellArgs a) {
  using C = compute_t<T>;
  const int64_t H = a.hidden;
  DLT_FOR_EACH_UNIT(a) {
    const int64_t r = e / H, j = e % H, g0 = r * 3 * H + j, w0 = r * 4 * H + j;
    const C rg = ld(ws, w0), z = ld(ws, w0 + H), n = ld(ws, w0 + 2 * H), hn = ld(ws, w0 + 3 * H);
    const C dhj = ld(dh, e);
    const C dn = dhj * (C(1) - z) * (C(1) - n * n);
    const C dz = dhj * (ld(h_prev, e) - n) * z * (C(1) - z);
    const C dr = dn * hn * rg * (C(1) - rg);
    dgi[g0] = convert<T>(dr);
    dgi[g0 + H] = convert<T>(dz);
    dgi[g0 + 2 * H] = convert<T>(dn);
    dgh[g0] = convert<T>(dr);
    dgh[g0 + H] = convert<T>(dz);
    dgh[g0 + 2 * H] = convert<T>(dn * rg);
    dh_prev[e] = convert<T>(dhj * z);
  }
}

#undef DLT_FOR_EACH_UNIT

}  // namespace

void launch_lstm_cell(TensorArg h, TensorArg c, TensorArg workspace, TensorArg gates,
                      TensorArg c_prev, const CellArgs& a, cudaStream_t stream) {
  if (a.batch * a.hidden == 0) return;
  visit_floating_code(gates.dtype, [&]<class T>() {
    lstm_cell_kernel<T><<<blocks_for(a.batch * a.hidden), kThreads, 0, stream>>>(
        mutable_data_of<T>(h), mutable_data_of<T>(c), mutable_data_of<T>(workspace),
        data_of<T>(gates), data_of<T>(c_prev), a);
    DLT_GPU_CHECK_LAUNCH();
  });
}

void launch_lstm_cell_backward(TensorArg d_gates, TensorArg d_c_prev, TensorArg dh, TensorArg dc,
                               TensorArg workspace, TensorArg c_prev, TensorArg c,
                               const CellArgs& a, cudaStream_t stream) {
  if (a.batch * a.hidden == 0) return;
  visit_floating_code(dh.dtype, [&]<class T>() {
    lstm_cell_backward_kernel<T><<<blocks_for(a.batch * a.hidden), kThreads, 0, stream>>>(
        mutable_data_of<T>(d_gates), mutable_data_of<T>(d_c_prev), data_of<T>(dh), data_of<T>(dc),
        data_of<T>(workspace), data_of<T>(c_prev), data_of<T>(c), a);
    DLT_GPU_CHECK_LAUNCH();
  });
}

void launch_gru_cell(TensorArg h, TensorArg workspace, TensorArg input_gates,
                     TensorArg hidden_gates, TensorArg h_prev, const CellArgs& a,
                     cudaStream_t stream) {
  if (a.batch * a.hidden == 0) return;
  visit_floating_code(h_prev.dtype, [&]<class T>() {
    gru_cell_kernel<T><<<blocks_for(a.batch * a.hidden), kThreads, 0, stream>>>(
        mutable_data_of<T>(h), mutable_data_of<T>(workspace), data_of<T>(input_gates),
        data_of<T>(hidden_gates), data_of<T>(h_prev), a);
    DLT_GPU_CHECK_LAUNCH();
  });
}

void launch_gru_cell_backward(TensorArg d_input_gates, TensorArg d_hidden_gates,
                              TensorArg d_h_prev, TensorArg dh, TensorArg workspace,
                              TensorArg h_prev, const CellArgs& a, cudaStream_t stream) {
  if (a.batch * a.hidden == 0) return;
  visit_floating_code(dh.dtype, [&]<class T>() {
    gru_cell_backward_kernel<T><<<blocks_for(a.batch * a.hidden), kThreads, 0, stream>>>(
        mutable_data_of<T>(d_input_gates), mutable_data_of<T>(d_hidden_gates),
        mutable_data_of<T>(d_h_prev), data_of<T>(dh), data_of<T>(workspace), data_of<T>(h_prev),
        a);
    DLT_GPU_CHECK_LAUNCH();
  });
}

}  // namespace dlt::gpu
