#include "dlt/core/trace.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include <fmt/format.h>

#include "dlt/core/device_runtime.h"

#ifdef DLT_WITH_CUDA
#include <nvtx3/nvToolsExt.h>  // header-only; a no-op unless a tool such as Nsight Systems is attached
#endif

namespace dlt::trace {

namespace {

struct Event {
  const char* category;
  std::string name;
  double ts_us, dur_us;
  const char* op = nullptr;  // the op of an "op" range
};

// An op's kernel timed by its device's clock; resolved by stop().
struct DeviceRange {
  Device device;
  const char* op;
  std::string name;
  uint64_t start_mark, end_mark;
};

// One buffer per thread, so recording takes no lock; the registry keeps them
// for stop() (and past their thread's end).
struct ThreadEvents {
  int tid = 0;
  std::mutex mu;  // stop() reads while the thread may still write
  std::vector<Event> events;
  std::vector<DeviceRange> device_ranges;
};

std::atomic<bool> g_tracing{false};
std::mutex g_registry_mu;
std::vector<std::shared_ptr<ThreadEvents>> g_threads;

// Per device of this trace: a mark taken while the device was idle and the
// host time it was taken at, to place device times on the host's timeline.
struct DeviceOrigin {
  uint64_t mark;
  double host_us;
};
std::mutex g_origin_mu;
std::map<std::pair<int, int>, DeviceOrigin> g_origins;

ThreadEvents& mine() {
  thread_local std::shared_ptr<ThreadEvents> t = [] {
    auto p = std::make_shared<ThreadEvents>();
    std::lock_guard lock(g_registry_mu);
    p->tid = int(g_threads.size()) + 1;
    g_threads.push_back(p);
    return p;
  }();
  return *t;
}

double now_us() {
  static const auto t0 = std::chrono::steady_clock::now();
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
}

std::string escaped(std::string_view s) {
  std::string out;
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;
    out += c;
  }
  return out;
}

std::pair<int, int> device_key(Device d) { return {static_cast<int>(d.type), d.index}; }

// The device's clock, when its backend has one.
DeviceRuntime* clock_of(Device d) { return d.is_cpu() ? nullptr : device_runtime(d.type); }

// ---- the op table ---------------------------------------------------------------------

enum class TableMode { off, ops, shapes };

TableMode table_mode() {
  static const TableMode mode = [] {
    const char* env = std::getenv("DLT_PROFILE_OPS");
    if (!env || !*env || std::string_view(env) == "0") return TableMode::off;
    return std::string_view(env) == "shapes" ? TableMode::shapes : TableMode::ops;
  }();
  return mode;
}

struct OpTotals {
  int64_t calls = 0;
  double us = 0;
};
using OpTable = std::map<std::string, OpTotals>;

void count(OpTable& table, const std::string& key, double us) {
  OpTotals& t = table[key];
  ++t.calls;
  t.us += us;
}

// The 40 largest rows, with each one's share of all time in ops (no final newline).
std::string format_table(const std::string& title, const OpTable& table) {
  std::vector<std::pair<double, const std::string*>> order;
  double all = 0;
  for (const auto& [key, t] : table) {
    order.emplace_back(t.us, &key);
    all += t.us;
  }
  if (order.empty()) return "";
  std::sort(order.rbegin(), order.rend());
  if (order.size() > 40) order.resize(40);
  std::string out = fmt::format("{}: {:.3f} s in kernels\n", title, all * 1e-6);
  out += fmt::format("{:>10} {:>12} {:>8}  {}", "calls", "total ms", "share", "op");
  for (const auto& [us, key] : order) {
    const OpTotals& t = table.at(*key);
    out += fmt::format("\n{:>10} {:>12.2f} {:>7.1f}%  {}", t.calls, 1e-3 * t.us, all > 0 ? 100 * t.us / all : 0.0,
                       *key);
  }
  return out;
}

// DLT_PROFILE_OPS's table of the whole process, printed from a static
// destructor: it outlives every caller.
class ProcessTable {
 public:
  void add(const std::string& key, double us) {
    std::lock_guard lock(mu_);
    count(table_, key, us);
  }
  ~ProcessTable() {
    const std::string text = format_table("op profile (DLT_PROFILE_OPS)", table_);
    if (!text.empty()) fmt::print(stderr, "\n{}\n", text);
  }

 private:
  std::mutex mu_;
  OpTable table_;
};

ProcessTable& process_table() {
  static ProcessTable t;
  return t;
}

// ---- the Chrome trace -----------------------------------------------------------------

void append_event(std::string& out, int tid, const Event& e) {
  out += fmt::format(",\n{{\"ph\":\"X\",\"pid\":1,\"tid\":{},\"cat\":\"{}\",\"name\":\"{}\",\"ts\":{:.3f},\"dur\":{:.3f}}}",
                     tid, e.category, escaped(e.name), e.ts_us, e.dur_us);
}

void append_thread_name(std::string& out, int tid, const std::string& name) {
  out += fmt::format(",\n{{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":1,\"tid\":{},\"args\":{{\"name\":\"{}\"}}}}",
                     tid, name);
}

// Device ranges placed on the host timeline; releases their marks.
std::vector<std::pair<Device, Event>> resolve(std::vector<DeviceRange>& ranges) {
  std::vector<std::pair<Device, Event>> out;
  std::lock_guard lock(g_origin_mu);
  for (DeviceRange& r : ranges) {
    DeviceRuntime* clock = clock_of(r.device);
    const DeviceOrigin& origin = g_origins.at(device_key(r.device));
    const double start = origin.host_us + clock->elapsed_us(origin.mark, r.start_mark);
    const double dur = clock->elapsed_us(r.start_mark, r.end_mark);
    out.push_back({r.device, Event{"kernel", std::move(r.name), start, dur, r.op}});
    clock->release_mark(r.start_mark);
    clock->release_mark(r.end_mark);
  }
  ranges.clear();
  return out;
}

void forget_origins() {
  std::lock_guard lock(g_origin_mu);
  for (const auto& [key, origin] : g_origins)
    clock_of(Device{static_cast<DeviceType>(key.first), key.second})->release_mark(origin.mark);
  g_origins.clear();
}

}  // namespace

