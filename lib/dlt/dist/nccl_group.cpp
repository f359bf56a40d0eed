// The NCCL process group (CUDA builds only: DLT_WITH_NCCL). Each group owns
// a non-blocking stream; a collective waits there for the work queued so far
// on the device's compute stream (the gradients it reads), runs, and records
// a done event. wait() polls that event on the host against the group's
// timeout and ncclCommGetAsyncError, then orders the compute stream after
// it. NCCL has no timeout of its own: on a timeout or an NCCL error the
// communicator is aborted (ncclCommAbort: ncclCommDestroy would wait for the
// stuck collective) and then the bootstrap world (MPI_Abort).
#if defined(DLT_WITH_HIP)
#error "nccl_group.cpp is for CUDA builds only (the HIP build has no RCCL)"
#endif

#include "dlt/dist/nccl_group.h"

#include <nccl.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "dlt/core/error.h"
#include "kernels/cuda/gpu.h"
#include "kernels/cuda/runtime.h"

namespace dlt::dist {

namespace {

ncclDataType_t nccl_type(DType t) {
  switch (t) {
    case DType::f32: return ncclFloat32;
    case DType::f64: return ncclFloat64;
    case DType::f16: return ncclFloat16;
    case DType::bf16: return ncclBfloat16;
    case DType::i32: return ncclInt32;
    case DType::i64: return ncclInt64;
    case DType::u8: return ncclUint8;
    default: break;
  }
  throw Error(fmt::format("the NCCL process group cannot reduce {} tensors (f32, f64, f16, bf16, i32, i64, u8)", t));
}

ncclRedOp_t nccl_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::sum: return ncclSum;
    case ReduceOp::max: return ncclMax;
    case ReduceOp::min: return ncclMin;
  }
  return ncclSum;
}

int64_t nbytes(const Tensor& t) { return t.numel() * int64_t(t.element_size()); }

