// LSTM and GRU cells: the pointwise half of one time step (the GEMMs around
// them are linear ops), forward and fused backward, one pass over each batch
// row. Gate order is torch's: LSTM i, f, g, o; GRU r, z, n. The activations
// are the vectorised ones of vec_math.h, computed in compute_t<T>; the forward
// keeps the activated gates (the workspace) so the backward needs no exp.
#include "dlt/ops/dispatch.h"
#include "kernels/cpu/isa_namespace.h"
#include "kernels/cpu/loops.h"
#include "kernels/cpu/rows.h"
#include "kernels/cpu/vec_math.h"

namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE {
namespace {

using ops::KernelCall;

// ---- LSTM ---------------------------------------------------------------------------

// gates (B, 4H) pre-activation, c_prev (B, H) -> h, c (B, H), workspace (B, 4H)
// holding sigmoid(i), sigmoid(f), tanh(g), sigmoid(o).
template <class T> void lstm_cell_typed(const KernelCall& k) {
  using C = compute_t<T>;
  const int64_t B = k.in[1].size(0), H = k.in[1].size(1);
  const T* gates = k.in[0].data_ptr<T>();
  const T* c_prev = k.in[1].data_ptr<T>();
  T* h_out = k.out[0].data_ptr<T>();
  T* c_out = k.out[1].data_ptr<T>();
  T* ws = k.out[2].data_ptr<T>();
  parallel_for(0, B, rows_grain(4 * H), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* g = gates + r * 4 * H;
      const T* cp = c_prev + r * H;
      T* w = ws + r * 4 * H;
      T* h = h_out + r * H;
      T* c = c_out + r * H;
#pragma omp simd
      for (int64_t j = 0; j < H; ++j) {
        const C i = fsigmoid(C(g[j]));
        const C f = fsigmoid(C(g[H + j]));
        const C cand = ftanh(C(g[2 * H + j]));
        const C o = fsigmoid(C(g[3 * H + j]));
        const C cn = f * C(cp[j]) + i * cand;
        w[j] = T(i);
        w[H + j] = T(f);
        w[2 * H + j] = T(cand);
        w[3 * H + j] = T(o);
        c[j] = T(cn);
        h[j] = T(o * ftanh(cn));
      }
    }
  });
}

void lstm_cell_kernel(const KernelCall& k) {
  visit_floating(k.in[0].dtype(), "lstm_cell", [&]<class T>() { lstm_cell_typed<T>(k); });
}
DLT_REGISTER_KERNEL(lstm_cell, cpu, lstm_cell_kernel);

// dh, dc (B, H), workspace (B, 4H), c_prev, c (B, H) -> d gates (B, 4H) and
// d c_prev (B, H). With tc = tanh(c): dc_total = dc + dh * o * (1 - tc^2).
template <class T> void lstm_cell_backward_typed(const KernelCall& k) {
  using C = compute_t<T>;
  const int64_t B = k.in[0].size(0), H = k.in[0].size(1);
  const T* dh = k.in[0].data_ptr<T>();
  const T* dc = k.in[1].data_ptr<T>();
  const T* ws = k.in[2].data_ptr<T>();
  const T* c_prev = k.in[3].data_ptr<T>();
  const T* c_new = k.in[4].data_ptr<T>();
  T* dgates = k.out[0].data_ptr<T>();
  T* dc_prev = k.out[1].data_ptr<T>();
  parallel_for(0, B, rows_grain(4 * H), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t row = r * H;
      const T* w = ws + 4 * row;
      T* dg = dgates + 4 * row;
#pragma omp simd
      for (int64_t j = 0; j < H; ++j) {
        const C i = C(w[j]), f = C(w[H + j]), cand = C(w[2 * H + j]), o = C(w[3 * H + j]);
        const C tc = ftanh(C(c_new[row + j]));
        const C dhj = C(dh[row + j]);
        const C dct = C(dc[row + j]) + dhj * o * (C(1) - tc * tc);
        dg[j] = T(dct * cand * i * (C(1) - i));
        dg[H + j] = T(dct * C(c_prev[row + j]) * f * (C(1) - f));
        dg[2 * H + j] = T(dct * i * (C(1) - cand * cand));
        dg[3 * H + j] = T(dhj * tc * o * (C(1) - o));
        dc_prev[row + j] = T(dct * f);
      }
    }
  });
}