bool tracing() { return g_tracing.load(std::memory_order_relaxed); }
bool recording() { return tracing() || table_mode() != TableMode::off; }
bool op_table_enabled() { return table_mode() != TableMode::off; }

void start() {
  std::lock_guard lock(g_registry_mu);
  for (const auto& t : g_threads) {
    std::lock_guard tl(t->mu);
    t->events.clear();
    t->device_ranges.clear();
  }
  g_tracing.store(true);
}

Recorded stop() {
  g_tracing.store(false);
  std::string json = "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n";
  json += R"({"ph":"M","name":"process_name","pid":1,"args":{"name":"dlt"}})";
  OpTable host_ops, device_ops;
  std::map<std::pair<int, int>, std::vector<Event>> by_device;
  std::lock_guard lock(g_registry_mu);
  for (const auto& t : g_threads) {
    std::lock_guard tl(t->mu);
    if (!t->events.empty()) append_thread_name(json, t->tid, fmt::format("thread {}", t->tid));
    for (const Event& e : t->events) {
      append_event(json, t->tid, e);
      if (e.op) count(host_ops, e.op, e.dur_us);
    }
    t->events.clear();
    for (auto& [device, e] : resolve(t->device_ranges)) {
      count(device_ops, e.op, e.dur_us);
      by_device[device_key(device)].push_back(std::move(e));
    }
  }
  forget_origins();
  // One track per device, after the host threads; its ranges never overlap
  // (one stream runs one kernel after another).
  int tid = 1000;
  for (auto& [key, events] : by_device) {
    ++tid;
    const Device d{static_cast<DeviceType>(key.first), key.second};
    append_thread_name(json, tid, fmt::format("{} kernels (device clock)", d.str()));
    std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) { return a.ts_us < b.ts_us; });
    for (const Event& e : events) append_event(json, tid, e);
  }
  json += "\n]}\n";
  // Ops on a device are timed by its clock; on the CPU, by the host's.
  for (const auto& [op, t] : device_ops) host_ops.erase(op);
  host_ops.merge(device_ops);
  return {std::move(json), format_table("ops of the profiled steps", host_ops)};
}

void Scope::begin(const char* category, std::string name) {
  category_ = category;
  name_ = std::move(name);
#ifdef DLT_WITH_CUDA
  nvtxRangePushA(name_.c_str());  // the same ranges for Nsight's timeline
#endif
  start_us_ = now_us();
}

void Scope::end() {
  const double end_us = now_us();
#ifdef DLT_WITH_CUDA
  nvtxRangePop();
#endif
  ThreadEvents& t = mine();
  std::lock_guard lock(t.mu);
  t.events.push_back({category_, std::move(name_), start_us_, end_us - start_us_});
}

void OpScope::begin(const char* op, Device device, std::string label) {
  op_ = op;
  device_ = device;
  name_ = std::move(label);
  if (op_table_enabled()) synchronize(device);  // time the kernel, not the queue before it
  traced_ = tracing();
  if (traced_) {
#ifdef DLT_WITH_CUDA
    nvtxRangePushA(name_.c_str());
#endif
    if (DeviceRuntime* clock = clock_of(device)) {
      {
        std::lock_guard lock(g_origin_mu);
        if (!g_origins.contains(device_key(device))) {
          synchronize(device);  // idle: the mark is taken now
          g_origins[device_key(device)] = {clock->mark(device.index), now_us()};
        }
      }
      device_start_ = clock->mark(device.index);
    }
  }
  start_us_ = now_us();
}

void OpScope::end() {
  if (op_table_enabled()) synchronize(device_);
  const double end_us = now_us();
  if (op_table_enabled())
    process_table().add(table_mode() == TableMode::shapes ? name_ : std::string(op_), end_us - start_us_);
  if (!traced_) return;
#ifdef DLT_WITH_CUDA
  nvtxRangePop();
#endif
  if (!tracing()) {  // the trace stopped while this op ran
    if (device_start_) clock_of(device_)->release_mark(device_start_);
    return;
  }
  ThreadEvents& t = mine();
  std::lock_guard lock(t.mu);
  if (device_start_) t.device_ranges.push_back({device_, op_, name_, device_start_, clock_of(device_)->mark(device_.index)});
  t.events.push_back({"op", std::move(name_), start_us_, end_us - start_us_, op_});
}

}  // namespace dlt::trace
