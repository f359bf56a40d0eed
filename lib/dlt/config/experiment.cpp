// Reading and validating the experiment spec. Each section has one reader;
// each value is checked where it is read, so the error points at it.
#include "dlt/config/experiment.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <utility>

#include "dlt/core/device_runtime.h"
#include "dlt/core/error.h"

namespace dlt::config {
namespace {

// ---- enums: one table each, for parsing and for name_of ----

template <class E> using Names = std::vector<std::pair<std::string, E>>;

const Names<DataKind> kDataKinds = {{"array", DataKind::array}, {"tokens", DataKind::tokens}};
const Names<ShuffleKind> kShuffles = {
    {"full", ShuffleKind::full}, {"chunked", ShuffleKind::chunked}, {"none", ShuffleKind::none}};
const Names<LossKind> kLosses = {{"cross_entropy", LossKind::cross_entropy},
                                 {"mse", LossKind::mse},
                                 {"bce_with_logits", LossKind::bce_with_logits}};
const Names<OptimKind> kOptims = {{"sgd", OptimKind::sgd},
                                  {"adam", OptimKind::adam},
                                  {"adamw", OptimKind::adamw},
                                  {"rmsprop", OptimKind::rmsprop}};
const Names<ScheduleKind> kSchedules = {{"constant", ScheduleKind::constant},
                                        {"step", ScheduleKind::step},
                                        {"cosine", ScheduleKind::cosine},
                                        {"linear", ScheduleKind::linear},
                                        {"onecycle", ScheduleKind::onecycle}};
const Names<Precision> kPrecisions = {
    {"f32", Precision::f32}, {"tf32", Precision::tf32}, {"bf16", Precision::bf16}, {"fp16", Precision::fp16}};
const Names<NonFinite> kNonFinite = {{"stop", NonFinite::stop}, {"skip", NonFinite::skip}};
const Names<Requeue> kRequeue = {{"auto", Requeue::auto_}, {"never", Requeue::never}};
const Names<BestMode> kModes = {{"max", BestMode::max}, {"min", BestMode::min}};

template <class E> std::vector<std::string> names(const Names<E>& table) {
  std::vector<std::string> out;
  for (const auto& [n, v] : table) out.push_back(n);
  return out;
}

template <class E> std::string_view name_in(const Names<E>& table, E value) {
  for (const auto& [n, v] : table)
    if (v == value) return n;
  throw InternalError("name_of: an enum value without a name");
}

// "expected one of sgd, adam, got 'adma'; did you mean 'adam'?"
std::string one_of_message(const std::vector<std::string>& allowed, const std::string& got) {
  const std::string close = closest_match(got, allowed);
  return fmt::format("expected one of {}, got '{}'{}", fmt::join(allowed, ", "), got,
                     close.empty() ? "" : fmt::format("; did you mean '{}'?", close));
}

template <class E> E parse_enum(const Node& n, const Names<E>& table) {
  const std::string text = n.as<std::string>();
  for (const auto& [name, v] : table)
    if (name == text) return v;
  n.fail(one_of_message(names(table), text));
}

template <class E> E enum_or(const Node& section, std::string_view key, const Names<E>& table, E fallback) {
  const auto n = section.find(key);
  return n && !n->is_null() ? parse_enum(*n, table) : fallback;
}

// ---- numbers with their allowed range ----

struct Range {
  double lo = -std::numeric_limits<double>::infinity(), hi = std::numeric_limits<double>::infinity();
  bool lo_open = false, hi_open = false;
  bool contains(double v) const {  // false for NaN
    return (lo_open ? v > lo : v >= lo) && (hi_open ? v < hi : v <= hi);
  }
  std::string text() const {
    if (std::isinf(hi)) return fmt::format("{} {}", lo_open ? ">" : ">=", lo);
    return fmt::format("in {}{}, {}{}", lo_open ? "(" : "[", lo, hi, hi_open ? ")" : "]");
  }
};
constexpr Range kPositive{.lo = 0, .lo_open = true};
constexpr Range kNonNegative{.lo = 0};
constexpr Range kUnit{.lo = 0, .hi = 1, .hi_open = true};       // [0, 1)
constexpr Range kOpenUnit{.lo = 0, .hi = 1, .lo_open = true, .hi_open = true};

double checked(const Node& n, double v, const Range& r) {
  if (!r.contains(v)) n.fail(fmt::format("must be {}, got {}", r.text(), v));
  return v;
}

double number_or(const Node& section, std::string_view key, double fallback, const Range& r) {
  const auto n = section.find(key);
  return n && !n->is_null() ? checked(*n, n->as<double>(), r) : fallback;
}

int64_t int_at_least(const Node& n, int64_t min) {
  const int64_t v = n.as<int64_t>();
  if (v < min) n.fail(fmt::format("must be >= {}, got {}", min, v));
  return v;
}

int64_t int_or(const Node& section, std::string_view key, int64_t fallback, int64_t min) {
  const auto n = section.find(key);
  return n && !n->is_null() ? int_at_least(*n, min) : fallback;
}

bool bool_or(const Node& section, std::string_view key, bool fallback) {
  return section.get_or<bool>(key, fallback);
}

// One number or a list of numbers.
std::vector<double> numbers_or_empty(const Node& section, std::string_view key, const Range& r) {
  const auto n = section.find(key);
  if (!n || n->is_null()) return {};
  if (!n->is_sequence()) return {checked(*n, n->as<double>(), r)};
  std::vector<double> out;
  for (size_t i = 0; i < n->size(); ++i) out.push_back(checked(n->at(i), n->at(i).as<double>(), r));
  return out;
}

// ---- keys ----

// Keys only some variants have (betas for adam, not sgd): `own` are the
// chosen variant's; a key of another variant is reported as such.
void check_variant_keys(const Node& section, const std::string& variant,
                        const std::vector<std::string>& own) {
  for (const std::string& key : section.keys()) {
    if (std::find(own.begin(), own.end(), key) != own.end()) continue;
    section.at(key).fail(fmt::format("not an option of {} (its options: {})", variant,
                                     fmt::join(own, ", ")));
  }
}

std::vector<std::string> union_of(const std::vector<std::vector<std::string>>& lists) {
  std::vector<std::string> out;
  for (const auto& list : lists)
    for (const auto& k : list)
      if (std::find(out.begin(), out.end(), k) == out.end()) out.push_back(k);
  return out;
}

// A section that may be left out: its Node, or a null one at its path.
Node section_or_empty(const Node& root, std::string_view key) {
  auto n = root.find(key);
  return n ? *n : Node(YAML::Node(), std::make_shared<const std::string>(root.file()), std::string(key));
}

std::string required_string(const Node& section, std::string_view key) {
  const Node n = section.at(key);
  std::string s = n.as<std::string>();
  if (s.empty()) n.fail("must not be empty");
  return s;
}

// ---- sections ----

SplitSpec read_split(const Node& n, DataKind kind) {
  n.check_keys({"x", "y"});
  if (n.is_null()) n.fail("expected a map with x (and y), got nothing");
  SplitSpec split;
  split.x = required_string(n, "x");
  if (kind == DataKind::tokens) {
    if (n.has("y")) n.at("y").fail("tokens data has no y key: y is the token stream x shifted by one");
  } else {
    split.y = required_string(n, "y");
  }
  return split;
}

DataSpec read_data(const Node& n) {
  const std::vector<std::string> common = {"file", "kind", "train", "val", "batch_size", "workers",
                                           "prefetch", "shuffle", "drop_last"};
  const std::vector<std::string> array_only = {"to_float", "mean", "std", "augment"};
  const std::vector<std::string> tokens_only = {"block_size", "random_offsets"};
  n.check_keys(union_of({common, array_only, tokens_only}));
  DataSpec d;
  d.file = required_string(n, "file");
  d.kind = enum_or(n, "kind", kDataKinds, DataKind::array);
  check_variant_keys(n, fmt::format("kind: {}", name_of(d.kind)),
                     union_of({common, d.kind == DataKind::array ? array_only : tokens_only}));
  d.train = read_split(n.at("train"), d.kind);
  if (const auto val = n.find("val"); val && !val->is_null()) d.val = read_split(*val, d.kind);
  d.batch_size = int_or(n, "batch_size", d.batch_size, 1);
  if (const auto b = n.find("batch_size")) d.batch_size_location = b->location();
  d.workers = int_or(n, "workers", d.workers, 1);
  d.prefetch = int_or(n, "prefetch", d.prefetch, 0);
  d.shuffle = enum_or(n, "shuffle", kShuffles, d.shuffle);
  d.drop_last = bool_or(n, "drop_last", d.drop_last);
  if (d.kind == DataKind::tokens) {
    d.block_size = int_at_least(n.at("block_size"), 1);
    d.random_offsets = bool_or(n, "random_offsets", d.random_offsets);
    d.to_float = false;
    return d;
  }
  d.to_float = bool_or(n, "to_float", d.to_float);
  d.mean = numbers_or_empty(n, "mean", {});
  d.std = numbers_or_empty(n, "std", kPositive);
  if (!d.mean.empty() && !d.std.empty() && d.mean.size() != d.std.size() && d.mean.size() != 1 &&
      d.std.size() != 1)
    n.at("std").fail(fmt::format("has {} values but mean has {} (give one per channel, or one for all)",
                                 d.std.size(), d.mean.size()));
  const Node augment = section_or_empty(n, "augment");
  augment.check_keys({"crop_padding", "hflip"});
  d.augment.crop_padding = int_or(augment, "crop_padding", 0, 0);
  d.augment.hflip = bool_or(augment, "hflip", false);
  return d;
}

Node read_model(const Node& root) {
  Node model = root.at("model");
  if (!model.is_map() && !model.is_sequence())
    model.fail(fmt::format("expected a list of layers or one layer map (with type:), got {}",
                           model.is_null() ? "nothing" : fmt::format("'{}'", model.as<std::string>())));
  if (model.size() == 0) model.fail("the model has no layers");
  return model;
}

LossSpec read_loss(const Node& n) {
  LossSpec loss;
  if (n.is_null()) return loss;
  if (n.is_scalar()) {  // loss: mse
    loss.name = parse_enum(n, kLosses);
    return loss;
  }
  n.check_keys({"name", "label_smoothing", "ignore_index"});
  loss.name = enum_or(n, "name", kLosses, loss.name);
  check_variant_keys(n, std::string(name_of(loss.name)),
                     loss.name == LossKind::cross_entropy
                         ? std::vector<std::string>{"name", "label_smoothing", "ignore_index"}
                         : std::vector<std::string>{"name"});
  loss.label_smoothing = number_or(n, "label_smoothing", 0, kUnit);
  loss.ignore_index = n.get_or<int64_t>("ignore_index", loss.ignore_index);
  return loss;
}

std::vector<std::string> optim_keys(OptimKind k) {
  switch (k) {
    case OptimKind::sgd: return {"name", "lr", "momentum", "nesterov", "weight_decay", "no_decay"};
    case OptimKind::adam:
    case OptimKind::adamw: return {"name", "lr", "betas", "eps", "weight_decay", "no_decay"};
    case OptimKind::rmsprop:
      return {"name", "lr", "alpha", "eps", "momentum", "weight_decay", "no_decay"};
  }
  throw InternalError("optim_keys: unknown optimizer");
}

OptimSpec read_optim(const Node& n) {
  n.check_keys(union_of({optim_keys(OptimKind::sgd), optim_keys(OptimKind::adam),
                         optim_keys(OptimKind::rmsprop)}));
  if (n.is_null()) n.fail("expected a map with name and lr, got nothing");
  OptimSpec o;
  o.name = parse_enum(n.at("name"), kOptims);
  check_variant_keys(n, std::string(name_of(o.name)), optim_keys(o.name));
  o.lr = checked(n.at("lr"), n.at("lr").as<double>(), kPositive);
  o.momentum = number_or(n, "momentum", 0, kUnit);
  o.nesterov = bool_or(n, "nesterov", false);
  if (o.nesterov && o.momentum == 0) n.at("nesterov").fail("needs momentum > 0");
  o.weight_decay = number_or(n, "weight_decay", o.name == OptimKind::adamw ? 0.01 : 0.0, kNonNegative);
  if (const auto betas = n.find("betas"); betas && !betas->is_null()) {
    if (!betas->is_sequence() || betas->size() != 2)
      betas->fail("expected [beta1, beta2], e.g. [0.9, 0.999]");
    o.beta1 = checked(betas->at(0), betas->at(0).as<double>(), kUnit);
    o.beta2 = checked(betas->at(1), betas->at(1).as<double>(), kUnit);
  }
  o.eps = number_or(n, "eps", o.eps, kPositive);
  o.alpha = number_or(n, "alpha", o.alpha, kUnit);
  if (const auto nd = n.find("no_decay"); nd && !nd->is_null()) {
    o.no_decay = nd->as<std::vector<std::string>>();
    for (size_t i = 0; i < o.no_decay.size(); ++i) {
      if (o.no_decay[i] == "bias" || o.no_decay[i] == "norm") continue;
      const Node item = nd->is_sequence() ? nd->at(i) : *nd;
      item.fail(one_of_message({"bias", "norm"}, o.no_decay[i]));
    }
  }
  return o;
}

std::vector<std::string> schedule_keys(ScheduleKind k) {
  switch (k) {
    case ScheduleKind::constant: return {"name", "warmup_steps"};
    case ScheduleKind::step: return {"name", "warmup_steps", "step_size", "gamma"};
    case ScheduleKind::cosine:
    case ScheduleKind::linear: return {"name", "warmup_steps", "min_lr"};
    case ScheduleKind::onecycle:
      return {"name", "max_lr", "pct_start", "div_factor", "final_div_factor"};
  }
  throw InternalError("schedule_keys: unknown schedule");
}

ScheduleSpec read_schedule(const Node& n, const OptimSpec& optim) {
  ScheduleSpec s;
  s.max_lr = optim.lr;
  if (n.is_null()) return s;
  s.location = n.location();
  if (n.is_scalar()) {  // schedule: cosine
    s.name = parse_enum(n, kSchedules);
    return s;
  }
  std::vector<std::vector<std::string>> all;
  for (const auto& [name, kind] : kSchedules) all.push_back(schedule_keys(kind));
  n.check_keys(union_of(all));
  s.name = enum_or(n, "name", kSchedules, s.name);
  check_variant_keys(n, std::string(name_of(s.name)), schedule_keys(s.name));
  s.warmup_steps = int_or(n, "warmup_steps", 0, 0);
  if (s.name == ScheduleKind::step) s.step_size = int_at_least(n.at("step_size"), 1);
  s.gamma = number_or(n, "gamma", s.gamma, kPositive);
  s.min_lr = number_or(n, "min_lr", 0, {.lo = 0, .hi = optim.lr});
  s.max_lr = number_or(n, "max_lr", optim.lr, kPositive);
  s.pct_start = number_or(n, "pct_start", s.pct_start, kOpenUnit);
  s.div_factor = number_or(n, "div_factor", s.div_factor, kPositive);
  s.final_div_factor = number_or(n, "final_div_factor", s.final_div_factor, kPositive);
  return s;
}

bool is_device(const std::string& d) {
  if (d == "cpu" || d == "cuda" || d == "auto") return true;
  if (d.rfind("cuda:", 0) != 0 || d.size() == 5 || d.size() > 8) return false;
  return std::all_of(d.begin() + 5, d.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// An explicit GPU must exist here, so a run fails at its config, not mid-way.
void check_usable(const Node& n, const std::string& device) {
  if (device == "cpu" || device == "auto") return;
  const int index = Device::parse(device).index;
  const int count = device_count(DeviceType::cuda);
  if (count == 0)
    n.fail(fmt::format("{} is not usable: {}", device, device_unavailable_reason(DeviceType::cuda)));
  if (index >= count)
    n.fail(fmt::format("{} is not usable: this machine has {} CUDA device{} (cuda:0 to cuda:{})", device,
                       count, count == 1 ? "" : "s", count - 1));
}

// loss_scale: dynamic | none | {init, growth_factor, backoff_factor,
// growth_interval}; absent: dynamic for fp16, none otherwise.
std::optional<LossScaleSpec> read_loss_scale(const Node& train, Precision precision) {
  const auto n = train.find("loss_scale");
  if (!n || n->is_null()) return precision == Precision::fp16 ? std::optional(LossScaleSpec{}) : std::nullopt;
  if (n->is_scalar()) {
    const std::string v = n->as<std::string>();
    if (v == "dynamic") return LossScaleSpec{};
    if (v == "none") {
      if (precision == Precision::fp16)
        n->fail("fp16 training needs loss scaling (small gradients flush to zero in fp16); use dynamic");
      return std::nullopt;
    }
    n->fail(fmt::format("expected dynamic, none or a map of options, got '{}'", v));
  }
  n->check_keys({"init", "growth_factor", "backoff_factor", "growth_interval"});
  LossScaleSpec s;
  s.init = number_or(*n, "init", s.init, kPositive);
  s.growth_factor = number_or(*n, "growth_factor", s.growth_factor, Range{.lo = 1, .lo_open = true});
  s.backoff_factor = number_or(*n, "backoff_factor", s.backoff_factor, kOpenUnit);
  s.growth_interval = int_or(*n, "growth_interval", s.growth_interval, 1);
  return s;
}

TrainSpec read_train(const Node& n, const DataSpec& data) {
  n.check_keys({"epochs", "steps", "eval_every", "log_every", "device", "precision", "grad_clip",
                "grad_accum", "on_nonfinite", "threads", "distributed", "requeue", "loss_scale"});
  if (n.is_null()) n.fail("expected a map with epochs or steps, got nothing");
  TrainSpec t;
  const auto epochs = n.find("epochs"), steps = n.find("steps");
  const bool has_epochs = epochs && !epochs->is_null(), has_steps = steps && !steps->is_null();
  if (has_epochs && has_steps) steps->fail("give either epochs or steps, not both");
  if (!has_epochs && !has_steps) n.fail("missing 'epochs' or 'steps' (give exactly one)");
  if (has_epochs) t.epochs = int_at_least(*epochs, 1);
  if (has_steps) t.steps = int_at_least(*steps, 1);
  t.eval_every = int_or(n, "eval_every", 0, 0);
  if (t.eval_every > 0 && !data.val) n.at("eval_every").fail("evaluation needs data.val (a validation split)");
  t.log_every = int_or(n, "log_every", t.log_every, 1);
  if (const auto d = n.find("device"); d && !d->is_null()) {
    t.device = d->as<std::string>();
    if (!is_device(t.device)) d->fail(fmt::format("expected cpu, cuda, cuda:N or auto, got '{}'", t.device));
    check_usable(*d, t.device);
  }
  t.precision = enum_or(n, "precision", kPrecisions, t.precision);
  if (t.precision == Precision::fp16 && train_device(t.device).is_cpu())
    n.at("precision").fail(fmt::format(
        "fp16 needs a GPU (train.device {} runs on the CPU, where oneDNN has no fp16 matrix products); "
        "use bf16 on the CPU",
        t.device));
  t.loss_scale = read_loss_scale(n, t.precision);
  t.grad_clip = number_or(n, "grad_clip", 0, kNonNegative);
  t.grad_accum = int_or(n, "grad_accum", 1, 1);
  t.on_nonfinite = enum_or(n, "on_nonfinite", kNonFinite, t.on_nonfinite);
  t.threads = int_or(n, "threads", 0, 0);
  if (const auto d = n.find("distributed"); d && !d->is_null()) {
    d->check_keys({"bucket_mb", "overlap", "shard_optimizer", "timeout_s", "reduce_dtype"});
    DistributedSpec& s = t.distributed;
    s.bucket_mb = number_or(*d, "bucket_mb", s.bucket_mb, kPositive);
    s.overlap = bool_or(*d, "overlap", s.overlap);
    s.shard_optimizer = bool_or(*d, "shard_optimizer", s.shard_optimizer);
    s.timeout_s = number_or(*d, "timeout_s", s.timeout_s, kPositive);
    if (const auto r = d->find("reduce_dtype"); r && !r->is_null()) {
      s.reduce_dtype = r->as<std::string>();
      if (s.reduce_dtype != "f32" && s.reduce_dtype != "bf16")
        r->fail(fmt::format("expected f32 or bf16 (the dtype gradients are summed in), got '{}'", s.reduce_dtype));
    }
  }
  t.requeue = enum_or(n, "requeue", kRequeue, t.requeue);
  return t;
}

BestSpec read_best(const Node& n, const DataSpec& data) {
  BestSpec b;
  Node metric_node = n;
  if (n.is_scalar()) {  // best: val/loss
    b.metric = n.as<std::string>();
  } else {
    n.check_keys({"metric", "mode"});
    if (const auto m = n.find("metric"); m && !m->is_null()) {
      b.metric = m->as<std::string>();
      metric_node = *m;
    }
  }
  if (std::find(kBestMetrics.begin(), kBestMetrics.end(), b.metric) == kBestMetrics.end())
    metric_node.fail(one_of_message(kBestMetrics, b.metric));
  if (b.metric.rfind("val/", 0) == 0 && !data.val)
    metric_node.fail(fmt::format("'{}' needs data.val (a validation split)", b.metric));
  const BestMode natural = b.metric.ends_with("accuracy") ? BestMode::max : BestMode::min;
  b.mode = n.is_map() ? enum_or(n, "mode", kModes, natural) : natural;
  return b;
}

CheckpointSpec read_checkpoint(const Node& n, const DataSpec& data, const std::string& run_dir) {
  n.check_keys({"every", "keep", "best", "dir"});
  CheckpointSpec c;
  c.every = int_or(n, "every", 0, 0);
  c.keep = int_or(n, "keep", c.keep, 1);
  if (const auto best = n.find("best"); best && !best->is_null()) c.best = read_best(*best, data);
  c.dir = n.has("dir") && !n.at("dir").is_null() ? required_string(n, "dir") : run_dir + "/checkpoints";
  return c;
}

LoggingSpec read_logging(const Node& n) {
  n.check_keys({"tensorboard", "histograms"});
  LoggingSpec l;
  l.tensorboard = bool_or(n, "tensorboard", l.tensorboard);
  l.histograms = int_or(n, "histograms", 0, 0);
  return l;
}

bool is_run_name(const std::string& s) {
  return !s.empty() && s != "." && s != ".." && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

}  // namespace

Node absent_node(const std::string& path) {
  return Node(YAML::Node(), std::make_shared<const std::string>("<none>"), path);
}

ExperimentSpec parse_experiment(const Node& root) {
  if (root.is_null()) root.fail("the experiment is empty (expected a map with data, model, optim and train)");
  root.check_keys({"name", "seed", "run_dir", "data", "model", "loss", "optim", "schedule", "train",
                   "checkpoint", "logging", "expect"});
  ExperimentSpec spec;
  spec.source = root.file();
  if (const auto n = root.find("name"); n && !n->is_null()) {
    spec.name = n->as<std::string>();
    if (!is_run_name(spec.name))
      n->fail(fmt::format("'{}' may only use letters, digits, '.', '_' and '-' (it names the run folder)",
                          spec.name));
  } else {
    spec.name = std::filesystem::path(root.file()).stem().string();
    if (!is_run_name(spec.name))
      root.fail(fmt::format("the file name '{}' cannot name the run folder: set name: explicitly",
                            spec.name));
  }
  spec.seed = int_or(root, "seed", 0, 0);
  spec.run_dir = root.has("run_dir") && !root.at("run_dir").is_null() ? required_string(root, "run_dir")
                                                                      : "runs/" + spec.name;
  spec.data = read_data(root.at("data"));
  spec.model = read_model(root);
  spec.loss = read_loss(section_or_empty(root, "loss"));
  spec.optim = read_optim(root.at("optim"));
  spec.schedule = read_schedule(section_or_empty(root, "schedule"), spec.optim);
  spec.train = read_train(root.at("train"), spec.data);
  spec.checkpoint = read_checkpoint(section_or_empty(root, "checkpoint"), spec.data, spec.run_dir);
  spec.logging = read_logging(section_or_empty(root, "logging"));
  spec.expect = section_or_empty(root, "expect");
  return spec;
}

ExperimentSpec load_experiment_string(const std::string& text, const std::string& name,
                                      const std::vector<std::string>& overrides) {
  return parse_experiment(apply_overrides(load_string(text, name), overrides));
}

ExperimentSpec load_experiment(const std::string& file, const std::vector<std::string>& overrides) {
  return parse_experiment(apply_overrides(load_file(file), overrides));
}

std::string_view name_of(DataKind v) { return name_in(kDataKinds, v); }
std::string_view name_of(ShuffleKind v) { return name_in(kShuffles, v); }
std::string_view name_of(LossKind v) { return name_in(kLosses, v); }
std::string_view name_of(OptimKind v) { return name_in(kOptims, v); }
std::string_view name_of(ScheduleKind v) { return name_in(kSchedules, v); }
std::string_view name_of(Precision v) { return name_in(kPrecisions, v); }
std::string_view name_of(Requeue v) { return name_in(kRequeue, v); }
std::string_view name_of(NonFinite v) { return name_in(kNonFinite, v); }
std::string_view name_of(BestMode v) { return name_in(kModes, v); }

Device train_device(const std::string& device) {
  if (device == "auto") return device_count(DeviceType::cuda) > 0 ? Device::cuda(0) : Device::cpu();
  return Device::parse(device);
}

}  // namespace dlt::config
