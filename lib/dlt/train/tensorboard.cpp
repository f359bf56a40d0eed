#include "dlt/train/tensorboard.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>

#include "dlt/core/error.h"
#include "dlt/train/file_io.h"

namespace dlt::train {

namespace fs = std::filesystem;

namespace {

// ---- CRC-32C -------------------------------------------------------------

constexpr std::array<uint32_t, 256> crc_table() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;  // reflected Castagnoli
    t[i] = c;
  }
  return t;
}
constexpr auto kCrcTable = crc_table();

// ---- protobuf wire format --------------------------------------------------

// Appends fields of one message: key = (field << 3) | wire type; varints for
// integers, 8 bytes for doubles, 4 for floats, length-delimited for strings,
// bytes and nested messages.
class Message {
 public:
  Message& varint(int field, uint64_t v) {
    key(field, 0);
    put_varint(v);
    return *this;
  }
  Message& f64(int field, double v) {
    key(field, 1);
    put_le(v);
    return *this;
  }
  Message& f32(int field, float v) {
    key(field, 5);
    put_le(v);
    return *this;
  }
  Message& bytes(int field, std::span<const uint8_t> b) {
    key(field, 2);
    put_varint(b.size());
    out_.insert(out_.end(), b.begin(), b.end());
    return *this;
  }
  Message& string(int field, const std::string& s) {
    return bytes(field, {reinterpret_cast<const uint8_t*>(s.data()), s.size()});
  }
  Message& message(int field, const Message& m) { return bytes(field, m.out_); }
  Message& packed_f64(int field, const std::vector<double>& v) {
    Message p;
    for (const double x : v) p.put_le(x);
    return bytes(field, p.out_);
  }
  const std::vector<uint8_t>& data() const { return out_; }

 private:
  void key(int field, int wire_type) { put_varint((uint64_t(field) << 3) | uint64_t(wire_type)); }
  void put_varint(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(uint8_t(v | 0x80));
      v >>= 7;
    }
    out_.push_back(uint8_t(v));
  }
  template <class T> void put_le(T v) {
    uint8_t b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));  // x86-64 is little-endian, as the format
    out_.insert(out_.end(), b, b + sizeof(T));
  }
  std::vector<uint8_t> out_;
};

// Reads the varint at `p` (advancing it), or nothing past `end`.
std::optional<uint64_t> read_varint(const uint8_t*& p, const uint8_t* end) {
  uint64_t v = 0;
  for (int shift = 0; p < end && shift < 64; shift += 7) {
    const uint8_t b = *p++;
    v |= uint64_t(b & 0x7F) << shift;
    if (!(b & 0x80)) return v;
  }
  return std::nullopt;
}

// Event.step (field 2) of an Event message; 0 when absent.
std::optional<int64_t> event_step(std::span<const uint8_t> event) {
  const uint8_t *p = event.data(), *end = p + event.size();
  int64_t step = 0;
  while (p < end) {
    const auto key = read_varint(p, end);
    if (!key) return std::nullopt;
    const int field = int(*key >> 3), type = int(*key & 7);
    if (type == 0) {
      const auto v = read_varint(p, end);
      if (!v) return std::nullopt;
      if (field == 2) step = int64_t(*v);
    } else if (type == 1 || type == 5) {
      p += type == 1 ? 8 : 4;
    } else if (type == 2) {
      const auto n = read_varint(p, end);
      if (!n || *n > uint64_t(end - p)) return std::nullopt;
      p += *n;
    } else {
      return std::nullopt;
    }
  }
  if (p != end) return std::nullopt;
  return step;
}

double now_s() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

Message event(int64_t step) {
  Message e;
  e.f64(1, now_s());
  if (step != 0) e.varint(2, uint64_t(step));
  return e;
}

// SummaryMetadata { plugin_data { plugin_name, content } }.
Message plugin(const std::string& name, const Message& content = {}) {
  Message data;
  data.string(1, name);
  if (!content.data().empty()) data.message(2, content);
  return Message().message(1, data);
}

// Summary { value { tag, metadata, (value) } } as the event's summary.
std::vector<uint8_t> summary_event(int64_t step, const std::vector<Message>& values) {
  Message summary;
  for (const Message& v : values) summary.message(1, v);
  return event(step).message(5, summary).data();
}

// hparams' HParamsPluginData { version = 0, <which> = payload }.
Message hparams_value(const std::string& tag, int which, const Message& payload) {
  Message content;
  content.message(which, payload);
  return Message().string(1, tag).message(9, plugin("hparams", content));
}

}  // namespace

