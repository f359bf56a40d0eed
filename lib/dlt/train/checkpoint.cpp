#include "dlt/train/checkpoint.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>

#include "dlt/train/file_io.h"

namespace dlt::train {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kFormat = "dlt-checkpoint-1";
constexpr const char* kModelFile = "model.safetensors";
constexpr const char* kOptimizerFile = "optimizer.safetensors";
constexpr const char* kStateFile = "state.json";
constexpr const char* kLatestFile = "latest";

// "step-<digits>" -> the step; anything else (tmp folders, files) -> nothing.
std::optional<int64_t> parse_step_name(const std::string& name) {
  if (name.rfind("step-", 0) != 0 || name.size() == 5) return std::nullopt;
  int64_t step = 0;
  const char* end = name.data() + name.size();
  const auto [p, ec] = std::from_chars(name.data() + 5, end, step);
  if (ec != std::errc() || p != end || step < 0) return std::nullopt;
  return step;
}

}  // namespace

// ---- state.json -------------------------------------------------------------------

Json TrainState::to_json() const {
  Json rng = Json::object();
  for (const auto& [name, r] : rngs)
    rng.set(name, Json::object({{"seed", Json::unsigned_integer(r.seed)},
                                {"offset", Json::unsigned_integer(r.offset)}}));
  Json m = Json::object();
  for (const auto& [name, v] : metrics) m.set(name, Json::number(v));
  Json j = Json::object({
      {"format", Json::string(std::string(kFormat))},
      {"step", Json::integer(step)},
      {"epoch", Json::integer(epoch)},
      {"cursor", Json::object({{"epoch", Json::integer(cursor.epoch)}, {"batch", Json::integer(cursor.batch)}})},
      {"rngs", std::move(rng)},
      {"config_hash", Json::string(config_hash)},
      {"metrics", std::move(m)},
      {"precision", Json::string(precision)},
  });
  if (!files.empty()) {
    Json f = Json::object();
    for (const auto& [name, c] : files)
      f.set(name, Json::object({{"bytes", Json::integer(c.bytes)}, {"crc32", Json::string(fmt::format("{:08x}", c.crc32))}}));
    j.set("files", std::move(f));
  }
  if (loss_scale)
    j.set("loss_scale", Json::object({{"scale", Json::number(loss_scale->scale)},
                                      {"growth_tracker", Json::integer(loss_scale->growth_tracker)}}));
  return j;
}

TrainState TrainState::from_json(const Json& j) {
  DLT_CHECK(j.is_object(), "expected a JSON object");
  const std::string& format = j.at("format").as_string("format");
  DLT_CHECK(format == kFormat, "format is \"{}\", expected \"{}\"", format, kFormat);
  TrainState s;
  s.step = j.at("step").as_int("step");
  s.epoch = j.at("epoch").as_int("epoch");
  const Json& cursor = j.at("cursor");
  s.cursor.epoch = cursor.at("epoch").as_int("cursor.epoch");
  s.cursor.batch = cursor.at("batch").as_int("cursor.batch");
  DLT_CHECK(s.step >= 0 && s.epoch >= 0 && s.cursor.epoch >= 0 && s.cursor.batch >= 0,
            "step, epoch and cursor must not be negative");
  for (const auto& [name, r] : j.at("rngs").members("rngs"))
    s.rngs[name] = {r.at("seed").as_uint("rngs." + name + ".seed"),
                    r.at("offset").as_uint("rngs." + name + ".offset")};
  s.config_hash = j.at("config_hash").as_string("config_hash");
  for (const auto& [name, v] : j.at("metrics").members("metrics"))
    s.metrics[name] = v.as_double("metrics." + name);
  // Checkpoints from before mixed precision have neither: f32, no scaling.
  if (const Json* p = j.find("precision")) s.precision = p->as_string("precision");
  if (const Json* f = j.find("files")) {
    for (const auto& [name, c] : f->members("files")) {
      DLT_CHECK(!name.empty() && name.find('/') == std::string::npos && name != "." && name != "..",
                "files: \"{}\" is not a file name of the checkpoint folder", name);
      const std::string& hex = c.at("crc32").as_string("files." + name + ".crc32");
      uint32_t crc = 0;
      const auto [end, err] = std::from_chars(hex.data(), hex.data() + hex.size(), crc, 16);
      DLT_CHECK(err == std::errc() && end == hex.data() + hex.size() && hex.size() == 8,
                "files.{}.crc32: expected 8 hex digits, got \"{}\"", name, hex);
      s.files[name] = {c.at("bytes").as_int("files." + name + ".bytes"), crc};
    }
  }
  if (const Json* ls = j.find("loss_scale")) {
    s.loss_scale = amp::GradScalerState{ls->at("scale").as_double("loss_scale.scale"),
                                        ls->at("growth_tracker").as_int("loss_scale.growth_tracker")};
    DLT_CHECK(s.loss_scale->scale > 0 && s.loss_scale->growth_tracker >= 0,
              "loss_scale: scale must be positive and growth_tracker not negative, got {} and {}",
              s.loss_scale->scale, s.loss_scale->growth_tracker);
  }
  return s;
}

