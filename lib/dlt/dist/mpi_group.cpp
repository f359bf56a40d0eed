#include "dlt/dist/mpi_group.h"

#include <mpi.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "dlt/core/error.h"
#include "dlt/core/trace.h"

namespace dlt::dist {

namespace {

MPI_Datatype mpi_type(DType t) {
  switch (t) {
    case DType::f32: return MPI_FLOAT;
    case DType::f64: return MPI_DOUBLE;
    case DType::i32: return MPI_INT32_T;
    case DType::i64: return MPI_INT64_T;
    case DType::u8: return MPI_UINT8_T;
    case DType::boolean: return MPI_C_BOOL;
    case DType::bf16:
    case DType::f16: return MPI_UINT16_T;  // summed by the ops below
    default: break;
  }
  throw Error(fmt::format("the MPI process group cannot reduce {} tensors (f32, f64, bf16, f16, i32, i64, u8, bool)", t));
}

// MPI has no 16-bit float types: their sums are user-defined ops over
// uint16 words, each element widened to float, added and rounded back once
// (what NCCL's bf16/f16 sums do).
template <class T> void sum_16bit(void* in, void* inout, int* len, MPI_Datatype*) {
  const T* a = static_cast<const T*>(in);
  T* b = static_cast<T*>(inout);
  for (int i = 0; i < *len; ++i) b[i] = T(float(a[i]) + float(b[i]));
}

MPI_Op mpi_op(ReduceOp op, DType t) {
  if (t == DType::bf16 || t == DType::f16) {
    DLT_CHECK(op == ReduceOp::sum, "the MPI process group sums {} tensors; it has no max or min for them", t);
    // Created once, after MPI_Init (the group exists only then), never freed.
    static const MPI_Op bf16_sum = [] {
      MPI_Op o;
      MPI_Op_create(&sum_16bit<BFloat16>, 1, &o);
      return o;
    }();
    static const MPI_Op f16_sum = [] {
      MPI_Op o;
      MPI_Op_create(&sum_16bit<Half>, 1, &o);
      return o;
    }();
    return t == DType::bf16 ? bf16_sum : f16_sum;
  }
  switch (op) {
    case ReduceOp::sum: return MPI_SUM;
    case ReduceOp::max: return MPI_MAX;
    case ReduceOp::min: return MPI_MIN;
  }
  return MPI_SUM;
}

int64_t nbytes(const Tensor& t) { return t.numel() * int64_t(t.element_size()); }

void check_tensor(const Tensor& t, const char* what) {
  DLT_ASSERT(t.defined() && t.device().is_cpu() && t.is_contiguous(), "MPI {} needs a contiguous CPU tensor", what);
}

// Ends the job when one collective outlasts the timeout. MPI's blocking
// collectives cannot be abandoned, so a thread of its own watches the clock:
// it names the collective and exits the process, which makes mpirun (or
// srun --kill-on-bad-exit) end every rank.
class Watchdog {
 public:
  explicit Watchdog(int rank) : rank_(rank), thread_([this] { watch(); }) {}
  ~Watchdog() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }

  void arm(const char* what, int64_t seq, int64_t bytes, double timeout_s) {
    std::lock_guard lock(mu_);
    what_ = what;
    seq_ = seq;
    bytes_ = bytes;
    timeout_s_ = timeout_s;
    started_ = clock::now();
    armed_ = true;
    cv_.notify_one();
  }
  void disarm() {
    std::lock_guard lock(mu_);
    armed_ = false;
  }

 private:
  using clock = std::chrono::steady_clock;

  void watch() {
    std::unique_lock lock(mu_);
    while (!stop_) {
      if (!armed_) {
        cv_.wait(lock);
        continue;
      }
      const auto deadline = started_ + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(timeout_s_));
      if (clock::now() < deadline) {
        cv_.wait_until(lock, deadline);
        continue;
      }
      std::fprintf(stderr,
                   "error: rank %d: %s #%lld (%lld bytes) did not complete within %.0f s: another rank has died, "
                   "hangs or stopped taking part (train.distributed.timeout_s); ending the job\n",
                   rank_, what_, static_cast<long long>(seq_), static_cast<long long>(bytes_), timeout_s_);
      std::fflush(stderr);
      std::_Exit(1);
    }
  }

  const int rank_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false, armed_ = false;
  const char* what_ = "";
  int64_t seq_ = 0, bytes_ = 0;
  double timeout_s_ = 0;
  clock::time_point started_;
  std::thread thread_;  // last: starts once the rest exists
};

