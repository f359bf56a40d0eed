// lstm_cell and gru_cell: argument checks, output allocation and the wrappers
// of their fused backward kernels.
#include "dlt/ops/recurrent.h"

#include "dlt/ops/autocast.h"
#include "dlt/ops/dispatch.h"
#include "dlt/ops/ops.h"

namespace dlt {

using ops::OpId;

namespace {

TensorOptions like(const Tensor& t) { return TensorOptions(t.dtype()).device(t.device()); }

// Every tensor of a cell call: defined, one floating dtype.
void check_dtypes(const char* op, std::initializer_list<std::pair<const Tensor*, const char*>> ts) {
  const Tensor& first = *ts.begin()->first;
  for (const auto& [t, name] : ts) {
    DLT_CHECK(t->defined(), "{}: undefined {}", op, name);
    DLT_CHECK(is_floating(t->dtype()), "{} expects floating point tensors, got {} {}", op, name,
              t->dtype());
    DLT_CHECK(t->dtype() == first.dtype(), "{} expects tensors of one dtype, got {} {} and {} {}",
              op, ts.begin()->second, first.dtype(), name, t->dtype());
  }
}

}  // namespace

LstmCellOutput lstm_cell(const Tensor& gates, const Tensor& c_prev) {
  DLT_CHECK(gates.defined() && c_prev.defined(), "lstm_cell: undefined input tensor");
  if (const auto c = ops::autocast<2>(OpId::lstm_cell, {gates, c_prev}))
    return lstm_cell((*c)[0], (*c)[1]);
  check_dtypes("lstm_cell", {{&gates, "gates"}, {&c_prev, "c_prev"}});
  DLT_CHECK(c_prev.dim() == 2 && gates.dim() == 2 && gates.size(0) == c_prev.size(0) &&
                gates.size(1) == 4 * c_prev.size(1),
            "lstm_cell: expected gates (B, 4H) and c_prev (B, H), got gates {} and c_prev {}",
            shape_str(gates.shape()), shape_str(c_prev.shape()));
  const int64_t B = c_prev.size(0), H = c_prev.size(1);
  Tensor ins[] = {gates.contiguous(), c_prev.contiguous()};
  Tensor outs[] = {empty({B, H}, like(c_prev)), empty({B, H}, like(c_prev)),
                   empty({B, 4 * H}, like(c_prev))};
  ops::run(OpId::lstm_cell, ins, outs, nullptr);
  return {outs[0], outs[1], outs[2]};
}

GruCellOutput gru_cell(const Tensor& input_gates, const Tensor& hidden_gates, const Tensor& h_prev) {
  DLT_CHECK(input_gates.defined() && hidden_gates.defined() && h_prev.defined(),
            "gru_cell: undefined input tensor");
  if (const auto c = ops::autocast<3>(OpId::gru_cell, {input_gates, hidden_gates, h_prev}))
    return gru_cell((*c)[0], (*c)[1], (*c)[2]);
  check_dtypes("gru_cell",
               {{&input_gates, "input_gates"}, {&hidden_gates, "hidden_gates"}, {&h_prev, "h_prev"}});
  DLT_CHECK(h_prev.dim() == 2 && input_gates.dim() == 2 &&
                input_gates.shape() == hidden_gates.shape() &&
                input_gates.size(0) == h_prev.size(0) && input_gates.size(1) == 3 * h_prev.size(1),
            "gru_cell: expected input_gates and hidden_gates (B, 3H) and h_prev (B, H), got "
            "input_gates {}, hidden_gates {} and h_prev {}",
            shape_str(input_gates.shape()), shape_str(hidden_gates.shape()),
            shape_str(h_prev.shape()));
  const int64_t B = h_prev.size(0), H = h_prev.size(1);
  Tensor ins[] = {input_gates.contiguous(), hidden_gates.contiguous(), h_prev.contiguous()};
  Tensor outs[] = {empty({B, H}, like(h_prev)), empty({B, 4 * H}, like(h_prev))};
  ops::run(OpId::gru_cell, ins, outs, nullptr);
  return {outs[0], outs[1]};
}

namespace ops {

LstmCellGrads lstm_cell_backward(const Tensor& dh, const Tensor& dc, const Tensor& workspace,
                                 const Tensor& c_prev, const Tensor& c) {
  const DType dt = c.dtype();
  Tensor ins[] = {dh.to(dt).contiguous(), dc.to(dt).contiguous(), workspace.contiguous(),
                  c_prev.contiguous(), c.contiguous()};
  Tensor outs[] = {empty(workspace.shape(), like(c)), empty(c.shape(), like(c))};
  run(OpId::lstm_cell_backward, ins, outs, nullptr);
  return {outs[0], outs[1]};
}

GruCellGrads gru_cell_backward(const Tensor& dh, const Tensor& workspace, const Tensor& h_prev) {
  const int64_t B = h_prev.size(0), H = h_prev.size(1);
  Tensor ins[] = {dh.to(h_prev.dtype()).contiguous(), workspace.contiguous(), h_prev.contiguous()};
  Tensor outs[] = {empty({B, 3 * H}, like(h_prev)), empty({B, 3 * H}, like(h_prev)),
                   empty({B, H}, like(h_prev))};
  run(OpId::gru_cell_backward, ins, outs, nullptr);
  return {outs[0], outs[1], outs[2]};
}

}  // namespace ops
}  // namespace dlt
