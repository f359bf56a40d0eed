// Test rows for conv2d, conv1d, conv_transpose2d and the 2-D pooling ops. Every row is gradchecked in
// float64, so shapes stay tiny. Tolerances:
//   conv2d, conv_transpose2d f32 (oneDNN, its own accumulation order and blocking): rtol = atol = 1e-4
//   conv2d bf16 (oneDNN bf16 or f32 compute, bf16 in/out): 2e-2
//   conv2d f64 (the direct-loop reference vs torch's): 1e-10
//   pooling f32: 1e-5 (same windows and order as torch; only the final divide differs)
//   pooling bf16: 1e-2 (one bf16 rounding of the result; maxima are exact)
#include "dlt/ops/conv_backward.h"
#include "tests/ops/op_case.h"

namespace dlt::testing {
namespace {

const std::vector<Tolerance> kConvTol = {{DType::f32, 1e-4, 1e-4}, {DType::f64, 1e-10, 1e-10}};
const std::vector<Tolerance> kConvTolBf16 = {{DType::f32, 1e-4, 1e-4},
                                             {DType::f64, 1e-10, 1e-10},
                                             {DType::bf16, 2e-2, 2e-2}};
// conv_transpose2d bf16: against the float64 result of the same inputs. In
// bf16 the inputs are bf16 already and oneDNN rounds once (2e-2); under
// autocast dlt runs in bf16 (Lower, as conv2d and torch's CUDA autocast)
// while the f32 inputs reach the oracle unrounded, so the difference is the
// bf16 rounding of x and w, about 2^-8 sqrt(K) |x| |w| for K products per
// output: 5e-2 here, 0.15 for the 64-product outputs of the blocked row.
const std::vector<Tolerance> kConvTransposeTol = {
    {DType::f32, 1e-4, 1e-4}, {DType::f64, 1e-10, 1e-10}, {DType::bf16, 2e-2, 5e-2}};
const std::vector<Tolerance> kPoolTol = {{DType::f32, 1e-5, 1e-5}, {DType::f64, 1e-10, 1e-10}};
const std::vector<Tolerance> kPoolTolBf16 = {{DType::f32, 1e-5, 1e-5},
                                             {DType::f64, 1e-10, 1e-10},
                                             {DType::bf16, 1e-2, 1e-2}};

using A2 = std::array<int64_t, 2>;

struct ConvRow {
  std::string label;
  Shape x, weight;
  bool bias = true;
  A2 stride{1, 1}, padding{0, 0}, dilation{1, 1};
  int64_t groups = 1;
  bool noncontig = false;
};

std::string tuple(A2 v) { return fmt::format("({}, {})", v[0], v[1]); }

OpCase conv_case(const ConvRow& r, std::vector<Tolerance> tol = kConvTol) {
  std::vector<InputSpec> inputs = {{.shape = r.x, .noncontig = r.noncontig}, {.shape = r.weight}};
  if (r.bias) inputs.push_back({.shape = {r.weight[0]}});
  return {.op = "conv2d",
          .label = r.label,
          .inputs = inputs,
          .fn = [r](const Inputs& x) {
            return conv2d(x[0], x[1], r.bias ? x[2] : Tensor(), r.stride, r.padding, r.dilation,
                          r.groups);
          },
          .torch = fmt::format(
              "F.conv2d(x0, x1, {}, stride={}, padding={}, dilation={}, groups={})",
              r.bias ? "x2" : "None", tuple(r.stride), tuple(r.padding), tuple(r.dilation),
              r.groups),
          .tolerances = tol};
}

struct ConvTransposeRow {
  std::string label;
  Shape x, weight;  // weight (Cin, Cout / groups, kH, kW)
  bool bias = true;
  A2 stride{1, 1}, padding{0, 0}, output_padding{0, 0}, dilation{1, 1};
  int64_t groups = 1;
  bool noncontig = false;
};

OpCase conv_transpose_case(const ConvTransposeRow& r,
                           std::vector<Tolerance> tol = kConvTransposeTol) {
  std::vector<InputSpec> inputs = {{.shape = r.x, .noncontig = r.noncontig}, {.shape = r.weight}};
  if (r.bias) inputs.push_back({.shape = {r.weight[1] * r.groups}});
  return {.op = "conv_transpose2d",
          .label = r.label,
          .inputs = inputs,
          .fn = [r](const Inputs& x) {
            return conv_transpose2d(x[0], x[1], r.bias ? x[2] : Tensor(), r.stride, r.padding,
                                    r.output_padding, r.dilation, r.groups);
          },
          // torch 1.13 has no bfloat16 conv_transpose2d on the CPU (it raises), and
          // its CPU autocast runs the op in f32: the oracle computes in float64
          // and returns the input's dtype.
          .torch = fmt::format("F.conv_transpose2d(x0.double(), x1.double(), {}, stride={}, "
                               "padding={}, output_padding={}, groups={}, dilation={}).to(x0.dtype)",
                               r.bias ? "x2.double()" : "None", tuple(r.stride), tuple(r.padding),
                               tuple(r.output_padding), r.groups, tuple(r.dilation)),
          .tolerances = tol};
}

struct PoolRow {
  std::string label;
  Shape x;
  A2 kernel;
  std::optional<A2> stride;
  A2 padding{0, 0}, dilation{1, 1};
  bool ceil_mode = false, count_include_pad = true, noncontig = false;
  bool bf16 = false;  // also compare in bfloat16
};

std::string stride_arg(const PoolRow& r) { return r.stride ? tuple(*r.stride) : "None"; }

// Distinct values: finite differences never cross a tie between window elements.
OpCase max_pool_case(const PoolRow& r) {
  return {.op = "max_pool2d",
          .label = r.label,
          .inputs = {{.shape = r.x, .values = Values::distinct, .noncontig = r.noncontig}},
          .fn = [r](const Inputs& x) {
            return max_pool2d(x[0], r.kernel, r.stride, r.padding, r.dilation, r.ceil_mode);
          },
          .torch = fmt::format("F.max_pool2d(x0, {}, stride={}, padding={}, dilation={}, "
                               "ceil_mode={})",
                               tuple(r.kernel), stride_arg(r), tuple(r.padding),
                               tuple(r.dilation), r.ceil_mode ? "True" : "False"),
          .tolerances = r.bf16 ? kPoolTolBf16 : kPoolTol};
}

OpCase avg_pool_case(const PoolRow& r) {
  return {.op = "avg_pool2d",
          .label = r.label,
          .inputs = {{.shape = r.x, .noncontig = r.noncontig}},
          .fn = [r](const Inputs& x) {
            return avg_pool2d(x[0], r.kernel, r.stride, r.padding, r.ceil_mode,
                              r.count_include_pad);
          },
          .torch = fmt::format("F.avg_pool2d(x0, {}, stride={}, padding={}, ceil_mode={}, "
                               "count_include_pad={})",
                               tuple(r.kernel), stride_arg(r), tuple(r.padding),
                               r.ceil_mode ? "True" : "False",
                               r.count_include_pad ? "True" : "False"),
          .tolerances = r.bf16 ? kPoolTolBf16 : kPoolTol};
}

OpCase adaptive_case(std::string label, Shape x, A2 out, bool noncontig = false,
                     std::vector<Tolerance> tol = kPoolTol) {
  return {.op = "adaptive_avg_pool2d",
          .label = label,
          .inputs = {{.shape = x, .noncontig = noncontig}},
          .fn = [out](const Inputs& x) { return adaptive_avg_pool2d(x[0], out); },
          .torch = fmt::format("F.adaptive_avg_pool2d(x0, {})", tuple(out)),
          .tolerances = tol};
}

DLT_OP_CASES(conv) {
  std::vector<OpCase> rows = {
      conv_case({.label = "bias", .x = {2, 3, 5, 5}, .weight = {4, 3, 3, 3}}, kConvTolBf16),
      conv_case({.label = "no bias", .x = {2, 3, 5, 5}, .weight = {4, 3, 3, 3}, .bias = false}),
      conv_case({.label = "stride 2 padding 1", .x = {2, 3, 6, 7}, .weight = {4, 3, 3, 3},
                 .stride = {2, 2}, .padding = {1, 1}}),
      conv_case({.label = "stride 3 leaves a remainder", .x = {1, 2, 8, 8}, .weight = {3, 2, 3, 3},
                 .stride = {3, 3}}),
      conv_case({.label = "dilation 2", .x = {2, 2, 7, 7}, .weight = {3, 2, 3, 3},
                 .padding = {2, 2}, .dilation = {2, 2}}),
      conv_case({.label = "non-square kernel stride padding dilation", .x = {1, 2, 7, 6},
                 .weight = {3, 2, 3, 2}, .stride = {2, 1}, .padding = {1, 0},
                 .dilation = {1, 2}}),
      conv_case({.label = "groups 2", .x = {2, 4, 5, 5}, .weight = {6, 2, 3, 3}, .groups = 2}),
      conv_case({.label = "depthwise", .x = {2, 3, 6, 6}, .weight = {3, 1, 3, 3},
                 .padding = {1, 1}, .groups = 3}),
      conv_case({.label = "depthwise multiplier 2 stride 2", .x = {2, 3, 6, 6},
                 .weight = {6, 1, 3, 3}, .bias = false, .stride = {2, 2}, .groups = 3}),
      conv_case({.label = "1x1", .x = {2, 5, 4, 4}, .weight = {3, 5, 1, 1}}),
      conv_case({.label = "noncontig", .x = {2, 3, 5, 5}, .weight = {4, 3, 3, 3},
                 .noncontig = true}),
      conv_case({.label = "unbatched", .x = {3, 5, 5}, .weight = {4, 3, 3, 3}, .padding = {1, 1}}),
      conv_case({.label = "kernel as large as the padded input", .x = {2, 2, 3, 3},
                 .weight = {2, 2, 5, 5}, .padding = {1, 1}}),
  };
  // Channel counts where oneDNN picks blocked layouts (the rows above are too
  // small for that). Too costly for finite differences; parity covers it.
  OpCase blocked = conv_case({.label = "blocked layouts", .x = {2, 16, 8, 8},
                              .weight = {32, 16, 3, 3}, .padding = {1, 1}});
  blocked.gradcheck = false;
  rows.push_back(blocked);

  for (const PoolRow& r : std::initializer_list<PoolRow>{
           {.label = "2x2", .x = {2, 3, 6, 6}, .kernel = {2, 2}, .bf16 = true},
           {.label = "3x3 stride 2 padding 1", .x = {2, 2, 7, 7}, .kernel = {3, 3},
            .stride = A2{2, 2}, .padding = {1, 1}},
           {.label = "ceil mode", .x = {1, 2, 7, 7}, .kernel = {2, 2}, .ceil_mode = true},
           {.label = "ceil mode padding", .x = {1, 2, 6, 8}, .kernel = {3, 3},
            .stride = A2{2, 2}, .padding = {1, 1}, .ceil_mode = true},
           {.label = "non-square", .x = {2, 2, 6, 7}, .kernel = {2, 3}, .stride = A2{1, 2},
            .padding = {1, 1}},
           {.label = "dilation 2", .x = {1, 2, 7, 7}, .kernel = {2, 2}, .stride = A2{1, 1},
            .dilation = {2, 2}},
           {.label = "noncontig", .x = {2, 2, 4, 6}, .kernel = {2, 2}, .noncontig = true},
           {.label = "unbatched", .x = {3, 5, 5}, .kernel = {2, 2}, .stride = A2{1, 1}},
       })
    rows.push_back(max_pool_case(r));
  // The indices themselves: flat h * W + w per input plane, as torch.
  rows.push_back({.op = "max_pool2d",
                  .label = "indices",
                  .inputs = {{.shape = {2, 2, 5, 7}, .values = Values::distinct}},
                  .fn = [](const Inputs& x) {
                    return ops::max_pool2d_with_indices(
                               x[0], {.kernel = {3, 2}, .stride = {2, 2}, .padding = {1, 1},
                                      .ceil_mode = true})
                        .indices;
                  },
                  .torch = "F.max_pool2d(x0, (3, 2), stride=(2, 2), padding=(1, 1), "
                           "ceil_mode=True, return_indices=True)[1]",
                  .tolerances = {{DType::f32, 0, 0}},
                  .gradcheck = false});

  for (const PoolRow& r : std::initializer_list<PoolRow>{
           {.label = "2x2", .x = {2, 3, 6, 6}, .kernel = {2, 2}, .bf16 = true},
           {.label = "padding counted", .x = {2, 2, 7, 7}, .kernel = {3, 3}, .stride = A2{2, 2},
            .padding = {1, 1}},
           {.label = "padding not counted", .x = {2, 2, 7, 7}, .kernel = {3, 3},
            .stride = A2{2, 2}, .padding = {1, 1}, .count_include_pad = false},
           {.label = "ceil mode padding counted", .x = {1, 2, 6, 8}, .kernel = {3, 3},
            .stride = A2{2, 2}, .padding = {1, 1}, .ceil_mode = true},
           {.label = "ceil mode padding not counted", .x = {1, 2, 6, 8}, .kernel = {3, 3},
            .stride = A2{2, 2}, .padding = {1, 1}, .ceil_mode = true,
            .count_include_pad = false},
           {.label = "non-square", .x = {2, 2, 7, 6}, .kernel = {3, 2}, .stride = A2{2, 1}},
           {.label = "noncontig", .x = {2, 2, 4, 6}, .kernel = {2, 2}, .noncontig = true},
           {.label = "unbatched", .x = {3, 5, 5}, .kernel = {3, 3}, .stride = A2{1, 1},
            .padding = {1, 1}},
       })
    rows.push_back(avg_pool_case(r));

  rows.push_back(adaptive_case("7 to 3", {2, 3, 7, 7}, {3, 3}, false, kPoolTolBf16));
  rows.push_back(adaptive_case("non-square", {2, 2, 6, 5}, {4, 2}));
  rows.push_back(adaptive_case("upsampling 3 to 5", {1, 2, 3, 3}, {5, 5}));
  rows.push_back(adaptive_case("global", {2, 3, 4, 5}, {1, 1}));
  rows.push_back(adaptive_case("noncontig", {2, 2, 5, 6}, {2, 3}, true));
  rows.push_back(adaptive_case("unbatched", {3, 7, 5}, {3, 2}));

  // ---- conv1d (conv2d over a height of 1) ----
  auto conv1d_row = [&rows](std::string label, Shape x, Shape w, bool bias, int64_t stride,
                            int64_t padding, int64_t dilation, int64_t groups) {
    std::vector<InputSpec> inputs = {{.shape = x}, {.shape = w}};
    if (bias) inputs.push_back({.shape = {w[0]}});
    rows.push_back(
        {.op = "conv1d", .label = label, .inputs = inputs,
         .fn = [=](const Inputs& in) {
           return conv1d(in[0], in[1], bias ? in[2] : Tensor(), stride, padding, dilation, groups);
         },
         .torch = fmt::format("F.conv1d(x0, x1, {}, {}, {}, {}, {})", bias ? "x2" : "None", stride,
                              padding, dilation, groups),
         .tolerances = kConvTolBf16});
  };
  conv1d_row("bias", {2, 3, 9}, {4, 3, 3}, true, 1, 0, 1, 1);
  conv1d_row("stride 2 padding 2 dilation 2", {2, 2, 11}, {3, 2, 3}, false, 2, 2, 2, 1);
  conv1d_row("groups 2", {1, 4, 8}, {6, 2, 5}, true, 1, 2, 1, 2);

  // ---- conv_transpose2d (conv2d's input gradient plus a bias) ----
  for (const ConvTransposeRow& r : std::initializer_list<ConvTransposeRow>{
           {.label = "bias", .x = {2, 3, 4, 4}, .weight = {3, 4, 3, 3}},
           {.label = "no bias", .x = {2, 3, 4, 5}, .weight = {3, 2, 2, 3}, .bias = false},
           {.label = "stride 2 padding 1 output_padding 1", .x = {2, 3, 4, 4},
            .weight = {3, 2, 3, 3}, .stride = {2, 2}, .padding = {1, 1},
            .output_padding = {1, 1}},
           {.label = "stride 2 kernel 2 (the upsampling block)", .x = {1, 4, 3, 3},
            .weight = {4, 2, 2, 2}, .stride = {2, 2}},
           {.label = "non-square stride padding output_padding dilation", .x = {1, 2, 4, 3},
            .weight = {2, 3, 3, 2}, .stride = {3, 2}, .padding = {1, 0},
            .output_padding = {2, 1}, .dilation = {1, 2}},
           {.label = "dilation 2", .x = {2, 2, 4, 4}, .weight = {2, 2, 3, 3},
            .padding = {1, 1}, .dilation = {2, 2}},
           {.label = "groups 2", .x = {2, 4, 3, 3}, .weight = {4, 3, 3, 3}, .stride = {2, 2},
            .groups = 2},
           {.label = "noncontig", .x = {2, 3, 4, 4}, .weight = {3, 2, 3, 3}, .noncontig = true},
           {.label = "unbatched", .x = {3, 4, 4}, .weight = {3, 2, 3, 3}, .stride = {2, 2},
            .padding = {1, 1}},
       })
    rows.push_back(conv_transpose_case(r));
  // Channel counts where oneDNN picks blocked layouts; parity only.
  OpCase blocked_t = conv_transpose_case(
      {.label = "blocked layouts", .x = {2, 16, 6, 6}, .weight = {16, 32, 4, 4},
       .stride = {2, 2}, .padding = {1, 1}},
      {{DType::f32, 1e-4, 1e-4}, {DType::f64, 1e-10, 1e-10}, {DType::bf16, 2e-2, 0.15}});
  blocked_t.gradcheck = false;
  rows.push_back(blocked_t);
  return rows;
}

}  // namespace
}  // namespace dlt::testing
