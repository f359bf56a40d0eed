#include "dlt/dist/zero.h"

#include <cmath>
#include <unordered_map>

#include "dlt/core/grad_mode.h"
#include "dlt/ops/ops.h"
#include "dlt/optim/clip.h"
#include "dlt/optim/elementwise_optimizer.h"

namespace dlt::dist {

ShardedOptimizer::ShardedOptimizer(ProcessGroup& host, const Reducer& reducer, const optim::Optimizer& full,
                                   const OptimizerFactory& make)
    : host_(host), reducer_(reducer) {
  const auto* elementwise = dynamic_cast<const optim::ElementwiseOptimizer*>(&full);
  DLT_ASSERT(elementwise, "ZeRO-1 needs an elementwise optimizer");
  state_names_ = elementwise->state_names();

  // Which group and name each parameter has.
  std::unordered_map<const TensorImpl*, std::pair<size_t, std::string>> where;
  for (size_t g = 0; g < full.groups().size(); ++g)
    for (const auto& [name, p] : full.groups()[g].params) where[p.impl()] = {g, name};
  const std::vector<Tensor>& params = reducer.params();
  param_names_.resize(params.size());
  for (size_t k = 0; k < params.size(); ++k) {
    const auto it = where.find(params[k].impl());
    DLT_ASSERT(it != where.end(), "parameter {} is in no optimizer group", k);
    param_names_[k] = it->second.second;
  }

  std::vector<optim::ParamGroup> groups;
  for (const optim::ParamGroup& g : full.groups()) groups.push_back({{}, g.lr, g.base_lr, g.weight_decay});
  NoGradGuard no_grad;
  const int64_t world = reducer.group().world_size(), rank = reducer.group().rank();
  const std::vector<Bucket>& buckets = reducer.buckets();
  for (size_t b = 0; b < buckets.size(); ++b) {
    const Bucket& bucket = buckets[b];
    const int64_t S = bucket.padded / world, lo = rank * S, hi = lo + S;  // this rank's slice
    for (const BucketEntry& e : bucket.entries) {
      const int64_t a = std::max(lo, e.offset), z = std::min(hi, e.offset + e.numel);
      if (a >= z) continue;
      Piece piece{b, e.param, param_names_[e.param], a - e.offset, a - lo, z - a, {}, {}};
      piece.value = params[e.param].detach().reshape({-1}).narrow(0, piece.param_offset, piece.numel);
      piece.grad = bucket.shard.narrow(0, piece.shard_offset, piece.numel);
      piece.value.set_grad(piece.grad);
      groups[where[params[e.param].impl()].first].params.emplace_back(piece.name, piece.value);
      pieces_.push_back(std::move(piece));
    }
  }
  shard_ = make(std::move(groups));
}

double ShardedOptimizer::grad_norm() {
  // This rank's slices (their .grad is the summed gradient), read back once.
  std::vector<Tensor> slices;
  for (const Piece& p : pieces_) slices.push_back(p.value);
  const double local = optim::grad_norm(slices);
  Tensor total = full({1}, local * local, TensorOptions(DType::f64));
  host_.all_reduce(total, ReduceOp::sum);
  return std::sqrt(total.item<double>());
}

void ShardedOptimizer::scale_grads(double factor) {
  NoGradGuard no_grad;
  for (Piece& p : pieces_) p.grad.mul_(factor);
}

std::vector<Tensor> ShardedOptimizer::grads() const {
  std::vector<Tensor> out;
  for (const Piece& p : pieces_) out.push_back(p.grad);
  return out;
}

void ShardedOptimizer::step(const optim::Optimizer& full) {
  for (size_t g = 0; g < full.groups().size(); ++g) shard_->groups()[g].lr = full.groups()[g].lr;
  shard_->step();
  // Every rank's updated slices to every rank, bucket by bucket; the bucket's
  // gradient buffer (free now) receives them.
  NoGradGuard no_grad;
  const std::vector<Bucket>& buckets = reducer_.buckets();
  const std::vector<Tensor>& params = reducer_.params();
  size_t next = 0;
  for (size_t b = 0; b < buckets.size(); ++b) {
    const Bucket& bucket = buckets[b];
    Tensor mine = bucket.shard;  // reused as the send buffer: its gradients were consumed
    mine.zero_();
    for (; next < pieces_.size() && pieces_[next].bucket == b; ++next) {
      const Piece& p = pieces_[next];
      mine.narrow(0, p.shard_offset, p.numel).copy_(p.value);
    }
    Tensor gathered = bucket.buffer;
    reducer_.group().all_gather(mine, gathered);
    for (const BucketEntry& e : bucket.entries)
      params[e.param].detach().reshape({-1}).copy_(gathered.narrow(0, e.offset, e.numel));
  }
}

std::map<std::string, Tensor> ShardedOptimizer::gathered_state_dict() {
  NoGradGuard no_grad;
  const std::map<std::string, Tensor> local = shard_->state_dict();
  const std::vector<Bucket>& buckets = reducer_.buckets();
  const std::vector<Tensor>& params = reducer_.params();
  const int64_t world = reducer_.group().world_size();

  // Which state buffers exist (sgd without momentum has none), and each
  // parameter's step count, agreed by all ranks.
  Tensor has = zeros({int64_t(state_names_.size())}, TensorOptions(DType::i64));
  Tensor steps = zeros({int64_t(params.size())}, TensorOptions(DType::i64));
  for (const Piece& p : pieces_) {
    for (size_t k = 0; k < state_names_.size(); ++k)
      if (const auto it = local.find(state_names_[k] + "." + p.name); it != local.end() && it->second.defined())
        has.data_ptr<int64_t>()[k] = 1;
    if (const auto it = local.find("step." + p.name); it != local.end())
      steps.data_ptr<int64_t>()[p.param] = it->second.item<int64_t>();
  }
  host_.all_reduce(has, ReduceOp::max);
  host_.all_reduce(steps, ReduceOp::max);

  std::map<std::string, Tensor> out;
  for (size_t k = 0; k < params.size(); ++k)
    if (const int64_t s = steps.data_ptr<int64_t>()[k]; s > 0)
      out["step." + param_names_[k]] = full({}, double(s), TensorOptions(DType::i64));
  for (size_t k = 0; k < state_names_.size(); ++k) {
    if (has.data_ptr<int64_t>()[k] == 0) continue;
    for (size_t b = 0; b < buckets.size(); ++b) {
      const Bucket& bucket = buckets[b];
      const TensorOptions on = TensorOptions(bucket.buffer.dtype()).device(bucket.buffer.device());
      Tensor mine = zeros({bucket.padded / world}, on);
      for (const Piece& p : pieces_)
        if (p.bucket == b)
          if (const auto it = local.find(state_names_[k] + "." + p.name); it != local.end() && it->second.defined())
            mine.narrow(0, p.shard_offset, p.numel).copy_(it->second.reshape({-1}));
      Tensor whole = zeros({bucket.padded}, on);
      reducer_.group().all_gather(mine, whole);
      for (const BucketEntry& e : bucket.entries)
        if (steps.data_ptr<int64_t>()[e.param] > 0)
          out[state_names_[k] + "." + param_names_[e.param]] =
              whole.narrow(0, e.offset, e.numel).reshape(params[e.param].shape()).clone();
    }
  }
  return out;
}

void ShardedOptimizer::load_state_dict(const std::map<std::string, Tensor>& full_state) {
  NoGradGuard no_grad;
  std::map<std::string, Tensor> mine;
  for (const Piece& p : pieces_) {
    if (const auto it = full_state.find("step." + p.name); it != full_state.end()) mine[it->first] = it->second;
    for (const std::string& k : state_names_) {
      const auto it = full_state.find(k + "." + p.name);
      if (it == full_state.end()) continue;
      DLT_CHECK(it->second.numel() == reducer_.params()[p.param].numel(),
                "optimizer state {} has {} elements, the parameter {}", it->first, it->second.numel(),
                reducer_.params()[p.param].numel());
      mine[it->first] = it->second.reshape({-1}).narrow(0, p.param_offset, p.numel).clone();
    }
  }
  shard_->load_state_dict(mine);
}

int64_t state_bytes(const std::map<std::string, Tensor>& state) {
  int64_t bytes = 0;
  for (const auto& [name, t] : state)
    if (t.defined()) bytes += t.numel() * int64_t(t.element_size());
  return bytes;
}

int64_t ShardedOptimizer::state_bytes() const { return dist::state_bytes(shard_->state_dict()); }

}  // namespace dlt::dist