void lstm_cell_backward_kernel(const KernelCall& k) {
  visit_floating(k.in[0].dtype(), "lstm_cell_backward",
                 [&]<class T>() { lstm_cell_backward_typed<T>(k); });
}
DLT_REGISTER_KERNEL(lstm_cell_backward, cpu, lstm_cell_backward_kernel);

// ---- GRU ----------------------------------------------------------------------------

// input gates x W_ih^T + b_ih and hidden gates h W_hh^T + b_hh (B, 3H),
// h_prev (B, H) -> h (B, H), workspace (B, 4H) holding r, z, n and hn (the
// hidden gates' n part, which r scales):
//   r = sigmoid(i_r + h_r), z = sigmoid(i_z + h_z), n = tanh(i_n + r * hn),
//   h = (1 - z) * n + z * h_prev.
template <class T> void gru_cell_typed(const KernelCall& k) {
  using C = compute_t<T>;
  const int64_t B = k.in[2].size(0), H = k.in[2].size(1);
  const T* gi = k.in[0].data_ptr<T>();
  const T* gh = k.in[1].data_ptr<T>();
  const T* h_prev = k.in[2].data_ptr<T>();
  T* h_out = k.out[0].data_ptr<T>();
  T* ws = k.out[1].data_ptr<T>();
  parallel_for(0, B, rows_grain(3 * H), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* a = gi + r * 3 * H;
      const T* b = gh + r * 3 * H;
      const T* hp = h_prev + r * H;
      T* w = ws + r * 4 * H;
      T* h = h_out + r * H;
#pragma omp simd
      for (int64_t j = 0; j < H; ++j) {
        const C rg = fsigmoid(C(a[j]) + C(b[j]));
        const C z = fsigmoid(C(a[H + j]) + C(b[H + j]));
        const C hn = C(b[2 * H + j]);
        const C n = ftanh(C(a[2 * H + j]) + rg * hn);
        w[j] = T(rg);
        w[H + j] = T(z);
        w[2 * H + j] = T(n);
        w[3 * H + j] = T(hn);
        h[j] = T(n + z * (C(hp[j]) - n));
      }
    }
  });
}

void gru_cell_kernel(const KernelCall& k) {
  visit_floating(k.in[0].dtype(), "gru_cell", [&]<class T>() { gru_cell_typed<T>(k); });
}
DLT_REGISTER_KERNEL(gru_cell, cpu, gru_cell_kernel);

// dh (B, H), workspace (B, 4H), h_prev (B, H) -> d input gates, d hidden gates
// (B, 3H) and d h_prev (B, H). The two gate gradients share r and z; for n
// the hidden one is scaled by r.
template <class T> void gru_cell_backward_typed(const KernelCall& k) {
  using C = compute_t<T>;
  const int64_t B = k.in[0].size(0), H = k.in[0].size(1);
  const T* dh = k.in[0].data_ptr<T>();
  const T* ws = k.in[1].data_ptr<T>();
  const T* h_prev = k.in[2].data_ptr<T>();
  T* dgi = k.out[0].data_ptr<T>();
  T* dgh = k.out[1].data_ptr<T>();
  T* dh_prev = k.out[2].data_ptr<T>();
  parallel_for(0, B, rows_grain(4 * H), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t row = r * H;
      const T* w = ws + 4 * row;
      T* di = dgi + 3 * row;
      T* dhg = dgh + 3 * row;
#pragma omp simd
      for (int64_t j = 0; j < H; ++j) {
        const C rg = C(w[j]), z = C(w[H + j]), n = C(w[2 * H + j]), hn = C(w[3 * H + j]);
        const C hp = C(h_prev[row + j]);
        const C dhj = C(dh[row + j]);
        const C dn = dhj * (C(1) - z) * (C(1) - n * n);
        const C dz = dhj * (hp - n) * z * (C(1) - z);
        const C dr = dn * hn * rg * (C(1) - rg);
        di[j] = T(dr);
        di[H + j] = T(dz);
        di[2 * H + j] = T(dn);
        dhg[j] = T(dr);
        dhg[H + j] = T(dz);
        dhg[2 * H + j] = T(dn * rg);
        dh_prev[row + j] = T(dhj * z);
      }
    }
  });
}

void gru_cell_backward_kernel(const KernelCall& k) {
  visit_floating(k.in[0].dtype(), "gru_cell_backward",
                 [&]<class T>() { gru_cell_backward_typed<T>(k); });
}
DLT_REGISTER_KERNEL(gru_cell_backward, cpu, gru_cell_backward_kernel);

}  // namespace
}  // namespace dlt::cpu::inline DLT_KERNEL_NAMESPACE
