#include "dlt/dist/data_parallel.h"

#include <cmath>

#include "dlt/core/grad_mode.h"
#include "dlt/ops/ops.h"
#include "dlt/optim/clip.h"

namespace dlt::dist {

namespace {

uint64_t fnv1a(std::string_view text) {
  uint64_t h = 1469598103934665603ull;
  for (const char c : text) h = (h ^ uint8_t(c)) * 1099511628211ull;
  return h;
}

// Names, shapes and dtypes of what a rank trains, as one string.
std::string structure_of(const nn::Module& model) {
  std::string s;
  for (const auto& [name, t] : model.state_dict())
    s += fmt::format("{}:{}:{};", name, shape_str(t.shape()), t.dtype());
  return s;
}

}  // namespace

DataParallel::DataParallel(ProcessGroup& host, ProcessGroup& device, nn::Module& model,
                           optim::Optimizer& optimizer, const OptimizerFactory& make, DataParallelOptions options)
    : host_(host), device_(device), model_(model), optimizer_(optimizer) {
  reducer_ = std::make_unique<Reducer>(device, model.parameters(),
                                       ReducerOptions{.bucket_mb = options.bucket_mb,
                                                      .overlap = options.overlap,
                                                      .shard = options.shard_optimizer,
                                                      .wire_dtype = options.reduce_dtype});
  if (options.shard_optimizer) sharded_ = std::make_unique<ShardedOptimizer>(host, *reducer_, optimizer, make);
}

void DataParallel::synchronize_start(const std::string& config_hash) {
  const std::string structure = structure_of(model_);
  const int64_t n = int64_t(model_.state_dict().size());
  const int world = host_.world_size();
  // Per rank: config hash, structure hash, tensor count (as bit patterns).
  Tensor mine = zeros({3}, TensorOptions(DType::i64));
  mine.data_ptr<int64_t>()[0] = int64_t(fnv1a(config_hash));
  mine.data_ptr<int64_t>()[1] = int64_t(fnv1a(structure));
  mine.data_ptr<int64_t>()[2] = n;
  Tensor all = zeros({3 * int64_t(world)}, TensorOptions(DType::i64));
  host_.all_gather(mine, all);
  const int64_t* v = all.data_ptr<int64_t>();
  for (int r = 1; r < world; ++r) {
    DLT_CHECK(v[3 * r] == v[0],
              "rank {} was started with a different configuration than rank 0 (config hash {:016x} vs {:016x}): "
              "every rank must get the same experiment file and --set values",
              r, uint64_t(v[3 * r]), uint64_t(v[0]));
    DLT_CHECK(v[3 * r + 1] == v[1] && v[3 * r + 2] == v[2],
              "rank {} built a different model than rank 0 ({} vs {} parameter and buffer tensors, or other "
              "names or shapes)",
              r, v[3 * r + 2], v[2]);
  }
  NoGradGuard no_grad;
  for (auto& [name, t] : model_.state_dict()) {
    // Parameters are contiguous CPU or device tensors the group can send as they are.
    Tensor target = t.detach();
    device_.broadcast(target, 0);
  }
}

void DataParallel::broadcast_buffers() {
  if (device_.world_size() == 1) return;
  NoGradGuard no_grad;
  for (auto& [name, b] : model_.named_buffers()) {
    Tensor target = b.detach();
    device_.broadcast(target, 0);
  }
}

double DataParallel::clip_grad_norm(double max_norm) {
  if (!sharded_) {
    const std::vector<Tensor>& params = reducer_->params();
    return max_norm > 0 ? optim::clip_grad_norm(params, max_norm) : optim::grad_norm(params);
  }
  const double total = sharded_->grad_norm();
  if (max_norm > 0 && std::isfinite(total)) {
    const double coef = max_norm / (total + 1e-6);
    if (coef < 1) sharded_->scale_grads(coef);
  }
  return total;
}

std::vector<Tensor> DataParallel::local_grads() const {
  return sharded_ ? sharded_->grads() : optim::grads_of(reducer_->params());
}

void DataParallel::step() {
  if (sharded_)
    sharded_->step(optimizer_);
  else
    optimizer_.step();
}

std::map<std::string, Tensor> DataParallel::optimizer_state() {
  return sharded_ ? sharded_->gathered_state_dict() : optimizer_.state_dict();
}

void DataParallel::load_optimizer_state(const std::map<std::string, Tensor>& state) {
  if (sharded_)
    sharded_->load_state_dict(state);
  else
    optimizer_.load_state_dict(state);
}

void DataParallel::sum(std::span<double> values) {
  Tensor t = empty({int64_t(values.size())}, TensorOptions(DType::f64));
  std::copy(values.begin(), values.end(), t.data_ptr<double>());
  host_.all_reduce(t, ReduceOp::sum);
  std::copy(t.data_ptr<double>(), t.data_ptr<double>() + values.size(), values.begin());
}

int64_t DataParallel::optimizer_state_bytes() const {
  return sharded_ ? sharded_->state_bytes() : state_bytes(optimizer_.state_dict());
}

}  // namespace dlt::dist
