// What LSTM and GRU share (torch.nn.LSTM / torch.nn.GRU with batch_first):
// options, torch's parameter names and initialisation, the stack of layers and
// directions, dropout between layers, and variable-length batches. The
// recurrence of one direction of one layer is the subclass's: its cell.
//
// Shapes: B batch, T time steps, I input features, H hidden size, D directions
// (2 when bidirectional), G gates (LSTM 4, GRU 3), L layers. Sample shapes
// exclude B: the input is [T, I], the output [T, D*H] (or [D*H] for
// `return: last`).
//
// Variable lengths: forward(x, lengths) with lengths (B) int64 in [1, T].
// Steps past a sequence's length output zeros and leave its state alone; the
// reverse direction starts at each sequence's last valid step. These are
// torch's pack_padded_sequence semantics. Internally the batch is ordered by
// length (longest first), so step t runs on the first active(t) rows only.
#pragma once

#include <vector>

#include "dlt/nn/layers/layer.h"

namespace dlt::nn {

struct RecurrentOptions {
  int64_t hidden_size = 0;  // required
  int64_t layers = 1;       // torch's num_layers
  bool bidirectional = false;
  double dropout = 0;       // on the output of every layer but the last, in training
  bool bias = true;
  // sequence: the last layer's hidden states (B, T, D*H), zeros past each length;
  // last: the last layer's final hidden state of each direction (B, D*H), for a
  // classifier (torch: cat(h_n[-2], h_n[-1])).
  enum class Return { sequence, last } returns = Return::sequence;
};

struct RecurrentOutput {
  Tensor output;  // (B, T, D*H)
  Tensor h_n;     // (L*D, B, H): each sequence's state after its last valid step
  Tensor c_n;     // (L*D, B, H), LSTM only
};

// The order in which a padded batch runs: rows sorted by length (longest
// first) and how many of them are still running at each step.
class StepSchedule {
 public:
  // lengths: undefined (every row runs all T steps) or (B) integers in [1, T].
  StepSchedule(const Tensor& lengths, int64_t batch, int64_t steps, const std::string& who);
  int64_t steps() const { return int64_t(active_.size()); }
  int64_t active(int64_t t) const { return active_[size_t(t)]; }  // rows 0..active(t)-1 run step t
  bool sorted() const { return order_.defined(); }  // false: rows keep their order
  const Tensor& order() const { return order_; }      // (B) int64: sorted row -> batch row
  const Tensor& inverse() const { return inverse_; }  // (B) int64: batch row -> sorted row

 private:
  std::vector<int64_t> active_;
  Tensor order_, inverse_;
};

// The lengths (B) int64 of a padding mask (B, T), bool or integers, true at
// the valid steps, which must come first in each row (right padding).
Tensor lengths_from_mask(const Tensor& mask);

// One direction of one layer: its parameters, torch's (G*H, I), (G*H, H), (G*H).
struct DirectionParams {
  Tensor w_ih, w_hh, b_ih, b_hh;  // biases undefined without bias
};

// What a direction's recurrence returns: out (B, T, H) and its final states (B, H).
struct DirectionOutput {
  Tensor out, h_n, c_n;
};

class Recurrent : public Layer {
 public:
  // x (B, T, I) -> what options.returns asks for: (B, T, D*H) or (B, D*H).
  Tensor forward(const Tensor& x) override;
  Tensor forward(const Tensor& x, const Tensor& lengths);
  // Everything, as torch's module returns it. lengths, h0 and c0 (L*D, B, H)
  // are optional; c0 only for an LSTM.
  RecurrentOutput forward_with_state(const Tensor& x, const Tensor& lengths = Tensor(),
                                     const Tensor& h0 = Tensor(), const Tensor& c0 = Tensor());
  std::string describe() const override;

  int64_t directions() const { return options.bidirectional ? 2 : 1; }
  const DirectionParams& params(int64_t layer, int64_t direction) const {
    return params_[size_t(layer * directions() + direction)];
  }

  const RecurrentOptions options;
  const int64_t input_size;  // I

 protected:
  Recurrent(RecurrentOptions options, const Shape& input_shape, BuildContext& ctx,
            int64_t gates);
  // gx = x W_ih^T + b_ih (B, T, G*H), rows in schedule order; h0 (and c0) (B, H).
  virtual DirectionOutput run_direction(const Tensor& gx, const DirectionParams& p,
                                        const StepSchedule& schedule, bool reverse,
                                        const Tensor& h0, const Tensor& c0) = 0;
  virtual bool has_cell_state() const = 0;

 private:
  std::vector<DirectionParams> params_;  // layer-major, forward then reverse
  Generator* gen_;                       // dropout masks between layers
};

// W_hh and b_hh as each step's GEMM takes them: cast once to the autocast
// dtype inside an autocast region (linear would cast them at every step).
struct StepWeights {
  StepWeights(const Tensor& w_hh, const Tensor& b_hh);
  Tensor w, b;
};

// The YAML options of LSTM and GRU, with errors at the value's file:line:col.
// The YAML options both recurrent layers take, checked against their table
// (recurrent_options(): the same keys for LSTM and GRU, with its summary).
RecurrentOptions read_recurrent_options(const config::Node& spec, const LayerInfo& info);
std::vector<LayerOption> recurrent_options();

// Steps of one direction in the order they run.
std::vector<int64_t> step_order(int64_t steps, bool reverse);

// Per-step tensors of a step's active rows, (b, ...), gathered into one
// (B, T, ...) tensor with zeros past each step's rows. A step that runs
// every row is kept as it is and the whole is stacked once: a copy into a
// slice per step cost more in calls than in bytes (T of them a direction).
class StepStack {
 public:
  StepStack(int64_t batch, int64_t steps, DType dtype)
      : batch_(batch), dtype_(dtype), steps_(size_t(steps)) {}
  void set(int64_t t, const Tensor& rows);  // converted to the stack's dtype
  Tensor stacked() const;                   // (B, T, ...); every step must have been set

 private:
  int64_t batch_;
  DType dtype_;
  std::vector<Tensor> steps_;
};

// A state (B, ...) after a step that ran its first b = rows.size(0) rows:
// rows itself (in the state's dtype) when b = B, else a copy of the state
// with those rows replaced. States are replaced, never written in place, so
// what earlier steps saved of them stays valid.
Tensor with_rows(const Tensor& state, const Tensor& rows);

}  // namespace dlt::nn
