// A process group: the ranks of a data-parallel run and the collectives
// between them. One interface, three backends: `local` (one rank: every
// collective is the identity), `mpi` (OpenMPI; CPU tensors) and `nccl`
// (CUDA tensors; its unique id is broadcast over MPI).
//
// Every collective is issued in the same order on every rank (the caller's
// job, as with MPI and NCCL). None waits forever: a collective that has not
// completed after `timeout_s` ends the whole job with a message naming the
// rank, the collective and its sequence number (abort(), never a hang).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "dlt/core/tensor.h"

namespace dlt::dist {

enum class ReduceOp { sum, max, min };
std::string_view reduce_op_name(ReduceOp op);

// An asynchronous collective in flight. wait() blocks (up to the group's
// timeout) until its result is in the output tensor.
class Work {
 public:
  virtual ~Work() = default;
  virtual bool test() = 0;  // done? (drives progress; never blocks)
  virtual void wait() = 0;
};

struct GroupStats {
  int64_t collectives = 0;  // collectives issued since start (barriers included)
  int64_t bytes = 0;        // bytes contributed by this rank
  double wait_s = 0;        // time spent blocked in wait()
};

class ProcessGroup {
 public:
  virtual ~ProcessGroup() = default;

  virtual std::string_view backend() const = 0;  // "local", "mpi", "nccl"
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  // Ranks on this node and this rank's index among them (for threads and GPUs).
  virtual int local_rank() const = 0;
  virtual int local_world_size() const = 0;

  // In place over `t` (contiguous). max/min only where the backend has them.
  virtual std::unique_ptr<Work> all_reduce_async(Tensor t, ReduceOp op) = 0;
  // `in` holds world_size equal slices; this rank's reduced slice goes to `out`.
  virtual std::unique_ptr<Work> reduce_scatter_async(Tensor in, Tensor out, ReduceOp op) = 0;
  // `out` receives every rank's `in`, in rank order.
  virtual std::unique_ptr<Work> all_gather_async(Tensor in, Tensor out) = 0;
  virtual void broadcast(Tensor t, int root) = 0;
  virtual void barrier() = 0;

  void all_reduce(Tensor t, ReduceOp op) { all_reduce_async(std::move(t), op)->wait(); }
  void reduce_scatter(Tensor in, Tensor out, ReduceOp op) {
    reduce_scatter_async(std::move(in), std::move(out), op)->wait();
  }
  void all_gather(Tensor in, Tensor out) { all_gather_async(std::move(in), std::move(out))->wait(); }

  // Ends every rank of the job now with `exit_code` (MPI_Abort, ncclCommAbort).
  [[noreturn]] virtual void abort(int exit_code) = 0;

  const GroupStats& stats() const { return stats_; }
  double timeout_s() const { return timeout_s_; }
  void set_timeout(double seconds) { timeout_s_ = seconds; }

  bool is_main() const { return rank() == 0; }

 protected:
  GroupStats stats_;
  double timeout_s_ = 600;
};

// How a backend's Work::wait() waits on the host: spins briefly (small
// collectives finish in microseconds), then polls every 50 us, running
// `check` at each such poll (it may end the job on an asynchronous error);
// once `timeout_s` have passed, calls `on_timeout` with the seconds waited,
// which must not return. Returns the seconds waited.
double poll_until(const std::function<bool()>& done, double timeout_s,
                  const std::function<void(double waited)>& on_timeout, const std::function<void()>& check = {});

// A group of one rank: every collective leaves its tensors as they are.
std::unique_ptr<ProcessGroup> make_local_group();

}  // namespace dlt::dist
