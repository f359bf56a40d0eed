#include "dlt/train/trainer.h"

#include <chrono>
#include <csignal>
#include <cmath>

#include "dlt/core/generator.h"
#include "dlt/core/grad_mode.h"
#include "dlt/core/trace.h"
#include "dlt/ops/flops.h"
#include "dlt/ops/ops.h"
#include "dlt/optim/clip.h"
#include "dlt/train/device_batches.h"
#include "dlt/train/file_io.h"

namespace dlt::train {

namespace fs = std::filesystem;

namespace {

constexpr const char* kDefaultRng = "default";

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// Rethrows a dlt::Error with `where` in front, unless it already names it.
template <class F> void naming(const std::string& where, F&& f) {
  try {
    f();
  } catch (const Error& e) {
    const std::string what = e.what();
    if (what.find(where) != std::string::npos) throw;
    throw Error(fmt::format("{}: {}", where, what));
  }
}

}  // namespace

Trainer::Trainer(TrainerParts parts, TrainerOptions options, fs::path run_dir, fs::path checkpoint_dir,
                 CheckpointPolicy checkpoints, std::FILE* console)
    : parts_(std::move(parts)),
      options_(std::move(options)),
      run_dir_(std::move(run_dir)),
      store_(std::move(checkpoint_dir), std::move(checkpoints)),
      progress_(is_main() ? console : nullptr, {.interactive = Progress::is_terminal(console),
                          .interval_s = options_.progress_interval_s}),
      mp_(options_.mixed_precision) {
  DLT_ASSERT(parts_.model && parts_.optimizer && parts_.train_data, "Trainer needs a model, optimizer and data");
  DLT_CHECK(options_.total_steps > 0, "training needs at least one step, got {}", options_.total_steps);
  DLT_CHECK(options_.grad_accum >= 1, "grad_accum must be at least 1, got {}", options_.grad_accum);
  std::error_code ec;
  fs::create_directories(run_dir_, ec);
  DLT_CHECK(!ec && fs::is_directory(run_dir_), "cannot create the run folder {}: {}", run_dir_.string(),
            ec ? ec.message() : "a file of that name is in the way");
  // In place: the optimizer's parameter handles follow; its state is made
  // (or loaded, by resume()) on the parameters' device.
  parts_.model->to(options_.device);
  parts_.optimizer->set_weight_copies(mp_.weight_copies());
}

int64_t Trainer::batches_per_epoch() const {
  return data::Sampler(parts_.train_data->size(), parts_.train_data->chunk_size(), parts_.train_loader.batch_size,
                       parts_.train_loader.sampler)
      .batches_per_epoch();
}

EvalResult Trainer::evaluate() {
  DLT_CHECK(parts_.val_data, "no validation data to evaluate on");
  RankSum rank_sum;
  if (auto dp = parts_.data_parallel) rank_sum = [dp](std::span<double> v) { dp->sum(v); };
  // Training throughput counts the training steps' FLOPs only.
  const bool counting = ops::flop_count_enabled();
  ops::enable_flop_count(false);
  const AutocastGuard region = mp_.forward();  // evaluated in the precision it trains in
  EvalResult r = train::evaluate(*parts_.model, parts_.val_data, parts_.val_loader, options_.loss, rank_sum);
  ops::enable_flop_count(counting);
  return r;
}

void Trainer::report_eval(const EvalResult& r, int64_t epoch) {
  last_metrics_["val/loss"] = r.loss;
  std::string line = fmt::format("step {} epoch {} val loss {:.4f}", step_, epoch, r.loss);
  if (r.accuracy) {
    last_metrics_["val/accuracy"] = *r.accuracy;
    line += fmt::format(" accuracy {:.2f}%", 100 * *r.accuracy);
  }
  if (r.perplexity) {
    last_metrics_["val/perplexity"] = *r.perplexity;
    line += fmt::format(" perplexity {:.3f}", *r.perplexity);
  }
  progress_.message(line);
  if (log_)
    log_->write({.step = step_, .epoch = epoch, .split = "val", .loss = r.loss, .accuracy = r.accuracy,
                 .perplexity = r.perplexity, .lr = {}, .samples_per_s = {}, .grad_norm = {}, .tflops = {},
                 .mfu = {}, .time = {}, .loss_scale = {}, .skipped_steps = {}});
}

// ---- checkpoints -----------------------------------------------------------------------

TrainState Trainer::state() const {
  TrainState s;
  s.step = step_;
  s.epoch = cursor_.epoch;
  s.cursor = cursor_;
  s.rngs[kDefaultRng] = {default_generator().seed(), default_generator().offset()};
  for (const auto& [name, gen] : parts_.generators) s.rngs[name] = {gen->seed(), gen->offset()};
  s.config_hash = options_.config_hash;
  s.metrics = last_metrics_;
  s.precision = options_.precision;
  s.loss_scale = mp_.scaler_state();
  return s;
}

void Trainer::save_checkpoint() {
  if (last_saved_step_ == step_) return;
  const trace::Scope scope("checkpoint", "checkpoint");
  dist::DataParallel* dp = parts_.data_parallel.get();
  // Whole: gathered from the ranks' slices under ZeRO-1, so any world size can resume it.
  const auto optimizer_state = dp ? dp->optimizer_state() : parts_.optimizer->state_dict();
  if (is_main()) {
    const fs::path dir = store_.save({.state = state(), .model = parts_.model->state_dict(), .optimizer = optimizer_state});
    progress_.message(fmt::format("checkpoint {}", dir.string()));
  }
  // No rank goes on (or exits, or requeues the job) before the checkpoint is complete.
  if (dp) dp->group().barrier();
  last_saved_step_ = step_;
}

void Trainer::load_model(nn::Module& model, const fs::path& checkpoint_dir) {
  const fs::path file = checkpoint_dir / "model.safetensors";
  DLT_CHECK(fs::is_directory(checkpoint_dir), "checkpoint {} does not exist", checkpoint_dir.string());
  const TensorMap saved = load_safetensors(file).tensors;
  check_same_tensors(file.string(), saved, model.state_dict());
  model.load_state_dict(saved);
}

// The newest checkpoint that reads back whole: one whose files are missing,
// truncated or corrupt (checksums in its state.json) is passed over with a
// warning naming the file, for the one before it, and renamed step-N.corrupt
// (by rank 0), so the resumed run can write step-N again.
std::pair<fs::path, Checkpoint> Trainer::newest_intact_checkpoint() {
  const std::vector<int64_t> steps = store_.steps();
  DLT_CHECK(!steps.empty(), "--resume: no checkpoint in {}", store_.dir().string());
  for (auto step = steps.rbegin(); step != steps.rend(); ++step) {
    const fs::path dir = store_.dir() / CheckpointStore::step_name(*step);
    try {
      return {dir, load_checkpoint(dir)};
    } catch (const Error& e) {
      if (std::next(step) == steps.rend()) throw;
      const fs::path aside = dir.string() + ".corrupt";
      if (is_main()) {
        std::error_code ec;
        fs::rename(dir, aside, ec);
        DLT_CHECK(!ec, "{}; and it cannot be moved aside to {}: {}", e.what(), aside.string(), ec.message());
      }
      progress_.message(fmt::format("warning: {}; moved it aside to {} and resuming from the checkpoint before it",
                                    e.what(), aside.filename().string()));
    }
  }
  throw InternalError("newest_intact_checkpoint: no step");
}

void Trainer::resume() {
  const auto found = newest_intact_checkpoint();  // lambdas below capture c: no structured binding
  const fs::path& latest = found.first;
  const Checkpoint& c = found.second;
  DLT_CHECK(c.state.config_hash == options_.config_hash,
            "{} was made with a different configuration (config hash {}, this run {}); resume with the "
            "same experiment file and --set values, or start a new --run-dir",
            latest.string(), c.state.config_hash, options_.config_hash);
  const std::string model_file = (latest / "model.safetensors").string();
  check_same_tensors(model_file, c.model, parts_.model->state_dict());
  naming((latest / "optimizer.safetensors").string(), [&] {
    if (parts_.data_parallel)
      parts_.data_parallel->load_optimizer_state(c.optimizer);
    else
      parts_.optimizer->load_state_dict(c.optimizer);
  });
  parts_.model->load_state_dict(c.model);

  const int64_t batches = batches_per_epoch();
  DLT_CHECK(c.state.cursor.batch <= batches,
            "{}: its data position (epoch {}, batch {}) is past an epoch of {} batches; was the data changed?",
            latest.string(), c.state.cursor.epoch, c.state.cursor.batch, batches);
  DLT_CHECK(c.state.step <= options_.total_steps, "{} is at step {}, past this run's {} steps", latest.string(),
            c.state.step, options_.total_steps);
  step_ = c.state.step;
  cursor_ = c.state.cursor;
  last_metrics_ = c.state.metrics;
  if (c.state.precision != options_.precision)
    progress_.message(fmt::format("{} was trained in {}; continuing in {}", latest.string(), c.state.precision,
                                  options_.precision));
  if (mp_.scaling() && c.state.loss_scale)
    mp_.load_scaler_state(*c.state.loss_scale);
  else if (mp_.scaling())
    progress_.message(fmt::format("{} has no loss scale; starting from {}", latest.string(), *mp_.loss_scale()));
  auto restore = [&](const std::string& name, Generator& gen) {
    const auto it = c.state.rngs.find(name);
    DLT_CHECK(it != c.state.rngs.end(), "{}: state.json has no state for the generator \"{}\"", latest.string(), name);
    gen.set_state(it->second.seed, it->second.offset);
  };
  restore(kDefaultRng, default_generator());
  for (const auto& [name, gen] : parts_.generators) restore(name, *gen);
  last_saved_step_ = step_;
  resumed_ = true;
  progress_.message(fmt::format("resuming from {} (step {})", latest.string(), step_));
}

void Trainer::apply_lr() {
  const double factor = parts_.lr_factor ? parts_.lr_factor(step_) : 1.0;
  for (optim::ParamGroup& g : parts_.optimizer->groups()) g.lr = g.base_lr * factor;
}

void Trainer::write_profile() {
  const trace::Recorded recorded = trace::stop();
  if (!is_main() || !options_.profile) return;
  write_file_atomic(options_.profile->path, recorded.chrome_json);
  progress_.message(fmt::format("profile of steps {} to {} written to {} (open it in Perfetto or chrome://tracing){}{}",
                                options_.profile->first, std::min(step_, options_.profile->last),
                                options_.profile->path.string(), recorded.op_table.empty() ? "" : "\n",
                                recorded.op_table));
}

StopRequest Trainer::agreed_stop(const double* flags) const {
  // In order of precedence: an interrupt, then a termination, then the warning.
  if (flags[0] > 0) return StopRequest::interrupt;
  if (flags[1] > 0) return StopRequest::terminate;
  if (flags[2] > 0) return StopRequest::user1;
  return StopRequest::none;
}

// ---- the loop ----------------------------------------------------------------------------

void Trainer::start_fresh() {
  if (const auto existing = store_.latest())
    throw Error(fmt::format("{} already has checkpoints ({}); pass --resume to continue that run, or --run-dir "
                            "for a new one",
                            store_.dir().string(), existing->filename().string()));
  default_generator().manual_seed(options_.seed);
  started_ = true;
}

TrainResult Trainer::run() {
  if (!resumed_ && !started_) start_fresh();
  if (is_main()) log_.emplace(run_dir_, resumed_ ? std::optional<int64_t>(step_) : std::nullopt, options_.log);
  dist::DataParallel* dp = parts_.data_parallel.get();
  // Same configuration and model everywhere, then rank 0's weights everywhere.
  if (dp) dp->synchronize_start(options_.config_hash);
  TrainResult result;
  if (step_ >= options_.total_steps) {
    progress_.message(fmt::format("already trained for {} steps", step_));
    result.step = step_;
    return result;
  }

  const int64_t A = options_.grad_accum;
  data::LoaderOptions lo = parts_.train_loader;
  const int64_t bpe = batches_per_epoch();
  DLT_CHECK(bpe > 0, "the training data {} gives no batch of {}", parts_.train_data->describe(), lo.batch_size);
  lo.epochs = (options_.total_steps * A + bpe - 1) / bpe;
  lo.pin_memory = !options_.device.is_cpu();
  data::Loader loader(parts_.train_data, lo, cursor_);
  DeviceBatches batches(loader, options_.device);

  const std::vector<Tensor> params = parts_.model->parameters();
  parts_.model->train();
  progress_.start(step_ + 1, options_.total_steps);
  ops::enable_flop_count(true);
  auto window_start = std::chrono::steady_clock::now();
  int64_t window_flops = ops::flops_counted();
  const double ranks = dp ? double(dp->group().world_size()) : 1.0;
  int64_t window_samples = 0, window_steps = 0;
  double window_loss = 0;

  const std::optional<ProfileRequest>& profile = options_.profile;
  while (step_ < options_.total_steps) {
    if (profile && step_ + 1 == profile->first) trace::start();
    std::optional<trace::Scope> step_range;
    step_range.emplace("step", [&] { return fmt::format("step {}", step_ + 1); });
    const int64_t epoch = cursor_.epoch;
    parts_.model->zero_grad();
    if (dp) dp->broadcast_buffers();
    // Each micro-batch's mean loss, and its weight in the step's loss: 1/A on
    // one rank; on several, also this rank's share of the global batch, so the
    // ranks' summed gradients are those of the global batch's mean loss.
    std::vector<std::pair<Tensor, double>> losses;  // read once the backward passes are queued
    for (int64_t a = 0; a < A; ++a) {
      std::optional<DeviceBatch> batch = [&] {
        const trace::Scope scope("data", "next batch");
        return batches.next();
      }();
      DLT_ASSERT(batch, "the loader ended before step {}", step_ + 1);
      if (parts_.on_batch) parts_.on_batch(step_ + 1, batch->host);
      const int64_t local = int64_t(batch->host.indices.size()), global = batch->host.global_size;
      if (dp) dp->prepare(/*sync=*/a == A - 1);
      if (local > 0) {  // a rank may get no sample of a short last batch
        const BatchLoss b = [&] {
          const AutocastGuard region = mp_.forward();
          const Tensor out = (*parts_.model)(batch->fields.at(0));
          const trace::Scope scope("forward", "loss");
          return compute_loss(options_.loss, out, batch->fields.at(1), /*count_correct=*/false);
        }();
        const trace::Scope scope("backward", "backward pass");
        const double share = local == global ? 1.0 : double(local) / double(global);
        losses.emplace_back(b.loss.detach(), share);
        if (share != 1.0)
          mp_.scaled(b.loss * Scalar(share / double(A))).backward();
        else
          mp_.scaled(A > 1 ? b.loss / Scalar(double(A)) : b.loss).backward();
      }
      window_samples += global;
      cursor_ = batch->after;
    }
    if (dp) {
      const trace::Scope scope("collective", "gradient buckets");
      dp->finish_backward();
    }
    double loss = 0;
    for (const auto& [l, share] : losses) loss += l.item<double>() * share / double(A);
    StopRequest stop = StopRequest::none;
    if (dp) {
      // One collective: the global loss and whether any rank was asked to stop.
      const StopRequest mine = stop_requested();
      double v[] = {loss, double(mine == StopRequest::interrupt), double(mine == StopRequest::terminate),
                    double(mine == StopRequest::user1)};
      dp->sum(v);
      loss = v[0];
      stop = agreed_stop(v + 1);
    }
    // Loss scaling: unscaled before clipping; an inf/NaN gradient skips the
    // step. Under ZeRO-1 a rank unscales its slices, and a non-finite slice
    // anywhere makes the global norm non-finite on every rank.
    bool overflow = mp_.unscale(dp ? dp->local_grads() : optim::grads_of(params));
    const double norm = dp                              ? dp->clip_grad_norm(options_.clip_grad_norm)
                        : options_.clip_grad_norm > 0 ? optim::clip_grad_norm(params, options_.clip_grad_norm)
                                                      : optim::grad_norm(params);
    overflow = mp_.scaling() && (overflow || !std::isfinite(norm));
    const bool finite = std::isfinite(loss) && std::isfinite(norm);
    if (overflow) {
      parts_.model->zero_grad();  // parameters and optimizer state untouched
      if (std::isfinite(loss)) {  // the forward pass was fine: its loss counts
        window_loss += loss;
        ++window_steps;
      }
    } else if (!finite) {
      auto text = [](double v) { return std::isnan(v) ? std::string("nan") : fmt::format("{}", v); };
      const std::string what = !std::isfinite(loss) ? "the loss is " + text(loss) : "the gradient norm is " + text(norm);
      DLT_CHECK(options_.skip_nonfinite,
                "step {}: {}; stopping (lower the learning rate, set train.grad_clip, or set "
                "train.on_nonfinite: skip)",
                step_ + 1, what);
      progress_.message(fmt::format("step {}: {}; skipping the update", step_ + 1, what));
      parts_.model->zero_grad();
    } else {
      apply_lr();
      const trace::Scope scope("optimizer", "optimizer step");
      if (dp)
        dp->step();
      else
        parts_.optimizer->step();
      window_loss += loss;
      ++window_steps;
    }
    mp_.end_step(overflow);
    ++step_;
    if (parts_.on_step) parts_.on_step(step_, loss);

    const double lr = parts_.optimizer->groups().empty() ? 0 : parts_.optimizer->groups()[0].lr;
    const double rate = double(window_samples) / std::max(seconds_since(window_start), 1e-9);
    progress_.update(step_, epoch, loss, lr, rate);
    if (step_ % options_.log_every == 0 || step_ == options_.total_steps) {
      const double mean = window_steps > 0 ? window_loss / double(window_steps) : NAN;
      last_metrics_["train/loss"] = mean;
      // FLOP/s of this rank's ops, times the ranks (they all do the same work).
      const double flops = double(ops::flops_counted() - window_flops) / std::max(seconds_since(window_start), 1e-9);
      std::optional<double> mfu;
      if (options_.peak) mfu = flops / options_.peak->flops_per_s;
      progress_.set_flops(flops * ranks, mfu);
      if (log_)
        log_->write({.step = step_, .epoch = epoch, .split = "train", .loss = mean, .accuracy = {},
                     .perplexity = {}, .lr = lr, .samples_per_s = rate, .grad_norm = norm,
                     .tflops = flops * ranks / 1e12, .mfu = mfu, .time = {}, .loss_scale = mp_.loss_scale(),
                     .skipped_steps = mp_.scaling() ? std::optional(double(mp_.take_skipped_steps())) : std::nullopt});
      window_flops = ops::flops_counted();
      window_start = std::chrono::steady_clock::now();
      window_samples = window_steps = 0;
      window_loss = 0;
    }

    if (log_ && log_->histograms_due(step_)) log_->histograms(step_, parts_.model->named_parameters());

    const bool epoch_ended = cursor_.epoch != epoch;
    const bool last = step_ == options_.total_steps;
    if (parts_.val_data &&
        ((options_.eval_every > 0 && step_ % options_.eval_every == 0) || epoch_ended || last)) {
      const trace::Scope scope("evaluate", "evaluation");
      result.last_eval = evaluate();
      report_eval(*result.last_eval, epoch);
    }
    if (options_.checkpoint_every > 0 && step_ % options_.checkpoint_every == 0) save_checkpoint();
    if (step_ == options_.kill_after) ::raise(SIGKILL);  // no handler runs, nothing more is written
    step_range.reset();
    if (profile && step_ == profile->last) write_profile();
    if (!dp) stop = stop_requested();
    if (stop != StopRequest::none) {
      save_checkpoint();
      progress_.message(fmt::format("stopped by {} after step {}; continue with --resume", signal_name(stop), step_));
      result.stopped = stop;
      break;
    }
    if (step_ == options_.stop_after && step_ < options_.total_steps) {
      save_checkpoint();
      progress_.message(fmt::format("stopped after step {} (stop_after); continue with --resume", step_));
      break;
    }
  }
  if (step_ == options_.total_steps) {
    save_checkpoint();
    if (log_) log_->finished();
  }
  if (trace::recording()) write_profile();  // the run ended inside the profiled steps
  ops::enable_flop_count(false);
  progress_.finish();
  result.step = step_;
  return result;
}

}  // namespace dlt::train
