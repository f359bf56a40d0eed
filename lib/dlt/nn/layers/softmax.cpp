#include "dlt/nn/layers/softmax.h"

#include "dlt/nn/layers/options.h"
#include "dlt/ops/ops.h"

namespace dlt::nn {

Softmax::Softmax(SoftmaxOptions o, const Shape& input_shape, BuildContext&) : options(o) {
  // Batched tensors have one more dim than the sample; dim 0 is the batch.
  const int64_t rank = int64_t(input_shape.size()) + 1;
  DLT_LAYER_CHECK(o.dim >= -rank && o.dim < rank,
                  "dim {} is out of range for input {} (batched: {} dims, so -{} .. {})", o.dim,
                  shape_str(input_shape), rank, rank, rank - 1);
  output_shape_ = input_shape;
}

Tensor Softmax::forward(const Tensor& x) {
  return options.log ? log_softmax(x, options.dim) : softmax(x, options.dim);
}

std::string Softmax::describe() const { return fmt::format("dim={}", options.dim); }

static const LayerInfo kSoftmaxInfo{
    .summary = "exp(x) / sum(exp(x)) along dim (torch.nn.Softmax)",
    .options = {{"dim", "-1", "the dim that sums to one, counted with the batch (0)"}},
    .example = "{type: Softmax}",
    .example_input = {3, 4}};

static const LayerInfo kLogSoftmaxInfo{
    .summary = "x - logsumexp(x) along dim (torch.nn.LogSoftmax)",
    .options = {{"dim", "-1", "the dim normalised, counted with the batch (0)"}},
    .example = "{type: LogSoftmax}",
    .example_input = {3, 4}};

template <bool log, const LayerInfo& info>
static Built build_softmax(const config::Node& spec, const Shape& input_shape, BuildContext& ctx) {
  check_options(spec, info);
  const SoftmaxOptions o{.dim = spec.get_or<int64_t>("dim", -1), .log = log};
  return make_layer<Softmax>(o, input_shape, ctx);
}
DLT_REGISTER_LAYER(Softmax, (build_softmax<false, kSoftmaxInfo>), kSoftmaxInfo);
DLT_REGISTER_LAYER(LogSoftmax, (build_softmax<true, kLogSoftmaxInfo>), kLogSoftmaxInfo);

}  // namespace dlt::nn