uint32_t crc32c(std::span<const uint8_t> data) {
  uint32_t c = 0xFFFFFFFFu;
  for (const uint8_t b : data) c = kCrcTable[(c ^ b) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

uint32_t masked_crc32c(std::span<const uint8_t> data) {
  const uint32_t c = crc32c(data);
  return ((c >> 15) | (c << 17)) + 0xA282EAD8u;
}

std::vector<uint8_t> tfrecord(std::span<const uint8_t> data) {
  // uint64 length | uint32 masked CRC of the length | data | uint32 masked CRC of the data
  const uint64_t n = data.size();
  std::vector<uint8_t> out(16 + n);
  std::memcpy(out.data(), &n, 8);
  const uint32_t len_crc = masked_crc32c({out.data(), 8});
  std::memcpy(out.data() + 8, &len_crc, 4);
  if (n > 0) std::memcpy(out.data() + 12, data.data(), n);
  const uint32_t data_crc = masked_crc32c(data);
  std::memcpy(out.data() + 12 + n, &data_crc, 4);
  return out;
}

Histogram make_histogram(std::span<const float> values, int buckets) {
  Histogram h;
  if (values.empty()) return h;
  const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  h.min = *lo;
  h.max = *hi;
  h.num = double(values.size());
  for (const float v : values) {
    h.sum += v;
    h.sum_squares += double(v) * v;
  }
  const double width = (h.max - h.min) / buckets;
  h.bucket.assign(size_t(buckets), 0);
  for (int b = 0; b < buckets; ++b) h.bucket_limit.push_back(b + 1 == buckets ? h.max : h.min + width * (b + 1));
  for (const float v : values) {
    const int b = width > 0 ? std::min(buckets - 1, int((v - h.min) / width)) : buckets - 1;
    h.bucket[size_t(b)] += 1;
  }
  return h;
}

std::vector<std::pair<int64_t, std::vector<uint8_t>>> read_events(const fs::path& file) {
  const std::string bytes = read_file(file);
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  const uint8_t* end = p + bytes.size();
  std::vector<std::pair<int64_t, std::vector<uint8_t>>> out;
  while (end - p >= 16) {  // a record: length, its CRC, the data (maybe empty), the data's CRC
    uint64_t n = 0;
    uint32_t len_crc = 0, data_crc = 0;
    std::memcpy(&n, p, 8);
    std::memcpy(&len_crc, p + 8, 4);
    if (len_crc != masked_crc32c({p, 8}) || n > uint64_t(end - p - 16)) break;
    const std::span<const uint8_t> data(p + 12, size_t(n));
    std::memcpy(&data_crc, p + 12 + n, 4);
    if (data_crc != masked_crc32c(data)) break;
    const auto step = event_step(data);
    if (!step) break;
    out.emplace_back(*step, std::vector<uint8_t>(data.begin(), data.end()));
    p += 16 + n;
  }
  return out;
}

EventWriter::EventWriter(const fs::path& dir, std::optional<int64_t> resume_step) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (resume_step) {
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      if (entry.path().filename().string().find("tfevents") == std::string::npos) continue;
      std::string kept;
      for (const auto& [step, data] : read_events(entry.path()))
        if (step <= *resume_step) {
          const auto r = tfrecord(data);
          kept.append(reinterpret_cast<const char*>(r.data()), r.size());
        }
      write_file_atomic(entry.path(), kept);
    }
  }
  char host[256] = "localhost";
  ::gethostname(host, sizeof(host) - 1);
  static std::atomic<int> files{0};  // TensorBoard's own counter: names stay unique within a process
  path_ = dir / fmt::format("events.out.tfevents.{:010d}.{}.{}.{}", int64_t(now_s()), host, ::getpid(), files++);
  file_ = std::fopen(path_.c_str(), "ab");
  DLT_CHECK(file_, "cannot write {}: {}", path_.string(), std::strerror(errno));
  // The first event names the format (and the run's start for TensorBoard).
  write_event(event(0).string(3, "brain.Event:2").message(10, Message().string(1, "dlt")).data());
}

EventWriter::~EventWriter() {
  if (file_) std::fclose(file_);
}

void EventWriter::write_event(const std::vector<uint8_t>& e) {
  const std::vector<uint8_t> r = tfrecord(e);
  const bool ok = std::fwrite(r.data(), 1, r.size(), file_) == r.size() && std::fflush(file_) == 0;
  DLT_CHECK(ok, "cannot write {}: {}", path_.string(), std::strerror(errno));
}

void EventWriter::scalars(int64_t step, const std::vector<std::pair<std::string, double>>& values) {
  std::vector<Message> v;
  for (const auto& [tag, x] : values) v.push_back(Message().string(1, tag).f32(2, float(x)));
  write_event(summary_event(step, v));
}

void EventWriter::text(int64_t step, const std::string& tag, const std::string& markdown) {
  // TensorProto { dtype: DT_STRING (7), tensor_shape { dim { size: 1 } }, string_val }.
  Message tensor;
  tensor.varint(1, 7).message(2, Message().message(2, Message().varint(1, 1))).string(8, markdown);
  write_event(summary_event(step, {Message().string(1, tag).message(9, plugin("text")).message(8, tensor)}));
}

void EventWriter::histogram(int64_t step, const std::string& tag, const Histogram& h) {
  Message histo;
  histo.f64(1, h.min).f64(2, h.max).f64(3, h.num).f64(4, h.sum).f64(5, h.sum_squares);
  histo.packed_f64(6, h.bucket_limit).packed_f64(7, h.bucket);
  write_event(summary_event(step, {Message().string(1, tag).message(5, histo)}));
}

void EventWriter::session_start(const std::map<std::string, HParam>& hparams) {
  // SessionStartInfo { map<string, google.protobuf.Value> hparams = 1; double start_time_secs = 5 }.
  Message info;
  for (const auto& [name, value] : hparams) {
    Message v;  // google.protobuf.Value: number 2, string 3, bool 4
    if (const auto* d = std::get_if<double>(&value)) v.f64(2, *d);
    if (const auto* s = std::get_if<std::string>(&value)) v.string(3, *s);
    if (const auto* b = std::get_if<bool>(&value)) v.varint(4, *b ? 1 : 0);
    info.message(1, Message().string(1, name).message(2, v));
  }
  info.f64(5, now_s());
  write_event(summary_event(0, {hparams_value("_hparams_/session_start_info", 3, info)}));
}

void EventWriter::session_end(bool success) {
  // SessionEndInfo { Status status = 1 (1: success, 3: failure); double end_time_secs = 2 }.
  Message info;
  info.varint(1, success ? 1 : 3).f64(2, now_s());
  write_event(summary_event(0, {hparams_value("_hparams_/session_end_info", 4, info)}));
}

}  // namespace dlt::train