// NCCL's own account of its last failure ("Duplicate GPU detected : rank 1
// and rank 0 both on CUDA device 1000"), which ncclGetErrorString lacks.
std::string nccl_detail(ncclComm_t comm) {
  const char* last = ncclGetLastError(comm);
  return last && *last ? fmt::format(" ({})", last) : std::string();
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// In NcclGroup: a failed CUDA call throws dlt::Error naming it (check_cuda).
#define CUDA_CALL(expr) check_cuda((expr), #expr)

class NcclGroup;

// A collective in flight: the tensors it reads and writes stay alive with
// it, and so does its done event.
class NcclWork final : public Work {
 public:
  NcclWork(NcclGroup& group, const char* what, int64_t seq, int64_t bytes, std::vector<Tensor> keep,
           cudaStream_t compute, cudaEvent_t done)
      : group_(group), what_(what), seq_(seq), bytes_(bytes), keep_(std::move(keep)), compute_(compute),
        done_event_(done) {}
  NcclWork(const NcclWork&) = delete;
  NcclWork& operator=(const NcclWork&) = delete;
  ~NcclWork() override;

  bool test() override;
  void wait() override;

 private:
  NcclGroup& group_;
  const char* what_;
  int64_t seq_, bytes_;
  std::vector<Tensor> keep_;
  cudaStream_t compute_;
  cudaEvent_t done_event_;
  bool done_ = false;
  bool ordered_ = false;  // the compute stream waits for done_event_
};

class NcclGroup final : public ProcessGroup {
 public:
  NcclGroup(ProcessGroup& bootstrap, int device)
      : bootstrap_(bootstrap), device_(device), rank_(bootstrap.rank()), size_(bootstrap.world_size()),
        local_rank_(bootstrap.local_rank()), local_size_(bootstrap.local_world_size()) {
    timeout_s_ = bootstrap.timeout_s();
    compute_ = gpu::use_device(device_);  // checks the index and makes the device current

    // Rank 0's unique id to every rank, with a status byte so that a failed
    // ncclGetUniqueId ends every rank with the same message (not a hang).
    ncclUniqueId id;
    std::memset(&id, 0, sizeof id);
    Tensor buf = empty({int64_t(sizeof id) + 1}, TensorOptions(DType::u8));
    auto* bytes = static_cast<uint8_t*>(buf.raw_data());
    std::string rank0_error;
    if (rank_ == 0) {
      const ncclResult_t r = ncclGetUniqueId(&id);
      bytes[0] = r == ncclSuccess ? 1 : 0;
      if (r != ncclSuccess) rank0_error = fmt::format("{}{}", ncclGetErrorString(r), nccl_detail(nullptr));
      std::memcpy(bytes + 1, &id, sizeof id);
    }
    bootstrap_.broadcast(buf, 0);
    DLT_CHECK(bytes[0] == 1, "NCCL process group: ncclGetUniqueId failed on rank 0{}",
              rank0_error.empty() ? std::string() : ": " + rank0_error);
    std::memcpy(&id, bytes + 1, sizeof id);

    CUDA_CALL(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    CUDA_CALL(cudaEventCreateWithFlags(&ready_, cudaEventDisableTiming));
    CUDA_CALL(cudaSetDevice(device_));
    const ncclResult_t r = ncclCommInitRank(&comm_, size_, id, rank_);
    if (r != ncclSuccess) {
      comm_ = nullptr;
      (void)cudaEventDestroy(ready_);  // no destructor runs for a constructor that throws
      (void)cudaStreamDestroy(stream_);
      (void)cudaGetLastError();
      const std::string detail = nccl_detail(nullptr);
      const bool duplicate = detail.find("Duplicate GPU") != std::string::npos ||
                             detail.find("duplicate GPU") != std::string::npos;
      throw Error(fmt::format(
          "NCCL process group: ncclCommInitRank (rank {} of {}, cuda:{}) failed: {}{}{}", rank_, size_, device_,
          ncclGetErrorString(r), detail,
          duplicate ? ": two ranks on one GPU: NCCL 2.28 cannot; give each rank its own GPU, e.g. one rank per "
                      "GPU with srun --gpus-per-task=1"
                    : ""));
    }
  }

  ~NcclGroup() override {
    // Never throws. ncclCommDestroy waits for queued collectives, so it is
    // only for a healthy communicator whose stream has drained; anything
    // else (a failed collective, a collective still queued a moment later:
    // a rank left early or a peer is gone) is aborted instead.
    (void)cudaSetDevice(device_);
    if (comm_) {
      bool quiet = !failed_;
      if (quiet) {
        const auto t0 = std::chrono::steady_clock::now();
        cudaError_t e;
        while ((e = cudaStreamQuery(stream_)) == cudaErrorNotReady && seconds_since(t0) < 1.0)
          std::this_thread::sleep_for(std::chrono::microseconds(100));
        quiet = e == cudaSuccess;
      }
      if (quiet)
        (void)ncclCommDestroy(comm_);
      else
        (void)ncclCommAbort(comm_);
      comm_ = nullptr;
    }
    if (ready_) (void)cudaEventDestroy(ready_);
    if (stream_) (void)cudaStreamDestroy(stream_);
    (void)cudaGetLastError();  // leave no error for the next kernel launch check
  }

  std::string_view backend() const override { return "nccl"; }
  int rank() const override { return rank_; }
  int world_size() const override { return size_; }
  int local_rank() const override { return local_rank_; }
  int local_world_size() const override { return local_size_; }

  std::unique_ptr<Work> all_reduce_async(Tensor t, ReduceOp op) override {
    check_tensor(t, "all_reduce");
    const ncclDataType_t type = nccl_type(t.dtype());
    void* p = t.raw_data();
    const size_t count = size_t(t.numel());
    return issue("all_reduce", nbytes(t), {t}, count, [&](cudaStream_t s) {
      return ncclAllReduce(p, p, count, type, nccl_op(op), comm_, s);
    });
  }

  std::unique_ptr<Work> reduce_scatter_async(Tensor in, Tensor out, ReduceOp op) override {
    check_tensor(in, "reduce_scatter");
    check_tensor(out, "reduce_scatter");
    DLT_ASSERT(in.numel() == out.numel() * size_ && in.dtype() == out.dtype(),
               "reduce_scatter: {} elements in, {} out, world {}", in.numel(), out.numel(), size_);
    const ncclDataType_t type = nccl_type(in.dtype());
    const void* src = in.raw_data();
    void* dst = out.raw_data();
    const size_t count = size_t(out.numel());
    return issue("reduce_scatter", nbytes(in), {in, out}, count, [&](cudaStream_t s) {
      return ncclReduceScatter(src, dst, count, type, nccl_op(op), comm_, s);
    });
  }

  std::unique_ptr<Work> all_gather_async(Tensor in, Tensor out) override {
    check_tensor(in, "all_gather");
    check_tensor(out, "all_gather");
    DLT_ASSERT(nbytes(out) == nbytes(in) * size_ && in.dtype() == out.dtype(),
               "all_gather: {} bytes in, {} out, world {}", nbytes(in), nbytes(out), size_);
    const void* src = in.raw_data();
    void* dst = out.raw_data();
    const size_t count = size_t(nbytes(in));  // as bytes, like the MPI group: any dtype
    return issue("all_gather", nbytes(in), {in, out}, count, [&](cudaStream_t s) {
      return ncclAllGather(src, dst, count, ncclUint8, comm_, s);
    });
  }

  void broadcast(Tensor t, int root) override {
    check_tensor(t, "broadcast");
    DLT_ASSERT(root >= 0 && root < size_, "broadcast from rank {} in a world of {}", root, size_);
    void* p = t.raw_data();
    const size_t count = size_t(nbytes(t));
    issue("broadcast", nbytes(t), {t}, count, [&](cudaStream_t s) {
      return ncclBroadcast(p, p, count, ncclUint8, root, comm_, s);
    })->wait();
  }

  // A one-element all-reduce on the device: every rank has reached it once
  // it completes. Its value is not looked at.
  void barrier() override {
    Tensor t = empty({1}, TensorOptions(DType::i32).device(Device::cuda(device_)));
    void* p = t.raw_data();
    issue("barrier", 0, {t}, 1, [&](cudaStream_t s) {
      return ncclAllReduce(p, p, 1, ncclInt32, ncclSum, comm_, s);
    })->wait();
  }

  [[noreturn]] void abort(int exit_code) override {
    std::fflush(stdout);
    std::fflush(stderr);
    abort_comm();
    bootstrap_.abort(exit_code);
    std::_Exit(exit_code);  // the bootstrap's abort does not return; this is for the compiler
  }

  // For NcclWork.
  void add_wait(double s) { stats_.wait_s += s; }
  bool failed() const { return failed_; }
  void mark_failed() { failed_ = true; }
  ncclResult_t async_error() {
    if (!comm_) return ncclInternalError;
    ncclResult_t async = ncclSuccess;
    const ncclResult_t r = ncclCommGetAsyncError(comm_, &async);
    return r != ncclSuccess ? r : async;
  }
  std::string last_error() const { return nccl_detail(comm_); }
  int device() const { return device_; }

 private:
  // Throws dlt::Error naming the call and the runtime's message.
  void check_cuda(cudaError_t err, const char* call) const {
    if (err == cudaSuccess) return;
    (void)cudaGetLastError();  // a non-sticky error must not fail the next kernel launch check
    throw Error(fmt::format("NCCL process group (rank {}, cuda:{}): {} failed: {}", rank_, device_, call,
                            cudaGetErrorString(err)));
  }

  void check_tensor(const Tensor& t, const char* what) const {
    DLT_ASSERT(t.defined() && t.device() == Device::cuda(device_) && t.is_contiguous(),
               "NCCL {} needs a contiguous tensor on cuda:{}, got {}", what, device_,
               t.defined() ? t.str() : std::string("an undefined tensor"));
  }

  // Queues one collective on the NCCL stream after the work queued so far
  // on the compute stream. `count` 0: nothing to move (every rank has the
  // same sizes, so every rank skips it), only the done event.
  template <class Launch>
  std::unique_ptr<NcclWork> issue(const char* what, int64_t bytes, std::vector<Tensor> keep, size_t count,
                                  Launch&& launch) {
    DLT_CHECK(!failed_ && comm_, "the NCCL process group on cuda:{} has failed: no further collectives", device_);
    ++stats_.collectives;
    stats_.bytes += bytes;
    compute_ = gpu::use_device(device_);  // makes the device current
    cudaEvent_t done = nullptr;
    CUDA_CALL(cudaEventCreateWithFlags(&done, cudaEventDisableTiming));
    // Owns the event from here on, and the tensors, whatever throws below.
    auto w = std::make_unique<NcclWork>(*this, what, stats_.collectives, bytes, std::move(keep), compute_, done);
    CUDA_CALL(cudaEventRecord(ready_, compute_));
    CUDA_CALL(cudaStreamWaitEvent(stream_, ready_, 0));
    if (count > 0) {
      const ncclResult_t r = launch(stream_);
      if (r != ncclSuccess) {
        failed_ = true;
        throw Error(fmt::format("NCCL process group (rank {}, cuda:{}): {} #{} ({} bytes) failed to start: {}{}",
                                rank_, device_, what, stats_.collectives, bytes, ncclGetErrorString(r),
                                nccl_detail(comm_)));
      }
    }
    CUDA_CALL(cudaEventRecord(done, stream_));
    return w;
  }

  void abort_comm() {
    failed_ = true;
    if (comm_) {
      (void)cudaSetDevice(device_);
      (void)ncclCommAbort(comm_);
      comm_ = nullptr;
    }
  }

  ProcessGroup& bootstrap_;
  int device_;
  int rank_, size_, local_rank_, local_size_;
  cudaStream_t compute_ = nullptr;  // the device's compute stream (dlt::gpu's; never destroyed)
  cudaStream_t stream_ = nullptr;   // this group's NCCL stream
  cudaEvent_t ready_ = nullptr;     // recorded on compute_ before each collective
  ncclComm_t comm_ = nullptr;
  bool failed_ = false;  // a collective failed: abort, never destroy
};

#undef CUDA_CALL

bool NcclWork::test() {
  if (done_) return true;
  const cudaError_t err = cudaEventQuery(done_event_);
  if (err == cudaSuccess) return done_ = true;
  (void)cudaGetLastError();  // cudaErrorNotReady is recorded as the last error too
  if (err == cudaErrorNotReady) return false;
  group_.mark_failed();
  throw Error(fmt::format("NCCL {} #{} ({} bytes) on cuda:{} failed: {} (cudaEventQuery)", what_, seq_, bytes_,
                          group_.device(), cudaGetErrorString(err)));
}

void NcclWork::wait() {
  // Also asks NCCL for asynchronous errors (a peer gone, a network failure).
  const double waited = poll_until(
      [this] { return test(); }, group_.timeout_s(),
      [this](double w) {
        std::fprintf(stderr,
                     "error: rank %d: %s #%lld (%lld bytes) did not complete within %.0f s on cuda:%d (NCCL): "
                     "another rank has died, hangs or stopped taking part (train.distributed.timeout_s); "
                     "ending the job\n",
                     group_.rank(), what_, static_cast<long long>(seq_), static_cast<long long>(bytes_), w,
                     group_.device());
        group_.abort(1);
      },
      [this] {
        const ncclResult_t async = group_.async_error();
        if (async == ncclSuccess || async == ncclInProgress) return;
        std::fprintf(stderr,
                     "error: rank %d: %s #%lld (%lld bytes) on cuda:%d failed: NCCL reports %s%s; ending the job\n",
                     group_.rank(), what_, static_cast<long long>(seq_), static_cast<long long>(bytes_),
                     group_.device(), ncclGetErrorString(async), group_.last_error().c_str());
        group_.abort(1);
      });
  group_.add_wait(waited);
  if (!ordered_) {
    // Done on the device already; this keeps the compute stream's later
    // kernels (and the allocator's reuse of these tensors' memory) after it
    // for certain, without waiting on the host.
    const cudaError_t err = cudaStreamWaitEvent(compute_, done_event_, 0);
    if (err != cudaSuccess) {
      (void)cudaGetLastError();
      throw Error(fmt::format("NCCL {} #{}: cudaStreamWaitEvent(compute stream, done) failed: {}", what_, seq_,
                              cudaGetErrorString(err)));
    }
    ordered_ = true;
  }
}

NcclWork::~NcclWork() {
  // Not waited for (an exception on the way, or only test()ed): the memory
  // of keep_ returns to the allocator, which reuses it in the compute
  // stream's order, so that stream must come after the collective. Not
  // after a failure: an aborted collective's event may never complete.
  if (!ordered_ && !done_ && !group_.failed()) (void)cudaStreamWaitEvent(compute_, done_event_, 0);
  (void)cudaEventDestroy(done_event_);  // released once it has completed
  (void)cudaGetLastError();
}

}  // namespace

std::unique_ptr<ProcessGroup> make_nccl_group(ProcessGroup& bootstrap, int device_index) {
  return std::make_unique<NcclGroup>(bootstrap, device_index);
}

}  // namespace dlt::dist
