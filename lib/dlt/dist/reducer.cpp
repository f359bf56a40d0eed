#include "dlt/dist/reducer.h"

#include <unordered_map>

#include "dlt/core/grad_mode.h"
#include "dlt/ops/ops.h"

namespace dlt::dist {

struct Reducer::State {
  ProcessGroup& group;
  std::vector<Tensor> params;
  ReducerOptions options;
  std::vector<Bucket> buckets;
  std::vector<size_t> bucket_of;  // per parameter
  std::vector<int64_t> pending;   // per bucket: parameters not yet ready
  std::vector<char> ready;        // per parameter
  std::vector<std::unique_ptr<Work>> work;  // per bucket, while in flight
  size_t next_launch = 0;
  bool syncing = false;
  int64_t launched = 0;

  State(ProcessGroup& g, std::vector<Tensor> p, ReducerOptions o)
      : group(g), params(std::move(p)), options(o) {}

  void build_buckets();
  void on_ready(size_t param);
  void launch_ready();
  void launch(size_t b);
};

void Reducer::State::build_buckets() {
  const int64_t world = group.world_size();
  const int64_t cap = std::max<int64_t>(1, int64_t(options.bucket_mb * (1 << 20)));
  const int64_t first_cap = std::min(cap, int64_t(options.first_bucket_mb * (1 << 20)));
  bucket_of.assign(params.size(), 0);
  Bucket current;
  int64_t bytes = 0;
  DType dtype = params.empty() ? DType::f32 : params.back().dtype();
  auto close = [&] {
    if (current.entries.empty()) return;
    current.padded = options.shard ? (current.numel + world - 1) / world * world : current.numel;
    buckets.push_back(std::move(current));
    current = Bucket{};
    bytes = 0;
  };
  for (size_t k = params.size(); k-- > 0;) {  // reverse parameter order
    const Tensor& p = params[k];
    const int64_t limit = buckets.empty() ? first_cap : cap;
    if (!current.entries.empty() && (p.dtype() != dtype || bytes + p.numel() * int64_t(p.element_size()) > limit))
      close();
    dtype = p.dtype();
    current.entries.push_back({k, current.numel, p.numel()});
    current.numel += p.numel();
    bytes += p.numel() * int64_t(p.element_size());
    bucket_of[k] = buckets.size();
  }
  close();
  NoGradGuard no_grad;
  for (Bucket& b : buckets) {
    const Tensor& p0 = params[b.entries.front().param];
    const TensorOptions on = TensorOptions(p0.dtype()).device(p0.device());
    b.buffer = zeros({b.padded}, on);
    if (options.shard) b.shard = zeros({b.padded / world}, on);
    if (options.wire_dtype && *options.wire_dtype != p0.dtype()) {
      const TensorOptions wire = TensorOptions(*options.wire_dtype).device(p0.device());
      b.wire = zeros({b.padded}, wire);
      if (options.shard) b.wire_shard = zeros({b.padded / world}, wire);
    }
  }
  pending.assign(buckets.size(), 0);
  ready.assign(params.size(), 0);
  work.resize(buckets.size());
}

void Reducer::State::on_ready(size_t param) {
  if (!syncing || ready[param]) return;
  ready[param] = 1;
  --pending[bucket_of[param]];
  if (options.overlap) launch_ready();
  // Drive the collectives already in flight: MPI progresses only inside its calls.
  for (size_t b = 0; b < next_launch; ++b)
    if (work[b]) work[b]->test();
}

void Reducer::State::launch_ready() {
  while (next_launch < buckets.size() && pending[next_launch] == 0) launch(next_launch++);
}

void Reducer::State::launch(size_t b) {
  NoGradGuard no_grad;
  Bucket& bucket = buckets[b];
  Tensor& sent = bucket.wire.defined() ? bucket.wire : bucket.buffer;
  for (const BucketEntry& e : bucket.entries) {
    Tensor slot = sent.narrow(0, e.offset, e.numel);
    const Tensor& g = params[e.param].grad();
    if (g.defined())
      slot.copy_(g.reshape({-1}));
    else
      slot.zero_();
  }
  Tensor& received = bucket.wire.defined() ? (options.shard ? bucket.wire_shard : bucket.wire)
                                            : (options.shard ? bucket.shard : bucket.buffer);
  work[b] = options.shard ? group.reduce_scatter_async(sent, received, ReduceOp::sum)
                          : group.all_reduce_async(sent, ReduceOp::sum);
  ++launched;
}

Reducer::Reducer(ProcessGroup& group, std::vector<Tensor> params, ReducerOptions options)
    : state_(std::make_shared<State>(group, std::move(params), options)) {
  State& s = *state_;
  for (const Tensor& p : s.params)
    DLT_CHECK(p.requires_grad() && p.is_contiguous(), "data-parallel training needs contiguous parameters "
              "that require grad");
  s.build_buckets();
  std::weak_ptr<State> weak = state_;
  for (size_t k = 0; k < s.params.size(); ++k)
    s.params[k].register_post_accumulate_hook([weak, k](const Tensor&) {
      if (const auto st = weak.lock()) st->on_ready(k);
    });
}

Reducer::~Reducer() = default;

void Reducer::prepare(bool sync) {
  State& s = *state_;
  s.syncing = sync;
  if (!sync) return;
  s.next_launch = 0;
  std::fill(s.ready.begin(), s.ready.end(), 0);
  for (size_t b = 0; b < s.buckets.size(); ++b) s.pending[b] = int64_t(s.buckets[b].entries.size());
}

void Reducer::finish() {
  State& s = *state_;
  DLT_ASSERT(s.syncing, "Reducer::finish without prepare(sync)");
  // Unused parameters (and a rank without samples) contribute zeros.
  std::fill(s.pending.begin(), s.pending.end(), 0);
  s.launch_ready();
  NoGradGuard no_grad;
  for (size_t b = 0; b < s.buckets.size(); ++b) {
    s.work[b]->wait();
    s.work[b].reset();
    Bucket& bucket = s.buckets[b];
    if (bucket.wire.defined()) {  // widened back for the optimizer
      if (s.options.shard)
        bucket.shard.copy_(bucket.wire_shard);
      else
        bucket.buffer.copy_(bucket.wire);
    }
    if (s.options.shard) continue;
    // Each gradient becomes a view of the summed bucket: no copy back.
    for (const BucketEntry& e : bucket.entries) {
      Tensor& p = s.params[e.param];
      p.set_grad(bucket.buffer.narrow(0, e.offset, e.numel).view(p.shape()));
    }
  }
  s.syncing = false;
}

const std::vector<Bucket>& Reducer::buckets() const { return state_->buckets; }
ProcessGroup& Reducer::group() const { return state_->group; }
const std::vector<Tensor>& Reducer::params() const { return state_->params; }
int64_t Reducer::launched() const { return state_->launched; }

}  // namespace dlt::dist
