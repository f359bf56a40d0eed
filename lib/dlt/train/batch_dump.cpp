#include "dlt/train/batch_dump.h"

#include "dlt/train/safetensors.h"

namespace dlt::train {

namespace fs = std::filesystem;

namespace {
// As checkpoints write their weights: the format tag tools reading
// safetensors for torch expect.
const StringMap kMetadata = {{"format", "pt"}};
}  // namespace

BatchDump::BatchDump(DumpRequest request, const nn::Module& model, int64_t total_steps, int64_t grad_accum)
    : request_(std::move(request)), grad_accum_(grad_accum) {
  DLT_CHECK(request_.steps > 0, "--dump-batches needs at least one step, got {}", request_.steps);
  DLT_CHECK(request_.steps <= total_steps, "--dump-batches {}: the run has only {} steps", request_.steps,
            total_steps);
  std::error_code ec;
  fs::create_directories(request_.dir, ec);
  DLT_CHECK(!ec && fs::is_directory(request_.dir), "cannot create the dump folder {}", request_.dir.string());
  save_safetensors(request_.dir / "initial.safetensors", model.state_dict(), kMetadata);
  writer_ = std::make_unique<data::H5Writer>((request_.dir / "batches.h5").string());
  writer_->set_attribute("/", "steps", request_.steps);
  writer_->set_attribute("/", "grad_accum", grad_accum);
  writer_->set_attribute("/", "total_steps", total_steps);
}

void BatchDump::record_batch(int64_t step, const data::Batch& batch) {
  if (step > request_.steps) return;
  const char* names[] = {"x", "y"};
  for (size_t f = 0; f < batch.fields.size() && f < 2; ++f) {
    const Tensor t = batch.fields[f].contiguous();
    writer_->write(fmt::format("{}/{}", names[f], batches_), t.dtype(), t.shape(), t.raw_data());
  }
  ++batches_;
}

void BatchDump::record_step(int64_t step, double loss, const nn::Module& model) {
  if (step > request_.steps) return;
  losses_.push_back(loss);
  if (step < request_.steps) return;
  DLT_ASSERT(batches_ == request_.steps * grad_accum_, "dumped {} batches for {} steps", batches_, step);
  writer_->write("losses", DType::f64, Shape{int64_t(losses_.size())}, losses_.data());
  writer_->commit();
  writer_.reset();
  save_safetensors(request_.dir / "final.safetensors", model.state_dict(), kMetadata);
}

}  // namespace dlt::train