TrainState load_train_state(const fs::path& state_json) {
  try {
    return TrainState::from_json(parse_json(read_file(state_json)));
  } catch (const Error& e) {
    const std::string what = e.what();
    // read_file already names the file
    if (what.find(state_json.string()) != std::string::npos) throw;
    throw Error(fmt::format("{}: {}", state_json.string(), what));
  }
}

Checkpoint load_checkpoint(const fs::path& step_dir) {
  DLT_CHECK(fs::is_directory(step_dir), "checkpoint {} does not exist", step_dir.string());
  Checkpoint c;
  c.state = load_train_state(step_dir / kStateFile);
  for (const auto& [name, recorded] : c.state.files) {
    const fs::path file = step_dir / name;
    std::error_code ec;
    DLT_CHECK(fs::exists(file, ec), "{} is missing (state.json lists it)", file.string());
    const FileChecksum actual = checksum_file(file);
    DLT_CHECK(actual == recorded, "{} is corrupt: it has {}, state.json recorded {}", file.string(), actual.str(),
              recorded.str());
  }
  c.model = load_safetensors(step_dir / kModelFile).tensors;
  c.optimizer = load_safetensors(step_dir / kOptimizerFile).tensors;
  return c;
}

void check_same_tensors(const std::string& source, const TensorMap& saved, const TensorMap& current) {
  std::vector<std::string> missing, unexpected, differ;
  for (const auto& [name, t] : current) {
    const auto it = saved.find(name);
    if (it == saved.end()) {
      missing.push_back(name);
    } else if (it->second.shape() != t.shape() || it->second.dtype() != t.dtype()) {
      differ.push_back(fmt::format("{} (saved {} {}, expected {} {})", name, shape_str(it->second.shape()),
                                   it->second.dtype(), shape_str(t.shape()), t.dtype()));
    }
  }
  for (const auto& [name, t] : saved)
    if (!current.count(name)) unexpected.push_back(name);
  if (missing.empty() && unexpected.empty() && differ.empty()) return;
  std::string msg = fmt::format("{} does not match the model:", source);
  if (!missing.empty()) msg += fmt::format(" missing {};", fmt::join(missing, ", "));
  if (!unexpected.empty()) msg += fmt::format(" unexpected {};", fmt::join(unexpected, ", "));
  if (!differ.empty()) msg += fmt::format(" different {};", fmt::join(differ, ", "));
  msg.pop_back();
  throw Error(msg);
}

// ---- the store ----------------------------------------------------------------------

CheckpointStore::CheckpointStore(fs::path dir, CheckpointPolicy policy)
    : dir_(std::move(dir)), policy_(std::move(policy)) {
  DLT_CHECK(policy_.keep >= 1, "checkpoint keep must be at least 1, got {}", policy_.keep);
  remove_stale_temporaries();
}

// step-N.tmp-<pid> and latest.tmp-<pid> of processes that no longer exist
// are what a crash mid-save leaves behind.
void CheckpointStore::remove_stale_temporaries() const {
  std::error_code ec;
  if (!fs::is_directory(dir_, ec)) return;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    const std::string name = entry.path().filename().string();
    const size_t at = name.find(".tmp-");
    if (at == std::string::npos) continue;
    int pid = 0;
    const auto [p, perr] = std::from_chars(name.data() + at + 5, name.data() + name.size(), pid);
    if (perr != std::errc() || p != name.data() + name.size() || pid <= 0) continue;
    if (pid == ::getpid() || (::kill(pid, 0) != 0 && errno == ESRCH)) fs::remove_all(entry.path(), ec);
  }
}