// MPI collectives complete when they are issued: OpenMPI's blocking
// collectives (its tuned algorithms) measured 2-3x faster here than its
// non-blocking ones, which progress only while a rank polls; and a CPU rank
// has no spare core to overlap them with its own backward pass.
class DoneWork final : public Work {
 public:
  bool test() override { return true; }
  void wait() override {}
};

class MpiGroup final : public ProcessGroup {
 public:
  MpiGroup() {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    MPI_Comm local;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &local);
    MPI_Comm_rank(local, &local_rank_);
    MPI_Comm_size(local, &local_size_);
    MPI_Comm_free(&local);
    watchdog_ = std::make_unique<Watchdog>(rank_);
  }

  std::string_view backend() const override { return "mpi"; }
  int rank() const override { return rank_; }
  int world_size() const override { return size_; }
  int local_rank() const override { return local_rank_; }
  int local_world_size() const override { return local_size_; }

  std::unique_ptr<Work> all_reduce_async(Tensor t, ReduceOp op) override {
    check_tensor(t, "all_reduce");
    run("all_reduce", nbytes(t), [&] {
      MPI_Allreduce(MPI_IN_PLACE, t.raw_data(), int(t.numel()), mpi_type(t.dtype()), mpi_op(op, t.dtype()), MPI_COMM_WORLD);
    });
    return std::make_unique<DoneWork>();
  }

  std::unique_ptr<Work> reduce_scatter_async(Tensor in, Tensor out, ReduceOp op) override {
    check_tensor(in, "reduce_scatter");
    check_tensor(out, "reduce_scatter");
    DLT_ASSERT(in.numel() == out.numel() * size_ && in.dtype() == out.dtype(),
               "reduce_scatter: {} elements in, {} out, world {}", in.numel(), out.numel(), size_);
    run("reduce_scatter", nbytes(in), [&] {
      MPI_Reduce_scatter_block(in.raw_data(), out.raw_data(), int(out.numel()), mpi_type(in.dtype()), mpi_op(op, in.dtype()),
                               MPI_COMM_WORLD);
    });
    return std::make_unique<DoneWork>();
  }

  std::unique_ptr<Work> all_gather_async(Tensor in, Tensor out) override {
    check_tensor(in, "all_gather");
    check_tensor(out, "all_gather");
    DLT_ASSERT(nbytes(out) == nbytes(in) * size_ && in.dtype() == out.dtype(), "all_gather: {} bytes in, {} out, world {}",
               nbytes(in), nbytes(out), size_);
    run("all_gather", nbytes(in), [&] {
      MPI_Allgather(in.raw_data(), int(nbytes(in)), MPI_BYTE, out.raw_data(), int(nbytes(in)), MPI_BYTE,
                    MPI_COMM_WORLD);
    });
    return std::make_unique<DoneWork>();
  }

  void broadcast(Tensor t, int root) override {
    check_tensor(t, "broadcast");
    run("broadcast", nbytes(t), [&] { MPI_Bcast(t.raw_data(), int(nbytes(t)), MPI_BYTE, root, MPI_COMM_WORLD); });
  }

  void barrier() override {
    run("barrier", 0, [] { MPI_Barrier(MPI_COMM_WORLD); });
  }

  [[noreturn]] void abort(int exit_code) override {
    std::fflush(stdout);
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, exit_code);
    std::_Exit(exit_code);  // MPI_Abort does not return; this is for the compiler
  }

 private:
  // One collective under the watchdog; its time counts as waiting (the
  // rank's own share of the work is small next to waiting for the others).
  template <class F> void run(const char* what, int64_t bytes, F&& collective) {
    const trace::Scope scope("collective", [&] { return fmt::format("{} {} bytes", what, bytes); });
    ++stats_.collectives;
    stats_.bytes += bytes;
    const auto t0 = std::chrono::steady_clock::now();
    watchdog_->arm(what, stats_.collectives, bytes, timeout_s_);
    collective();
    watchdog_->disarm();
    stats_.wait_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }

  int rank_ = 0, size_ = 1, local_rank_ = 0, local_size_ = 1;
  std::unique_ptr<Watchdog> watchdog_;
};

bool g_started_mpi = false;

}  // namespace

std::unique_ptr<ProcessGroup> make_mpi_group() {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    int provided = 0;
    MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
    g_started_mpi = true;
  }
  return std::make_unique<MpiGroup>();
}

void finalize_mpi() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (g_started_mpi && !finalized) MPI_Finalize();
  g_started_mpi = false;
}

}  // namespace dlt::dist
