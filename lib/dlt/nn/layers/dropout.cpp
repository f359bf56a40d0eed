#include "dlt/nn/layers/dropout.h"
#include "dlt/nn/layers/options.h"

#include "dlt/ops/ops.h"

namespace dlt::nn {

Dropout::Dropout(DropoutOptions o, const Shape& input_shape, BuildContext& ctx)
    : options(o), gen_(ctx.gen) {
  DLT_LAYER_CHECK(o.p >= 0 && o.p <= 1, "p must be between 0 and 1, got {}", o.p);
  output_shape_ = input_shape;
}

Tensor Dropout::forward(const Tensor& x) { return dropout(x, options.p, training(), gen_); }

std::string Dropout::describe() const { return fmt::format("p={}", options.p); }

static const LayerInfo kDropoutInfo{
    .summary = "zeroes elements with probability p in training, scales the rest by "
               "1 / (1 - p) (torch.nn.Dropout)",
    .options = {
        {"p", "0.5", "probability of zeroing an element"}},
    .example = "{type: Dropout, p: 0.1}",
    .example_input = {6}};

static Built build_dropout(const config::Node& spec, const Shape& input_shape, BuildContext& ctx) {
  check_options(spec, kDropoutInfo);
  return make_layer<Dropout>(DropoutOptions{.p = read_double(spec, "p", 0.5, 0, 1)}, input_shape,
                             ctx);
}
DLT_REGISTER_LAYER(Dropout, build_dropout, kDropoutInfo);

}  // namespace dlt::nn
