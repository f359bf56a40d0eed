#include "dlt/train/recipe.h"
#include "dlt/train/xml.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <map>
#include <random>

#include "dlt/core/error.h"
#include "dlt/train/experiment.h"
#include "dlt/train/file_io.h"
#include "dlt/train/metrics_log.h"
#include "dlt/train/verify_resume.h"

namespace dlt::train {
namespace fs = std::filesystem;
using config::Node;

namespace {

std::string number(double v) { return fmt::format("{:.4g}", v); }

Bound parse_bound(const Node& n, const std::string& metric, std::optional<int64_t> step) {
  if (std::find(kRecipeMetrics.begin(), kRecipeMetrics.end(), metric) == kRecipeMetrics.end()) {
    const std::string near = config::closest_match(metric, kRecipeMetrics);
    n.fail(fmt::format("unknown metric '{}' (known: {}){}", metric, fmt::join(kRecipeMetrics, ", "),
                       near.empty() ? "" : fmt::format("; did you mean '{}'?", near)));
  }
  if (!n.is_map() || n.size() == 0) n.fail("expected a bound {min: X} and/or {max: Y}");
  n.check_keys({"min", "max"});
  Bound b;
  b.metric = metric;
  b.step = step;
  b.location = n.location();
  if (n.has("min")) b.min = n.get<double>("min");
  if (n.has("max")) b.max = n.get<double>("max");
  if (b.min && b.max && *b.min > *b.max) n.fail(fmt::format("min {} is above max {}", *b.min, *b.max));
  return b;
}

// Every bound of the run's records, as (split, step) -> record.
struct Records {
  std::map<std::pair<std::string, int64_t>, const Json*> at;
  std::map<std::string, const Json*> last;  // by split
};

std::optional<double> metric_of(const Json* record, const std::string& key) {
  if (!record) return std::nullopt;
  const Json* v = record->find(key);
  if (!v || v->is_null()) return std::nullopt;
  return v->as_double(key);
}

// The records of a metrics.jsonl that a resumed run must repeat exactly:
// everything but the measurements (throughput, FLOP/s, MFU, time written).
std::vector<std::string> comparable(const fs::path& metrics_jsonl) {
  std::vector<std::string> out;
  for (const Json& r : read_metrics(metrics_jsonl)) {
    Json c = Json::object();
    for (const auto& [k, v] : r.members("record"))
      if (k != "samples_per_s" && k != "tflops" && k != "mfu" && k != "time") c.set(k, v);
    out.push_back(c.dump());
  }
  return out;
}

// Trains the recipe interrupted after `interrupt_at` and resumed, in a
// sibling folder, and compares with the uninterrupted run in spec.run_dir.
CheckResult check_resume(const config::ExperimentSpec& spec, int64_t interrupt_at) {
  config::ExperimentSpec s = spec;
  s.run_dir = spec.run_dir + "-resumed";
  s.checkpoint.dir = s.run_dir + "/checkpoints";
  fs::remove_all(s.run_dir);
  train_experiment(s, /*resume=*/false, /*dump=*/std::nullopt, interrupt_at);
  train_experiment(s, /*resume=*/true);
  CheckResult r;
  r.check = "bitwise_resume";
  r.bound = fmt::format("identical after stop at {}", interrupt_at);
  const auto a = comparable(fs::path(spec.run_dir) / "metrics.jsonl");
  const auto b = comparable(fs::path(s.run_dir) / "metrics.jsonl");
  const auto [ia, ib] = std::mismatch(a.begin(), a.end(), b.begin(), b.end());
  if (ia != a.end() || ib != b.end()) {
    r.value = fmt::format("metrics.jsonl differs at record {}: {} vs {}", ia - a.begin() + 1,
                          ia == a.end() ? "end" : *ia, ib == b.end() ? "end" : *ib);
    return r;
  }
  const bool same = read_file(find_checkpoint(spec.run_dir) / "model.safetensors") ==
                    read_file(find_checkpoint(s.run_dir) / "model.safetensors");
  r.value = same ? fmt::format("{} records and model.safetensors identical", a.size())
                 : "model.safetensors differs";
  r.pass = same;
  return r;
}

// dlt verify-resume on the recipe's resolved experiment, beside its run folder.
CheckResult check_kill_resume(const Recipe& recipe, const std::string& program) {
  VerifyResumeOptions o;
  o.config = (fs::path(recipe.spec.run_dir) / "config.resolved.yaml").string();
  o.steps = recipe.spec.train.steps;
  o.seed = recipe.kill_seed ? *recipe.kill_seed : std::random_device{}();
  o.work_dir = recipe.spec.run_dir + "-verify-resume";
  o.program = program;
  const VerifyResumeResult v = verify_resume(o);
  CheckResult r;
  r.check = "verify_resume";
  r.bound = "identical after SIGKILL";
  const std::string how = fmt::format("killed after step {}, resumed from {}, seed {}", v.killed_after,
                                      v.resumed_from, *o.seed);
  r.pass = v.differences.empty();
  r.value = r.pass ? fmt::format("{} tensors and state.json identical ({})", v.tensors, how)
                   : fmt::format("{}{} ({})", v.differences.front(),
                                 v.differences.size() > 1 ? fmt::format(" and {} more", v.differences.size() - 1) : "",
                                 how);
  return r;
}

}  // namespace

std::string Bound::describe() const {
  if (min && max) return fmt::format("in [{}, {}]", number(*min), number(*max));
  return min ? "min " + number(*min) : "max " + number(*max);
}

std::string CheckResult::failure() const {
  if (pass) return {};
  if (bound.starts_with("min ")) return fmt::format("{} {} < {}", check, value, bound);
  if (bound.starts_with("max ")) return fmt::format("{} {} > {}", check, value, bound);
  return fmt::format("{} {} (expected {})", check, value, bound);
}

bool RecipeResult::pass() const {
  return error.empty() && std::all_of(checks.begin(), checks.end(), [](const CheckResult& c) { return c.pass; });
}

std::vector<Bound> parse_bounds(const Node& expect) {
  std::vector<Bound> out;
  if (expect.is_null()) return out;
  if (!expect.is_map()) expect.fail("expected a map of metric bounds, e.g. {val/accuracy: {min: 0.8}}");
  for (const std::string& key : expect.keys()) {
    const Node n = expect.at(key);
    if (key == "resume") continue;  // load_recipe reads it
    if (key != "at_step") {
      out.push_back(parse_bound(n, key, std::nullopt));
      continue;
    }
    if (!n.is_map()) n.fail("expected {STEP: {metric: {min/max: X}}}");
    for (const std::string& step_text : n.keys()) {
      const Node at = n.at(step_text);
      int64_t step = 0;
      const auto [end, ec] = std::from_chars(step_text.data(), step_text.data() + step_text.size(), step);
      if (ec != std::errc() || end != step_text.data() + step_text.size() || step < 1)
        at.fail(fmt::format("expected a step number >= 1 as the key, got '{}'", step_text));
      if (!at.is_map()) at.fail("expected {metric: {min/max: X}}");
      for (const std::string& metric : at.keys()) out.push_back(parse_bound(at.at(metric), metric, step));
    }
  }
  return out;
}

Recipe load_recipe(const std::string& file, const fs::path& runs_root) {
  const Node root = config::load_file(file);
  if (!root.is_map()) root.fail("expected a recipe: an experiment or {base: FILE, set: {...}}, with expect:");
  Recipe r;
  r.name = fs::path(file).stem().string();
  Node doc = root;
  // The --set argument each `set:` entry became, and where the entry is: an
  // error about an overridden value then points into the recipe.
  std::vector<std::pair<std::string, std::string>> set_sources;
  if (root.has("base")) {
    root.check_keys({"base", "set", "expect"});
    const Node base = root.at("base");
    const std::string base_file = base.as<std::string>();
    std::error_code ec;  // not the throwing overload: a name too long for the system is also "no such file"
    if (!fs::exists(base_file, ec))
      base.fail(fmt::format("no such file '{}' (relative to the working directory){}", base_file,
                            ec ? ": " + ec.message() : std::string()));
    doc = config::load_file(base_file);
    if (const auto set = root.find("set"); set && !set->is_null()) {
      if (!set->is_map()) set->fail("expected a map of key.path: value overrides");
      for (const std::string& key : set->keys()) {
        YAML::Emitter e;
        e << YAML::Flow << set->at(key).yaml();
        const std::string arg = key + "=" + e.c_str();
        set_sources.emplace_back("--set " + arg, set->at(key).location());
      }
    }
  }
  try {
    for (const auto& source : set_sources) doc = config::apply_overrides(doc, {source.first.substr(6)});
    r.spec = config::parse_experiment(doc);
  } catch (const Error& e) {
    const std::string what = e.what();
    for (const auto& [source, location] : set_sources)
      if (what.starts_with(source + ":")) throw Error(location + what.substr(source.size()));
    throw;
  }
  r.spec.run_dir = (runs_root / r.name).string();
  r.spec.checkpoint.dir = r.spec.run_dir + "/checkpoints";
  const Node expect = root.has("expect") ? root.at("expect") : config::absent_node("expect");
  if (expect.is_null()) root.fail("a recipe needs an expect: block of bounds");
  r.bounds = parse_bounds(expect);
  if (const auto resume = expect.find("resume")) {
    if (!resume->is_map() || resume->size() == 0) resume->fail("expected {interrupt_at: STEP} and/or {kill: true}");
    resume->check_keys({"interrupt_at", "kill", "seed"});
    if (resume->has("interrupt_at")) {
      const Node at = resume->at("interrupt_at");
      r.interrupt_at = at.as<int64_t>();
      if (*r.interrupt_at < 1) at.fail(fmt::format("expected a step >= 1, got {}", *r.interrupt_at));
    }
    if (resume->has("kill")) {
      const Node kill = resume->at("kill");
      r.kill_resume = kill.as<bool>();
      if (r.kill_resume && r.spec.train.steps <= 0)
        kill.fail("the kill check needs a run of train.steps (this recipe trains by epochs)");
    }
    if (resume->has("seed")) {
      if (!r.kill_resume) resume->at("seed").fail("seed picks the kill check's step: add kill: true");
      const Node seed = resume->at("seed");
      const int64_t value = seed.as<int64_t>();
      if (value < 0) seed.fail(fmt::format("expected a seed >= 0, got {}", value));
      r.kill_seed = uint64_t(value);
    }
  }
  if (r.bounds.empty() && !r.interrupt_at && !r.kill_resume)
    expect.fail("expected at least one bound or a resume check");
  return r;
}

std::vector<CheckResult> check_bounds(const std::vector<Bound>& bounds, const fs::path& metrics_jsonl) {
  const std::vector<Json> records = read_metrics(metrics_jsonl);
  Records idx;
  for (const Json& r : records) {
    const std::string split = r.at("split").as_string("split");
    idx.at[{split, r.at("step").as_int("step")}] = &r;
    idx.last[split] = &r;
  }
  std::vector<CheckResult> out;
  for (const Bound& b : bounds) {
    const size_t slash = b.metric.find('/');
    const std::string split = b.metric.substr(0, slash), key = b.metric.substr(slash + 1);
    const Json* record = nullptr;
    if (b.step) {
      const auto it = idx.at.find({split, *b.step});
      record = it == idx.at.end() ? nullptr : it->second;
    } else if (const auto it = idx.last.find(split); it != idx.last.end()) {
      record = it->second;
    }
    CheckResult c;
    c.check = b.step ? fmt::format("{}@{}", b.metric, *b.step) : b.metric;
    c.bound = b.describe();
    const std::optional<double> v = metric_of(record, key);
    c.value = v ? number(*v) : fmt::format("missing (no {} record{})", split, b.step ? fmt::format(" at step {}", *b.step) : "");
    c.pass = v && std::isfinite(*v) && (!b.min || *v >= *b.min) && (!b.max || *v <= *b.max);
    out.push_back(std::move(c));
  }
  return out;
}

RecipeResult run_recipe(const Recipe& recipe, const std::string& program) {
  RecipeResult result;
  result.name = recipe.name;
  const auto start = std::chrono::steady_clock::now();
  try {
    fs::remove_all(recipe.spec.run_dir);
    const int status = train_experiment(recipe.spec, /*resume=*/false);
    DLT_CHECK(status == 0, "training stopped early (exit status {})", status);
    result.checks = check_bounds(recipe.bounds, fs::path(recipe.spec.run_dir) / "metrics.jsonl");
    if (recipe.interrupt_at) result.checks.push_back(check_resume(recipe.spec, *recipe.interrupt_at));
    if (recipe.kill_resume) result.checks.push_back(check_kill_resume(recipe, program));
  } catch (const std::exception& e) {
    result.error = e.what();
    result.checks.clear();
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

std::vector<std::string> recipe_files(const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  for (const std::string& p : paths) {
    std::error_code ec;
    DLT_CHECK(fs::exists(p, ec), "{}: no such file or folder{}", p, ec ? " (" + ec.message() + ")" : "");
    if (!fs::is_directory(p, ec)) {
      out.push_back(p);
      continue;
    }
    std::vector<std::string> in_dir;
    for (const auto& e : fs::directory_iterator(p))
      if (e.is_regular_file() && e.path().extension() == ".yaml") in_dir.push_back(e.path().string());
    DLT_CHECK(!in_dir.empty(), "{}: no *.yaml recipes in this folder", p);
    std::sort(in_dir.begin(), in_dir.end());
    out.insert(out.end(), in_dir.begin(), in_dir.end());
  }
  return out;
}

std::string results_table(const std::vector<RecipeResult>& results) {
  struct Row { std::string cells[6]; };
  std::vector<Row> rows = {{{"recipe", "check", "bound", "value", "result", "time"}}};
  for (const RecipeResult& r : results) {
    const std::string time = fmt::format("{:.1f}s", r.seconds);
    if (!r.error.empty()) rows.push_back({{r.name, "run", "-", r.error, "FAIL", time}});
    for (size_t i = 0; i < r.checks.size(); ++i) {
      const CheckResult& c = r.checks[i];
      rows.push_back({{r.name, c.check, c.bound, c.value, c.pass ? "PASS" : "FAIL", i == 0 ? time : ""}});
    }
  }
  size_t width[6] = {};
  for (const Row& row : rows)
    for (int i = 0; i < 6; ++i) width[i] = std::max(width[i], row.cells[i].size());
  std::string out;
  for (const Row& row : rows) {
    std::string line;
    for (int i = 0; i < 6; ++i) line += fmt::format("{:<{}}  ", row.cells[i], width[i]);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

std::string junit_xml(const std::vector<RecipeResult>& results) {
  const auto failures = std::count_if(results.begin(), results.end(), [](const RecipeResult& r) { return !r.pass(); });
  double total = 0;
  for (const RecipeResult& r : results) total += r.seconds;
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += fmt::format("<testsuite name=\"recipes\" tests=\"{}\" failures=\"{}\" errors=\"0\" time=\"{:.3f}\">\n",
                     results.size(), failures, total);
  for (const RecipeResult& r : results) {
    out += fmt::format("  <testcase classname=\"recipes\" name=\"{}\" time=\"{:.3f}\"", xml_escape(r.name), r.seconds);
    if (r.pass()) {
      out += "/>\n";
      continue;
    }
    std::vector<std::string> why;
    if (!r.error.empty()) why.push_back(r.error);
    for (const CheckResult& c : r.checks)
      if (!c.pass) why.push_back(c.failure());
    const std::string message = fmt::format("{}", fmt::join(why, "; "));
    out += fmt::format(">\n    <failure message=\"{}\">{}</failure>\n  </testcase>\n", xml_escape(message),
                       xml_escape(message));
  }
  out += "</testsuite>\n";
  return out;
}

}  // namespace dlt::train
