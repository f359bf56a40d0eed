// Stop signals as they arrive in practice: sent to the process (by a shell,
// srun or scancel), not raised on one thread.
#pragma once

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "dlt/train/signals.h"

namespace dlt::train::testing {

// Polls done() every millisecond until it holds or 10 s have passed; its last answer.
template <class Done> bool wait_until(Done&& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return done();
}

// Sends signo to this process and waits until a stop request shows; returns
// it. The listener thread takes the signal asynchronously.
inline StopRequest send_stop_signal(int signo) {
  ::kill(::getpid(), signo);
  wait_until([] { return stop_requested() != StopRequest::none; });
  return stop_requested();
}

// Waits until no signo sent to this process is still pending: the listener
// thread has taken it.
inline void wait_until_taken(int signo) {
  wait_until([signo] {
    sigset_t pending;
    sigpending(&pending);
    return sigismember(&pending, signo) != 1;
  });
}

}  // namespace dlt::train::testing
