#include "dlt/train/signals.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <thread>

namespace dlt::train {

namespace {

std::atomic<int> g_request{int(StopRequest::none)};
bool g_installed = false;
std::atomic<bool> g_messages{true};
static_assert(std::atomic<int>::is_always_lock_free, "signal handlers need a lock-free flag");

void say(const char* text) {  // write(2) is async-signal-safe; fprintf is not
  const ssize_t ignored = ::write(STDERR_FILENO, text, std::strlen(text));
  (void)ignored;
}

extern "C" void on_stop_signal(int signo) {
  const StopRequest r = signo == SIGINT    ? StopRequest::interrupt
                        : signo == SIGTERM ? StopRequest::terminate
                                           : StopRequest::user1;
  int expected = int(StopRequest::none);
  if (g_request.compare_exchange_strong(expected, int(r))) {
    if (!g_messages.load()) return;
    say(signo == SIGINT ? "\nstop requested (SIGINT): finishing this step and writing a checkpoint (Ctrl-C again "
                          "quits at once)\n"
        : signo == SIGTERM ? "\nstop requested (SIGTERM): finishing this step and writing a checkpoint\n"
                           : "\nstop requested (SIGUSR1): finishing this step and writing a checkpoint\n");
    return;
  }
  if (signo == SIGINT) {
    say("\nsecond interrupt: exiting without a checkpoint\n");
    ::_exit(130);
  }
}

constexpr int kStopSignals[] = {SIGINT, SIGTERM, SIGUSR1};

sigset_t stop_signal_set() {
  sigset_t set;
  sigemptyset(&set);
  for (const int s : kStopSignals) sigaddset(&set, s);
  return set;
}

// Which thread runs the handler matters. oneDNN 2.x's JIT f32 GEMM kernels
// point rsp at a heap workspace while they run (oneDNN issue #4845, fixed in
// 3.11), so a handler that interrupts one writes its signal frame into the
// heap. The installing thread therefore blocks the stop signals, every
// thread it starts later (OpenMP's, MPI's, the loaders') inherits the mask,
// and this thread, which never computes, is left to take them.
void start_listener() {
  static std::atomic<pid_t> started_in{0};  // per process: a forked child starts its own
  if (started_in.exchange(::getpid()) == ::getpid()) return;
  std::thread([] {
    const sigset_t set = stop_signal_set();
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
    for (;;) ::pause();  // returns after each handler; the process's exit ends it
  }).detach();
}

void set_handler(int signo, void (*handler)(int)) {
  struct sigaction sa {};
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;  // reads in loader threads must not fail with EINTR
  sigaction(signo, &sa, nullptr);
}

}  // namespace

void install_stop_handlers() {
  clear_stop_request();
  const sigset_t set = stop_signal_set();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  for (const int s : kStopSignals) set_handler(s, on_stop_signal);
  start_listener();
  g_installed = true;
}

void ensure_stop_handlers() {
  if (!g_installed) install_stop_handlers();
}

void set_stop_messages(bool on) { g_messages.store(on); }

// The signals stay blocked: OpenMP starts its workers lazily, from whichever
// thread's mask is current, and a worker started between two trainings (a
// recipe list, a resume check) would otherwise take the next training's
// signals inside a GEMM. The listener still takes them, and the default
// action ends the process as it would have.
void restore_default_handlers() {
  for (const int s : kStopSignals) set_handler(s, SIG_DFL);
  g_installed = false;
}

StopRequest stop_requested() { return StopRequest(g_request.load()); }
void clear_stop_request() { g_request.store(int(StopRequest::none)); }

int exit_status(StopRequest r) {
  switch (r) {
    case StopRequest::none: return 0;
    case StopRequest::interrupt: return 128 + SIGINT;
    case StopRequest::terminate: return 128 + SIGTERM;
    case StopRequest::user1: return 128 + SIGUSR1;
  }
  return 1;
}

std::string_view signal_name(StopRequest r) {
  switch (r) {
    case StopRequest::none: return "none";
    case StopRequest::interrupt: return "SIGINT";
    case StopRequest::terminate: return "SIGTERM";
    case StopRequest::user1: return "SIGUSR1";
  }
  return "?";
}

}  // namespace dlt::train
