#include "dlt/train/evaluate.h"

#include <cmath>

#include "dlt/core/grad_mode.h"
#include "dlt/ops/ops.h"
#include "dlt/train/device_batches.h"

namespace dlt::train {

namespace {

int64_t count_equal(const Tensor& a, const Tensor& b) { return eq(a, b).to(DType::i64).sum().item<int64_t>(); }

}  // namespace

Device model_device(const nn::Module& model) {
  const std::vector<Tensor> params = model.parameters();
  return params.empty() ? Device::cpu() : params.front().device();
}

BatchLoss compute_loss(const LossOptions& o, const Tensor& output, const Tensor& target,
                       bool count_correct) {
  switch (o.task) {
    case Task::classification: {
      DLT_CHECK(output.dim() == 2 && target.dim() == 1 && output.size(0) == target.size(0),
                "classification needs model outputs (B, classes) and labels (B); got outputs {} and labels {}",
                shape_str(output.shape()), shape_str(target.shape()));
      const Tensor y = target.to(DType::i64);
      const Tensor loss = cross_entropy(output, y, o.ignore_index, o.label_smoothing);
      NoGradGuard no_grad;
      return {loss, count_correct ? count_equal(argmax(output.detach(), 1), y) : 0, y.numel()};
    }
    case Task::language_model: {
      DLT_CHECK(output.dim() == 3 && target.dim() == 2 && output.size(0) == target.size(0) &&
                    output.size(1) == target.size(1),
                "a language model needs outputs (B, T, vocab) and targets (B, T); got outputs {} and targets {}",
                shape_str(output.shape()), shape_str(target.shape()));
      const Tensor logits = output.reshape({-1, output.size(2)});  // (B*T, V)
      const Tensor y = target.to(DType::i64).reshape({-1});       // (B*T)
      const Tensor loss = cross_entropy(logits, y, o.ignore_index, o.label_smoothing);
      NoGradGuard no_grad;
      return {loss, count_correct ? count_equal(argmax(logits.detach(), 1), y) : 0, y.numel()};
    }
    case Task::regression: {
      const Tensor y = target.to(output.dtype());
      DLT_CHECK(output.shape() == y.shape(), "regression needs outputs shaped like the targets; got {} and {}",
                shape_str(output.shape()), shape_str(y.shape()));
      return {mse_loss(output, y), 0, output.size(0)};
    }
    case Task::binary: {
      const Tensor y = target.to(output.dtype());
      DLT_CHECK(output.shape() == y.shape(), "binary targets must be shaped like the outputs; got {} and {}",
                shape_str(output.shape()), shape_str(y.shape()));
      const Tensor loss = binary_cross_entropy_with_logits(output, y);
      NoGradGuard no_grad;
      const TensorOptions on(TensorOptions(output.dtype()).device(output.device()));
      if (!count_correct) return {loss, 0, y.numel()};
      const Tensor predicted = gt(output.detach(), zeros({}, on));
      return {loss, count_equal(predicted, gt(y, full({}, 0.5, on))), y.numel()};
    }
  }
  throw InternalError("unknown task");
}

EvalResult evaluate(nn::Module& model, std::shared_ptr<const data::Dataset> data, data::LoaderOptions loader,
                    const LossOptions& options, const RankSum& rank_sum) {
  const bool was_training = model.training();
  model.eval();
  NoGradGuard no_grad;
  loader.epochs = 1;
  const Device device = model_device(model);
  loader.pin_memory = !device.is_cpu();
  const std::string what = data->describe();
  data::Loader host_batches(std::move(data), loader);
  DeviceBatches batches(host_batches, device);
  double loss_sum = 0;
  int64_t correct = 0, count = 0, samples = 0;
  while (auto batch = batches.next()) {
    if (batch->host.indices.empty()) continue;  // this rank's slice of a short last batch
    const Tensor out = model(batch->fields.at(0));
    const BatchLoss b = compute_loss(options, out, batch->fields.at(1));
    loss_sum += b.loss.item<double>() * double(b.count);  // b.loss is a mean over b.count
    correct += b.correct;
    count += b.count;
    samples += int64_t(batch->host.indices.size());
  }
  model.train(was_training);
  if (rank_sum) {
    double sums[] = {loss_sum, double(correct), double(count), double(samples)};
    rank_sum(sums);
    loss_sum = sums[0];
    correct = int64_t(sums[1]);
    count = int64_t(sums[2]);
    samples = int64_t(sums[3]);
  }
  DLT_CHECK(count > 0, "{} has no samples to evaluate", what);
  EvalResult r;
  r.loss = loss_sum / double(count);
  r.samples = samples;
  if (options.task != Task::regression) r.accuracy = double(correct) / double(count);
  if (options.task == Task::language_model) r.perplexity = std::exp(r.loss);
  return r;
}

}  // namespace dlt::train
