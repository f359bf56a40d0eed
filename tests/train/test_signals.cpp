// The stop signals: each sets its request and exit status, a second Ctrl-C
// exits at once, and no handler runs on a thread that computes.
#include <gtest/gtest.h>

#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "dlt/ops/ops.h"
#include "tests/test_util.h"
#include "tests/train/signal_testing.h"

namespace dlt::train {
namespace {

using testing::send_stop_signal;
using testing::wait_until_taken;

bool blocks_stop_signals() {
  sigset_t mask;
  pthread_sigmask(SIG_BLOCK, nullptr, &mask);
  return sigismember(&mask, SIGINT) == 1 && sigismember(&mask, SIGTERM) == 1 && sigismember(&mask, SIGUSR1) == 1;
}

TEST(Signals, EachSignalSetsItsRequestAndExitStatus) {
  const std::pair<int, StopRequest> cases[] = {
      {SIGINT, StopRequest::interrupt}, {SIGTERM, StopRequest::terminate}, {SIGUSR1, StopRequest::user1}};
  for (const auto& [signo, request] : cases) {
    install_stop_handlers();
    EXPECT_EQ(stop_requested(), StopRequest::none);
    EXPECT_EQ(send_stop_signal(signo), request);
    ::kill(::getpid(), SIGUSR1);  // a later signal does not replace the first
    wait_until_taken(SIGUSR1);
    EXPECT_EQ(stop_requested(), request);
  }
  restore_default_handlers();
  clear_stop_request();
  EXPECT_EQ(exit_status(StopRequest::interrupt), 130);
  EXPECT_EQ(exit_status(StopRequest::terminate), 143);
  EXPECT_EQ(exit_status(StopRequest::user1), 138);
}

TEST(Signals, ASecondInterruptExitsAtOnceWith130) {
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {  // no gtest assertions in the child: its exit status says it all
    install_stop_handlers();
    // Two SIGINTs pending together would merge into one: the second waits for the first.
    const bool first = send_stop_signal(SIGINT) == StopRequest::interrupt;
    if (first) ::kill(::getpid(), SIGINT);
    ::sleep(10);
    ::_exit(first ? 0 : 1);  // not reached if the second interrupt ended the process
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 130);
}

TEST(Signals, TheInstallingThreadAndThoseItStartsBlockThem) {
  install_stop_handlers();
  EXPECT_TRUE(blocks_stop_signals());
  bool started_blocked = false;
  std::thread([&] { started_blocked = blocks_stop_signals(); }).join();
  EXPECT_TRUE(started_blocked);
  restore_default_handlers();
  // Threads started between two trainings (OpenMP's, lazily) block them too.
  bool started_after_blocked = false;
  std::thread([&] { started_after_blocked = blocks_stop_signals(); }).join();
  EXPECT_TRUE(started_after_blocked);
}

// After training the default actions are back: SIGTERM ends the process,
// taken by the listener thread while the others keep blocking it.
TEST(Signals, AfterRestoringASignalEndsTheProcessByItsDefaultAction) {
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    install_stop_handlers();
    restore_default_handlers();
    ::kill(::getpid(), SIGTERM);
    ::sleep(10);
    ::_exit(0);  // not reached if SIGTERM ended the process
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGTERM);
}

// oneDNN 2.x's JIT f32 GEMMs (on AVX2 and AVX-512 CPUs) point rsp into the
// heap while they run; a handler that interrupted one wrote its frame there
// and a stopped distributed run died with "free(): invalid pointer". With
// the handler kept off compute threads, a stream of signals during GEMMs
// leaves the heap and every product intact.
TEST(Signals, AStreamOfSignalsDuringGemmsLeavesHeapAndResultsIntact) {
  const dlt::testing::ThreadCountGuard threads;
  set_num_threads(1);  // OpenMP threads started before install_stop_handlers() would not block them
  install_stop_handlers();
  const Tensor a = randn({16, 1024}), b = randn({1024, 1024});
  const Tensor expected = matmul(a, b);
  std::atomic<bool> done{false};
  int64_t sent = 0;
  std::thread sender([&] {
    while (!done.load()) {
      ::kill(::getpid(), SIGUSR1);
      ++sent;
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  });
  int64_t mismatches = 0;
  for (int i = 0; i < 400; ++i) mismatches += !dlt::testing::bitwise_equal(matmul(a, b), expected);
  done = true;
  sender.join();
  wait_until_taken(SIGUSR1);  // not after restoring the default action
  restore_default_handlers();
  EXPECT_EQ(stop_requested(), StopRequest::user1);
  clear_stop_request();
  EXPECT_EQ(mismatches, 0);
  EXPECT_GT(sent, 100);
}

}  // namespace
}  // namespace dlt::train
