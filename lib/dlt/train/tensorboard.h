// TensorBoard event files, written directly: TFRecord framing (length,
// masked CRC-32C of the length, data, masked CRC-32C of the data) around
// hand-encoded Event protobuf messages. No TensorFlow and no protobuf
// library: scalars, text, histograms and the hparams plugin's session
// records are a few nested messages each.
//
// A file is `events.out.tfevents.<unix time>.<host>.<pid>.<n>` in the run
// folder (TensorBoard's naming; any name containing "tfevents" is found).
// Every event is flushed as it is written, so a running TensorBoard shows
// the run live and a killed run loses at most the event being written.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace dlt::train {

// CRC-32C (Castagnoli), and TFRecord's masked form of it.
uint32_t crc32c(std::span<const uint8_t> data);
uint32_t masked_crc32c(std::span<const uint8_t> data);

// One TFRecord around `data`.
std::vector<uint8_t> tfrecord(std::span<const uint8_t> data);

using HParam = std::variant<double, bool, std::string>;

struct Histogram {
  double min = 0, max = 0, num = 0, sum = 0, sum_squares = 0;
  std::vector<double> bucket_limit, bucket;  // right edges and counts
};
// Histogram of `values` in `buckets` equal-width buckets between min and max.
Histogram make_histogram(std::span<const float> values, int buckets = 30);

class EventWriter {
 public:
  // Opens a new event file in `dir` (created if needed). A resumed run
  // passes the step it resumes from: events of later steps in the folder's
  // existing event files are removed first (the resumed run writes them
  // again), so TensorBoard never shows a step twice.
  explicit EventWriter(const std::filesystem::path& dir, std::optional<int64_t> resume_step = std::nullopt);
  ~EventWriter();
  EventWriter(const EventWriter&) = delete;
  EventWriter& operator=(const EventWriter&) = delete;

  // Scalars of one step, as one event (tags such as "train/loss").
  void scalars(int64_t step, const std::vector<std::pair<std::string, double>>& values);
  // Markdown text (the text plugin), e.g. the resolved config.
  void text(int64_t step, const std::string& tag, const std::string& markdown);
  void histogram(int64_t step, const std::string& tag, const Histogram& h);
  // The hparams plugin: this run's hyperparameters (its metrics are the
  // scalars of the same folder), and its end.
  void session_start(const std::map<std::string, HParam>& hparams);
  void session_end(bool success);

  const std::filesystem::path& path() const { return path_; }

 private:
  void write_event(const std::vector<uint8_t>& event);

  std::filesystem::path path_;
  std::FILE* file_ = nullptr;
};

// The events of a file as (step, Event message bytes); stops at a torn or
// corrupt record (a run killed mid-write). For resumption and tests.
std::vector<std::pair<int64_t, std::vector<uint8_t>>> read_events(const std::filesystem::path& file);

}  // namespace dlt::train
