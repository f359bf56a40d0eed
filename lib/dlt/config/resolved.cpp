// The resolved config: the spec written back as YAML with every default
// spelled out, in a fixed order, so that it reads back to the same spec and
// its hash identifies the configuration.
#include <yaml-cpp/yaml.h>

#include <algorithm>

#include "dlt/config/experiment.h"
#include "dlt/core/error.h"

namespace dlt::config {
namespace {

// A string that would read back as itself when written plain; anything else
// ("", "null", "a: b", "[x]") is double-quoted.
bool plain_is_safe(const std::string& s) {
  if (s.empty()) return false;
  try {
    const YAML::Node n = YAML::Load(s);
    return n.IsScalar() && n.Scalar() == s;
  } catch (const YAML::Exception&) {
    return false;
  }
}

void put_string(YAML::Emitter& out, const std::string& s) {
  if (!plain_is_safe(s)) out << YAML::DoubleQuoted;
  out << s;
}

// The shortest text that reads back as the same double.
void put_number(YAML::Emitter& out, double v) { out << fmt::format("{}", v); }

void put_bool(YAML::Emitter& out, bool v) { out << (v ? "true" : "false"); }

void put_numbers(YAML::Emitter& out, const std::vector<double>& vs) {
  out << YAML::Flow << YAML::BeginSeq;
  for (double v : vs) put_number(out, v);
  out << YAML::EndSeq;
}

template <class V> void put(YAML::Emitter& out, const char* key, const V& value) {
  out << YAML::Key << key << YAML::Value;
  if constexpr (std::is_same_v<V, std::string>) put_string(out, value);
  else if constexpr (std::is_same_v<V, bool>) put_bool(out, value);
  else if constexpr (std::is_same_v<V, double>) put_number(out, value);
  else if constexpr (std::is_same_v<V, std::vector<double>>) put_numbers(out, value);
  else if constexpr (std::is_same_v<V, std::string_view>) out << std::string(value);
  else out << value;
}

// A YAML subtree as read (the model, expect). Quoted scalars stay quoted, so
// "12" stays a string; lists of scalars are written on one line.
void put_yaml(YAML::Emitter& out, const YAML::Node& n) {
  if (n.IsSequence()) {
    const bool flat = std::all_of(n.begin(), n.end(), [](const YAML::Node& e) { return e.IsScalar(); });
    if (flat) out << YAML::Flow;
    out << YAML::BeginSeq;
    for (const auto& e : n) put_yaml(out, e);
    out << YAML::EndSeq;
  } else if (n.IsMap()) {
    out << YAML::BeginMap;
    for (const auto& kv : n) {
      out << YAML::Key << kv.first.Scalar() << YAML::Value;
      put_yaml(out, kv.second);
    }
    out << YAML::EndMap;
  } else if (n.IsScalar()) {
    if (n.Tag() == "!") out << YAML::DoubleQuoted;
    out << n.Scalar();
  } else {
    out << YAML::Null;
  }
}

void put_split(YAML::Emitter& out, const char* key, const SplitSpec& s, DataKind kind) {
  out << YAML::Key << key << YAML::Value << YAML::BeginMap;
  put(out, "x", s.x);
  if (kind == DataKind::array) put(out, "y", s.y);
  out << YAML::EndMap;
}

void put_data(YAML::Emitter& out, const DataSpec& d) {
  out << YAML::Key << "data" << YAML::Value << YAML::BeginMap;
  put(out, "file", d.file);
  put(out, "kind", name_of(d.kind));
  put_split(out, "train", d.train, d.kind);
  if (d.val) put_split(out, "val", *d.val, d.kind);
  if (d.kind == DataKind::tokens) {
    put(out, "block_size", d.block_size);
    put(out, "random_offsets", d.random_offsets);
  }
  put(out, "batch_size", d.batch_size);
  put(out, "workers", d.workers);
  put(out, "prefetch", d.prefetch);
  put(out, "shuffle", name_of(d.shuffle));
  put(out, "drop_last", d.drop_last);
  if (d.kind == DataKind::array) {
    put(out, "to_float", d.to_float);
    put(out, "mean", d.mean);
    put(out, "std", d.std);
    out << YAML::Key << "augment" << YAML::Value << YAML::BeginMap;
    put(out, "crop_padding", d.augment.crop_padding);
    put(out, "hflip", d.augment.hflip);
    out << YAML::EndMap;
  }
  out << YAML::EndMap;
}

void put_loss(YAML::Emitter& out, const LossSpec& l) {
  out << YAML::Key << "loss" << YAML::Value << YAML::BeginMap;
  put(out, "name", name_of(l.name));
  if (l.name == LossKind::cross_entropy) {
    put(out, "label_smoothing", l.label_smoothing);
    put(out, "ignore_index", l.ignore_index);
  }
  out << YAML::EndMap;
}

void put_optim(YAML::Emitter& out, const OptimSpec& o) {
  out << YAML::Key << "optim" << YAML::Value << YAML::BeginMap;
  put(out, "name", name_of(o.name));
  put(out, "lr", o.lr);
  if (o.name == OptimKind::sgd || o.name == OptimKind::rmsprop) put(out, "momentum", o.momentum);
  if (o.name == OptimKind::sgd) put(out, "nesterov", o.nesterov);
  if (o.name == OptimKind::adam || o.name == OptimKind::adamw)
    put(out, "betas", std::vector<double>{o.beta1, o.beta2});
  if (o.name == OptimKind::rmsprop) put(out, "alpha", o.alpha);
  if (o.name != OptimKind::sgd) put(out, "eps", o.eps);
  put(out, "weight_decay", o.weight_decay);
  out << YAML::Key << "no_decay" << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (const std::string& s : o.no_decay) out << s;
  out << YAML::EndSeq << YAML::EndMap;
}

void put_schedule(YAML::Emitter& out, const ScheduleSpec& s) {
  out << YAML::Key << "schedule" << YAML::Value << YAML::BeginMap;
  put(out, "name", name_of(s.name));
  switch (s.name) {
    case ScheduleKind::constant: put(out, "warmup_steps", s.warmup_steps); break;
    case ScheduleKind::step:
      put(out, "warmup_steps", s.warmup_steps);
      put(out, "step_size", s.step_size);
      put(out, "gamma", s.gamma);
      break;
    case ScheduleKind::cosine:
    case ScheduleKind::linear:
      put(out, "warmup_steps", s.warmup_steps);
      put(out, "min_lr", s.min_lr);
      break;
    case ScheduleKind::onecycle:
      put(out, "max_lr", s.max_lr);
      put(out, "pct_start", s.pct_start);
      put(out, "div_factor", s.div_factor);
      put(out, "final_div_factor", s.final_div_factor);
      break;
  }
  out << YAML::EndMap;
}

void put_train(YAML::Emitter& out, const TrainSpec& t) {
  out << YAML::Key << "train" << YAML::Value << YAML::BeginMap;
  if (t.epochs > 0) put(out, "epochs", t.epochs);
  else put(out, "steps", t.steps);
  put(out, "eval_every", t.eval_every);
  put(out, "log_every", t.log_every);
  put(out, "device", t.device);
  put(out, "precision", name_of(t.precision));
  if (t.loss_scale) {
    out << YAML::Key << "loss_scale" << YAML::Value << YAML::BeginMap;
    put(out, "init", t.loss_scale->init);
    put(out, "growth_factor", t.loss_scale->growth_factor);
    put(out, "backoff_factor", t.loss_scale->backoff_factor);
    put(out, "growth_interval", t.loss_scale->growth_interval);
    out << YAML::EndMap;
  } else {
    put(out, "loss_scale", "none");
  }
  put(out, "grad_clip", t.grad_clip);
  put(out, "grad_accum", t.grad_accum);
  put(out, "on_nonfinite", name_of(t.on_nonfinite));
  put(out, "threads", t.threads);
  out << YAML::Key << "distributed" << YAML::Value << YAML::BeginMap;
  put(out, "bucket_mb", t.distributed.bucket_mb);
  put(out, "overlap", t.distributed.overlap);
  put(out, "shard_optimizer", t.distributed.shard_optimizer);
  put(out, "timeout_s", t.distributed.timeout_s);
  put(out, "reduce_dtype", t.distributed.reduce_dtype);
  out << YAML::EndMap;
  put(out, "requeue", name_of(t.requeue));
  out << YAML::EndMap;
}

void put_checkpoint(YAML::Emitter& out, const CheckpointSpec& c) {
  out << YAML::Key << "checkpoint" << YAML::Value << YAML::BeginMap;
  put(out, "every", c.every);
  put(out, "keep", c.keep);
  if (c.best) {
    out << YAML::Key << "best" << YAML::Value << YAML::BeginMap;
    put(out, "metric", c.best->metric);
    put(out, "mode", name_of(c.best->mode));
    out << YAML::EndMap;
  }
  put(out, "dir", c.dir);
  out << YAML::EndMap;
}

}  // namespace

std::string resolved_yaml(const ExperimentSpec& spec) {
  YAML::Emitter out;
  out << YAML::Comment("resolved by dlt: overrides applied, every default written out");
  out << YAML::BeginMap;
  put(out, "name", spec.name);
  put(out, "seed", spec.seed);
  put(out, "run_dir", spec.run_dir);
  put_data(out, spec.data);
  out << YAML::Key << "model" << YAML::Value;
  put_yaml(out, spec.model.yaml());
  put_loss(out, spec.loss);
  put_optim(out, spec.optim);
  put_schedule(out, spec.schedule);
  put_train(out, spec.train);
  put_checkpoint(out, spec.checkpoint);
  out << YAML::Key << "logging" << YAML::Value << YAML::BeginMap;
  put(out, "tensorboard", spec.logging.tensorboard);
  put(out, "histograms", spec.logging.histograms);
  out << YAML::EndMap;
  if (!spec.expect.is_null()) {
    out << YAML::Key << "expect" << YAML::Value;
    put_yaml(out, spec.expect.yaml());
  }
  out << YAML::EndMap;
  DLT_ASSERT(out.good(), "resolved_yaml: the emitter failed: {}", out.GetLastError());
  return std::string(out.c_str()) + "\n";
}

uint64_t config_hash(const ExperimentSpec& spec) {
  uint64_t h = 14695981039346656037ull;  // FNV-1a offset basis
  for (unsigned char c : resolved_yaml(spec)) {
    h ^= c;
    h *= 1099511628211ull;  // FNV prime
  }
  return h;
}

}  // namespace dlt::config
