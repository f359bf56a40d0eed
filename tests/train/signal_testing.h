// Stop signals as they arrive in practice: sent to the process (by a shell,
// srun or scancel), not raised on one thread.
#pragma once

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "dlt/train/signals.h"

namespace dlt::train::testing {

// Sends signo to this process and waits (up to 10 s) until a stop request
// shows; returns it. The listener thread takes the signal asynchronously.
inline StopRequest send_stop_signal(int signo) {
  ::kill(::getpid(), signo);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (stop_requested() == StopRequest::none && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return stop_requested();
}

// Waits (up to 10 s) until no signo sent to this process is still pending:
// the listener thread has taken it.
inline void wait_until_taken(int signo) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    sigset_t pending;
    sigpending(&pending);
    if (sigismember(&pending, signo) != 1 || std::chrono::steady_clock::now() >= deadline) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

}  // namespace dlt::train::testing
