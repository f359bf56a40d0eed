#include "dlt/train/run_log.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <chrono>

#include "dlt/core/grad_mode.h"

namespace dlt::train {

RunLog::RunLog(const std::filesystem::path& run_dir, std::optional<int64_t> resume_step, RunLogOptions options)
    : metrics_(run_dir / "metrics.jsonl", resume_step), options_(std::move(options)) {
  if (!options_.tensorboard) return;
  events_.emplace(run_dir, resume_step);
  if (resume_step) return;  // the config and hparams are in the run's first event file
  // Indented: a code block in the text plugin's markdown.
  std::string block;
  for (size_t start = 0; start < options_.config_yaml.size();) {
    const size_t end = std::min(options_.config_yaml.find('\n', start), options_.config_yaml.size());
    block += "    " + options_.config_yaml.substr(start, end - start) + "\n";
    start = end + 1;
  }
  events_->text(0, "config", block);
  events_->session_start(options_.hparams);
}

void RunLog::write(const MetricsRecord& record) {
  MetricsRecord r = record;
  r.time = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  metrics_.write(r);
  if (!events_) return;
  const std::string s = r.split + "/";
  std::vector<std::pair<std::string, double>> v = {{s + "loss", r.loss}};
  if (r.accuracy) v.emplace_back(s + "accuracy", *r.accuracy);
  if (r.perplexity) v.emplace_back(s + "perplexity", *r.perplexity);
  if (r.lr) v.emplace_back(s + "lr", *r.lr);
  if (r.grad_norm) v.emplace_back(s + "grad_norm", *r.grad_norm);
  if (r.tflops) v.emplace_back(s + "tflops", *r.tflops);
  if (r.mfu) v.emplace_back(s + "mfu", *r.mfu);
  if (r.loss_scale) v.emplace_back(s + "loss_scale", *r.loss_scale);
  if (r.skipped_steps) v.emplace_back(s + "skipped_steps", *r.skipped_steps);
  if (r.samples_per_s) {
    v.emplace_back(s + "samples_per_s", *r.samples_per_s);
    if (options_.tokens_per_sample > 0)
      v.emplace_back(s + "tokens_per_s", *r.samples_per_s * double(options_.tokens_per_sample));
  }
  events_->scalars(r.step, v);
}

bool RunLog::histograms_due(int64_t step) const {
  return events_ && options_.histograms_every > 0 && step % options_.histograms_every == 0;
}

void RunLog::histograms(int64_t step, const std::vector<std::pair<std::string, Tensor>>& params) {
  NoGradGuard no_grad;
  auto values = [](const Tensor& t) {
    const Tensor c = t.detach().to(Device::cpu()).to(DType::f32).contiguous();
    return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
  };
  for (const auto& [name, p] : params) {
    events_->histogram(step, "weights/" + name, make_histogram(values(p)));
    if (p.grad().defined()) events_->histogram(step, "grads/" + name, make_histogram(values(p.grad())));
  }
}

void RunLog::finished() {
  if (events_) events_->session_end(true);
}

namespace {

HParam leaf(const std::string& text) {
  if (text == "true" || text == "false") return text == "true";
  double v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec == std::errc() && end == text.data() + text.size()) return v;
  return text;
}

void flatten(const YAML::Node& n, const std::string& path, std::map<std::string, HParam>& out) {
  if (n.IsMap()) {
    for (const auto& kv : n) flatten(kv.second, path.empty() ? kv.first.as<std::string>() : path + "." + kv.first.as<std::string>(), out);
  } else if (n.IsSequence()) {
    for (size_t i = 0; i < n.size(); ++i) flatten(n[i], path + "." + std::to_string(i), out);
  } else if (n.IsScalar()) {
    out[path] = leaf(n.Scalar());
  }
}

}  // namespace

std::map<std::string, HParam> leaf_values(const std::string& yaml) {
  std::map<std::string, HParam> out;
  flatten(YAML::Load(yaml), "", out);
  return out;
}

}  // namespace dlt::train
