#include "dlt/train/metrics_log.h"

#include <cerrno>
#include <cstring>
#include <sstream>

#include "dlt/core/error.h"
#include "dlt/train/file_io.h"

namespace dlt::train {

namespace fs = std::filesystem;

Json MetricsRecord::to_json() const {
  Json j = Json::object({{"step", Json::integer(step)},
                         {"epoch", Json::integer(epoch)},
                         {"split", Json::string(split)},
                         {"loss", Json::number(loss)}});
  if (accuracy) j.set("accuracy", Json::number(*accuracy));
  if (perplexity) j.set("perplexity", Json::number(*perplexity));
  if (lr) j.set("lr", Json::number(*lr));
  if (samples_per_s) j.set("samples_per_s", Json::number(*samples_per_s));
  if (grad_norm) j.set("grad_norm", Json::number(*grad_norm));
  if (tflops) j.set("tflops", Json::number(*tflops));
  if (mfu) j.set("mfu", Json::number(*mfu));
  if (time) j.set("time", Json::number(*time));
  if (loss_scale) j.set("loss_scale", Json::number(*loss_scale));
  if (skipped_steps) j.set("skipped_steps", Json::number(*skipped_steps));
  return j;
}

std::vector<Json> read_metrics(const fs::path& path) {
  std::istringstream in(read_file(path));
  std::vector<Json> out;
  int line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (line.empty()) continue;
    try {
      out.push_back(parse_json(line));
    } catch (const Error& e) {
      throw Error(fmt::format("{}:{}: {}", path.string(), line_no, e.what()));
    }
  }
  return out;
}

MetricsLog::MetricsLog(fs::path path, std::optional<int64_t> resume_step) : path_(std::move(path)) {
  std::error_code ec;
  if (resume_step && fs::exists(path_, ec)) {
    // Keep what the resumed run will not repeat; a torn last line (a crash
    // mid-write) is dropped with the rest.
    std::istringstream in(read_file(path_));
    std::string kept;
    for (std::string line; std::getline(in, line);) {
      try {
        if (parse_json(line).at("step").as_int("step") <= *resume_step) kept += line + "\n";
      } catch (const Error&) {
      }
    }
    write_file_atomic(path_, kept);
  }
  file_ = std::fopen(path_.c_str(), resume_step ? "a" : "w");
  DLT_CHECK(file_, "cannot write {}: {}", path_.string(), std::strerror(errno));
}

MetricsLog::~MetricsLog() {
  if (file_) std::fclose(file_);
}

void MetricsLog::write(const MetricsRecord& r) {
  const std::string line = r.to_json().dump() + "\n";
  const bool ok = std::fwrite(line.data(), 1, line.size(), file_) == line.size() && std::fflush(file_) == 0;
  DLT_CHECK(ok, "cannot write {}: {}", path_.string(), std::strerror(errno));
}

}  // namespace dlt::train
