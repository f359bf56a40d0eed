#include "dlt/core/trace.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <vector>

#include <fmt/format.h>

#ifdef DLT_WITH_CUDA
#include <nvtx3/nvToolsExt.h>  // header-only; a no-op unless a tool such as Nsight Systems is attached
#endif

namespace dlt::trace {

namespace {

struct Event {
  const char* category;
  std::string name;
  double ts_us, dur_us;
};

// One buffer per thread, so recording takes no lock; the registry keeps them
// for stop() (and past their thread's end).
struct ThreadEvents {
  int tid = 0;
  std::mutex mu;  // stop() reads while the thread may still write
  std::vector<Event> events;
};

std::atomic<bool> g_on{false};
std::mutex g_registry_mu;
std::vector<std::shared_ptr<ThreadEvents>> g_threads;

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

}  // namespace

bool recording() { return g_on.load(std::memory_order_relaxed); }

void start() {
  std::lock_guard lock(g_registry_mu);
  for (const auto& t : g_threads) {
    std::lock_guard tl(t->mu);
    t->events.clear();
  }
  g_on.store(true);
}

std::string stop() {
  g_on.store(false);
  std::string out = "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n";
  bool first = true;
  std::lock_guard lock(g_registry_mu);
  for (const auto& t : g_threads) {
    std::lock_guard tl(t->mu);
    if (t->events.empty()) continue;
    out += fmt::format("{}{{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":1,\"tid\":{},\"args\":{{\"name\":\"{}\"}}}}",
                       first ? "" : ",\n", t->tid, fmt::format("thread {}", t->tid));
    first = false;
    for (const Event& e : t->events)
      out += fmt::format(",\n{{\"ph\":\"X\",\"pid\":1,\"tid\":{},\"cat\":\"{}\",\"name\":\"{}\",\"ts\":{:.3f},\"dur\":{:.3f}}}",
                         t->tid, e.category, escaped(e.name), e.ts_us, e.dur_us);
    t->events.clear();
  }
  return out + "\n]}\n";
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

}  // namespace dlt::trace