std::vector<int64_t> CheckpointStore::steps() const {
  std::vector<int64_t> out;
  std::error_code ec;
  if (!fs::is_directory(dir_, ec)) return out;
  for (const auto& entry : fs::directory_iterator(dir_, ec))
    if (const auto step = parse_step_name(entry.path().filename().string()); step && entry.is_directory())
      out.push_back(*step);
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<fs::path> CheckpointStore::latest() const {
  // A folder is complete once renamed into place, so the highest step wins
  // even if a crash came before `latest` was rewritten.
  const auto all = steps();
  if (all.empty()) return std::nullopt;
  return dir_ / step_name(all.back());
}

fs::path CheckpointStore::save(const Checkpoint& ckpt) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  DLT_CHECK(!ec && fs::is_directory(dir_), "cannot create the checkpoint folder {}: {}", dir_.string(),
            ec ? ec.message() : "a file of that name is in the way");
  const std::string name = step_name(ckpt.state.step);
  const fs::path final_dir = dir_ / name;
  DLT_CHECK(!fs::exists(final_dir, ec), "checkpoint {} already exists; not overwriting it", final_dir.string());

  const fs::path tmp = dir_ / fmt::format("{}.tmp-{}", name, ::getpid());
  fs::remove_all(tmp, ec);
  try {
    DLT_CHECK(fs::create_directory(tmp, ec) && !ec, "cannot create {}: {}", tmp.string(), ec.message());
    TrainState with_checksums = ckpt.state;
    with_checksums.files[kModelFile] = save_safetensors(tmp / kModelFile, ckpt.model, {{"format", "pt"}});
    with_checksums.files[kOptimizerFile] = save_safetensors(tmp / kOptimizerFile, ckpt.optimizer);
    FileWriter state(tmp / kStateFile);
    state.write(with_checksums.to_json().dump() + "\n");
    state.close();
    sync_dir(tmp);
    fs::rename(tmp, final_dir, ec);
    DLT_CHECK(!ec, "cannot rename {} to {}: {}", tmp.string(), final_dir.string(), ec.message());
  } catch (const Error& e) {
    fs::remove_all(tmp, ec);
    const auto previous = latest();
    throw Error(fmt::format("checkpoint {} not written: {}; {}", name, e.what(),
                            previous ? fmt::format("{} is intact and still the latest", previous->string())
                                     : std::string("no earlier checkpoint exists")));
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
  sync_dir(dir_);
  write_file_atomic(dir_ / kLatestFile, name + "\n");
  prune();
  return final_dir;
}

void CheckpointStore::prune() const {
  const std::vector<int64_t> all = steps();
  if (int64_t(all.size()) <= policy_.keep) return;
  std::vector<int64_t> kept(all.end() - policy_.keep, all.end());
  if (!policy_.best_metric.empty()) {
    std::optional<int64_t> best;
    double best_value = 0;
    for (const int64_t step : all) {
      double v;
      try {  // an unreadable state.json cannot be the best
        const TrainState s = load_train_state(dir_ / step_name(step) / kStateFile);
        const auto it = s.metrics.find(policy_.best_metric);
        if (it == s.metrics.end() || !std::isfinite(it->second)) continue;
        v = it->second;
      } catch (const Error&) {
        continue;
      }
      if (!best || (policy_.maximize ? v > best_value : v < best_value)) {
        best = step;
        best_value = v;
      }
    }
    if (best) kept.push_back(*best);
  }
  for (const int64_t step : all) {
    if (std::find(kept.begin(), kept.end(), step) != kept.end()) continue;
    // Renamed first, so a crash mid-removal never leaves a partial step-N.
    const fs::path doomed = dir_ / fmt::format("{}.tmp-{}", step_name(step), ::getpid());
    std::error_code ec;
    fs::rename(dir_ / step_name(step), doomed, ec);
    if (!ec) fs::remove_all(doomed, ec);  // a failure only leaves an extra checkpoint
  }
}

}  // namespace dlt::train
