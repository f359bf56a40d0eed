#include "dlt/dist/mpi_group.h"

#include <mpi.h>
#include <unistd.h>

#include <cstdio>

#include "dlt/core/error.h"

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
    default: break;
  }
  throw Error(fmt::format("the MPI process group cannot reduce {} tensors (f32, f64, i32, i64, u8, bool)", t));
}

MPI_Op mpi_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::sum: return MPI_SUM;
    case ReduceOp::max: return MPI_MAX;
    case ReduceOp::min: return MPI_MIN;
  }
  return MPI_SUM;
}

int64_t nbytes(const Tensor& t) { return t.numel() * int64_t(t.element_size()); }

void check_tensor(const Tensor& t, const char* what) {
  DLT_ASSERT(t.defined() && t.device().is_cpu() && t.is_contiguous(),
             "MPI {} needs a contiguous CPU tensor", what);
}

class MpiGroup;

// A collective in flight: the tensors it reads and writes stay alive with it.
class MpiWork final : public Work {
 public:
  MpiWork(MpiGroup& group, const char* what, int64_t seq, int64_t bytes, std::vector<Tensor> keep)
      : group_(group), what_(what), seq_(seq), bytes_(bytes), keep_(std::move(keep)) {}
  MPI_Request* request() { return &request_; }
  bool test() override {
    if (done_) return true;
    int flag = 0;
    MPI_Test(&request_, &flag, MPI_STATUS_IGNORE);
    done_ = flag != 0;
    return done_;
  }
  void wait() override;

 private:
  MpiGroup& group_;
  const char* what_;
  int64_t seq_, bytes_;
  std::vector<Tensor> keep_;
  MPI_Request request_ = MPI_REQUEST_NULL;
  bool done_ = false;
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
  }

  std::string_view backend() const override { return "mpi"; }
  int rank() const override { return rank_; }
  int world_size() const override { return size_; }
  int local_rank() const override { return local_rank_; }
  int local_world_size() const override { return local_size_; }

  std::unique_ptr<Work> all_reduce_async(Tensor t, ReduceOp op) override {
    check_tensor(t, "all_reduce");
    auto w = start("all_reduce", nbytes(t), {t});
    MPI_Iallreduce(MPI_IN_PLACE, t.raw_data(), int(t.numel()), mpi_type(t.dtype()), mpi_op(op), MPI_COMM_WORLD,
                   w->request());
    return w;
  }

  std::unique_ptr<Work> reduce_scatter_async(Tensor in, Tensor out, ReduceOp op) override {
    check_tensor(in, "reduce_scatter");
    check_tensor(out, "reduce_scatter");
    DLT_ASSERT(in.numel() == out.numel() * size_ && in.dtype() == out.dtype(),
               "reduce_scatter: {} elements in, {} out, world {}", in.numel(), out.numel(), size_);
    auto w = start("reduce_scatter", nbytes(in), {in, out});
    MPI_Ireduce_scatter_block(in.raw_data(), out.raw_data(), int(out.numel()), mpi_type(in.dtype()), mpi_op(op),
                              MPI_COMM_WORLD, w->request());
    return w;
  }

  std::unique_ptr<Work> all_gather_async(Tensor in, Tensor out) override {
    check_tensor(in, "all_gather");
    check_tensor(out, "all_gather");
    DLT_ASSERT(nbytes(out) == nbytes(in) * size_ && in.dtype() == out.dtype(),
               "all_gather: {} bytes in, {} out, world {}", nbytes(in), nbytes(out), size_);
    auto w = start("all_gather", nbytes(in), {in, out});
    MPI_Iallgather(in.raw_data(), int(nbytes(in)), MPI_BYTE, out.raw_data(), int(nbytes(in)), MPI_BYTE,
                   MPI_COMM_WORLD, w->request());
    return w;
  }

  void broadcast(Tensor t, int root) override {
    check_tensor(t, "broadcast");
    auto w = start("broadcast", nbytes(t), {t});
    MPI_Ibcast(t.raw_data(), int(nbytes(t)), MPI_BYTE, root, MPI_COMM_WORLD, w->request());
    w->wait();
  }

  void barrier() override {
    auto w = start("barrier", 0, {});
    MPI_Ibarrier(MPI_COMM_WORLD, w->request());
    w->wait();
  }

  [[noreturn]] void abort(int exit_code) override {
    std::fflush(stdout);
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, exit_code);
    std::_Exit(exit_code);  // MPI_Abort does not return; this is for the compiler
  }

  void add_wait(double s) { stats_.wait_s += s; }

 private:
  std::unique_ptr<MpiWork> start(const char* what, int64_t bytes, std::vector<Tensor> keep) {
    ++stats_.collectives;
    stats_.bytes += bytes;
    return std::make_unique<MpiWork>(*this, what, stats_.collectives, bytes, std::move(keep));
  }

  int rank_ = 0, size_ = 1, local_rank_ = 0, local_size_ = 1;
};

void MpiWork::wait() {
  group_.add_wait(poll_until([this] { return test(); }, group_.timeout_s(), [this](double waited) {
    std::fprintf(stderr,
                 "error: rank %d: %s #%lld (%lld bytes) did not complete within %.0f s: another rank has died, "
                 "hangs or stopped taking part (train.distributed.timeout_s); ending the job\n",
                 group_.rank(), what_, static_cast<long long>(seq_), static_cast<long long>(bytes_), waited);
    group_.abort(1);
  }));
}

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
