#include "dlt/train/experiment.h"

#include "dlt/amp/mixed_precision.h"

#include "dlt/core/grad_mode.h"
#include "dlt/core/math_mode.h"
#include "dlt/core/parallel.h"
#include "dlt/data/array_dataset.h"
#include "dlt/data/h5.h"
#include "dlt/data/h5_writer.h"
#include "dlt/data/token_dataset.h"
#include "dlt/dist/requeue.h"
#include "dlt/dist/world.h"
#ifdef DLT_WITH_NCCL
#include "dlt/core/device_runtime.h"
#include "dlt/dist/nccl_group.h"
#endif
#include "dlt/optim/optimizers.h"
#include "dlt/optim/param_groups.h"
#include "dlt/optim/schedule.h"
#include "dlt/ops/ops.h"
#include "dlt/train/file_io.h"

namespace dlt::train {

namespace fs = std::filesystem;
using config::ExperimentSpec;

namespace {

data::Shuffle shuffle_of(config::ShuffleKind k) {
  switch (k) {
    case config::ShuffleKind::full: return data::Shuffle::full;
    case config::ShuffleKind::chunked: return data::Shuffle::chunked;
    case config::ShuffleKind::none: return data::Shuffle::none;
  }
  return data::Shuffle::none;
}

optim::ScheduleKind schedule_of(config::ScheduleKind k) {
  switch (k) {
    case config::ScheduleKind::constant: return optim::ScheduleKind::constant;
    case config::ScheduleKind::step: return optim::ScheduleKind::step;
    case config::ScheduleKind::cosine: return optim::ScheduleKind::cosine;
    case config::ScheduleKind::linear: return optim::ScheduleKind::linear;
    case config::ScheduleKind::onecycle: return optim::ScheduleKind::one_cycle;
  }
  return optim::ScheduleKind::constant;
}

std::shared_ptr<const data::Dataset> open_split(const ExperimentSpec& spec, const config::SplitSpec& split) {
  const config::DataSpec& d = spec.data;
  DLT_CHECK(fs::exists(d.file), "data file {} does not exist (see scripts/setup.sh, or `dlt data import`)", d.file);
  if (d.kind == config::DataKind::tokens)
    return std::make_shared<data::TokenDataset>(
        d.file, split.x, data::TokenWindows{d.block_size, d.random_offsets, uint64_t(spec.seed)});
  return std::make_shared<data::ArrayDataset>(d.file, std::vector<std::string>{split.x, split.y});
}

data::LoaderOptions loader_options(const ExperimentSpec& spec, bool training) {
  const config::DataSpec& d = spec.data;
  data::LoaderOptions lo;
  lo.batch_size = d.batch_size;
  lo.workers = int(d.workers);
  lo.prefetch = int(d.prefetch);
  lo.sampler.shuffle = training ? shuffle_of(d.shuffle) : data::Shuffle::none;
  lo.sampler.seed = uint64_t(spec.seed);
  lo.sampler.drop_last = training && d.drop_last;
  if (d.kind == config::DataKind::array) {
    lo.transform.to_float = d.to_float;
    lo.transform.mean.assign(d.mean.begin(), d.mean.end());
    lo.transform.std.assign(d.std.begin(), d.std.end());
    if (training) {
      lo.transform.crop_padding = d.augment.crop_padding > 0 ? d.augment.crop_padding : -1;
      lo.transform.hflip = d.augment.hflip;
    }
  }
  return lo;
}

}  // namespace

ExperimentData open_data(const ExperimentSpec& spec) {
  ExperimentData out;
  out.train = open_split(spec, spec.data.train);
  out.train_loader = loader_options(spec, true);
  if (spec.data.val) {
    out.val = open_split(spec, *spec.data.val);
    out.val_loader = loader_options(spec, false);
  }
  const data::Field& x = out.train->fields().at(0);
  out.input_shape = x.shape;
  out.input_dtype = out.train_loader.transform.enabled() ? DType::f32 : x.dtype;
  return out;
}

namespace {

// A language model with fewer outputs than its token file's vocabulary would
// stop at the first out-of-range id, inside the first step: say so before,
// naming both sizes.
void check_vocabulary(const ExperimentSpec& spec, const Shape& output_shape) {
  if (spec.data.kind != config::DataKind::tokens || output_shape.empty() ||
      !fs::exists(spec.data.file))
    return;
  const auto vocab =
      data::h5::read_int_attribute(*data::h5::open_file(spec.data.file), "/", "vocab_size");
  if (!vocab || output_shape.back() >= *vocab) return;
  throw Error(fmt::format(
      "{}: the model predicts {} token ids, but {} has a vocabulary of {} (@vocab_size): set the "
      "model's vocab_size (or its last layer's out) to {}",
      spec.source, output_shape.back(), spec.data.file, *vocab, *vocab));
}

}  // namespace

BuiltModel build_model(const ExperimentSpec& spec, const Shape& input_shape) {
  BuiltModel m;
  m.gen = std::make_unique<Generator>(uint64_t(spec.seed));
  nn::BuildContext ctx;
  ctx.gen = m.gen.get();
  ctx.summary = &m.summary;
  nn::Built built = nn::build_model(spec.model, input_shape, ctx);
  m.module = std::move(built.module);
  m.output_shape = std::move(built.output_shape);
  check_vocabulary(spec, m.output_shape);
  return m;
}

LossOptions loss_options(const ExperimentSpec& spec) {
  LossOptions o;
  o.label_smoothing = spec.loss.label_smoothing;
  o.ignore_index = spec.loss.ignore_index;
  if (spec.data.kind == config::DataKind::tokens) {
    o.task = Task::language_model;
    return o;
  }
  switch (spec.loss.name) {
    case config::LossKind::cross_entropy: o.task = Task::classification; break;
    case config::LossKind::mse: o.task = Task::regression; break;
    case config::LossKind::bce_with_logits: o.task = Task::binary; break;
  }
  return o;
}

data::LoaderOptions eval_loader_options(const ExperimentSpec& spec) { return loader_options(spec, false); }

EvalResult evaluate_checkpoint(const ExperimentSpec& spec, const fs::path& checkpoint_dir) {
  DLT_CHECK(spec.data.val, "{}: data.val is not set: no split to evaluate on", spec.source);
  const ExperimentData data = open_data(spec);
  BuiltModel model = build_model(spec, data.input_shape);
  Trainer::load_model(*model.module, checkpoint_dir);
  model.module->to(config::train_device(spec.train.device));
  return evaluate(*model.module, data.val, data.val_loader, loss_options(spec));
}

int64_t predict_to_file(const ExperimentSpec& spec, const fs::path& checkpoint_dir, const std::string& input,
                        const std::string& key, const std::string& out) {
  DLT_CHECK(fs::exists(input), "input file {} does not exist", input);
  const auto inputs = std::make_shared<data::ArrayDataset>(input, std::vector<std::string>{key});
  data::LoaderOptions lo = eval_loader_options(spec);
  lo.epochs = 1;
  const Shape sample = inputs->fields().at(0).shape;
  BuiltModel model = build_model(spec, sample);
  Trainer::load_model(*model.module, checkpoint_dir);
  const Device device = config::train_device(spec.train.device);
  model.module->to(device);
  model.module->eval();
  NoGradGuard no_grad;
  lo.pin_memory = !device.is_cpu();

  const int64_t n = inputs->size();
  Shape out_shape = {n};
  out_shape.insert(out_shape.end(), model.output_shape.begin(), model.output_shape.end());
  const bool classes = loss_options(spec).task == Task::classification && model.output_shape.size() == 1;
  data::H5Writer writer(out);
  int64_t row = 0;
  {  // the datasets close before commit()
    auto outputs = writer.create("outputs", DType::f32, out_shape);
    std::optional<data::H5Writer::Array> predictions;
    if (classes) predictions = writer.create("predictions", DType::i64, {n});
    data::Loader loader(inputs, lo);
    while (auto batch = loader.next()) {
      const Tensor y =
          (*model.module)(batch->fields.at(0).to(device)).to(DType::f32).to(Device::cpu()).contiguous();  // (B, out...)
      const int64_t B = y.size(0);
      outputs.write_rows(row, B, y.raw_data());
      if (predictions) predictions->write_rows(row, B, argmax(y, 1).contiguous().raw_data());
      row += B;
    }
  }
  writer.set_attribute("/", "checkpoint", checkpoint_dir.string());
  writer.set_attribute("/", "input", input + ":" + key);
  writer.commit();
  return row;
}

namespace {

amp::MixedPrecisionOptions mixed_precision_options(const config::TrainSpec& t) {
  amp::MixedPrecisionOptions o;
  if (t.precision == config::Precision::bf16) o.autocast = DType::bf16;
  if (t.precision == config::Precision::fp16) o.autocast = DType::f16;
  if (const auto& ls = t.loss_scale)
    o.loss_scale = amp::GradScalerOptions{ls->init, ls->growth_factor, ls->backoff_factor, ls->growth_interval};
  return o;
}

}  // namespace

std::string resume_hash(const ExperimentSpec& spec) {
  ExperimentSpec s = spec;
  s.run_dir.clear();
  s.checkpoint = {};
  s.train.log_every = 1;
  s.train.eval_every = 0;
  s.train.threads = 0;
  s.data.workers = 1;
  s.data.prefetch = 0;
  s.train.device = "auto";  // a run may continue on another device
  s.train.distributed = {};   // ... on another number of ranks, with or without ZeRO-1
  s.logging = {};             // ... and log differently
  s.train.requeue = config::Requeue::auto_;
  s.train.precision = config::Precision::f32;  // ... in another precision (said in the log)
  s.train.loss_scale = std::nullopt;
  return fmt::format("{:016x}", config::config_hash(s));
}

int64_t total_steps(const ExperimentSpec& spec, const ExperimentData& data) {
  if (spec.train.steps > 0) return spec.train.steps;
  const data::Sampler sampler(data.train->size(), data.train->chunk_size(), data.train_loader.batch_size,
                              data.train_loader.sampler);
  const int64_t per_epoch = sampler.batches_per_epoch() / spec.train.grad_accum;
  DLT_CHECK(per_epoch > 0, "{}: an epoch of {} batches makes no step of train.grad_accum {} batches",
            data.train->describe(), sampler.batches_per_epoch(), spec.train.grad_accum);
  return spec.train.epochs * per_epoch;
}

fs::path find_checkpoint(const fs::path& dir) {
  if (fs::exists(dir / "model.safetensors")) return dir;
  for (const fs::path& store_dir : {dir, dir / "checkpoints"}) {
    if (!fs::is_directory(store_dir)) continue;
    if (const auto latest = CheckpointStore(store_dir).latest()) return *latest;
  }
  throw Error(fmt::format("no checkpoint in {} (expected model.safetensors, or step-N folders)", dir.string()));
}

namespace {

// The rank's slice of every global batch, and the checks a world of N ranks adds.
void shard_over_ranks(const ExperimentSpec& spec, ExperimentData& data, const dist::ProcessGroup& group) {
  const int world = group.world_size();
  DLT_CHECK(spec.data.batch_size % world == 0,
            "{}: data.batch_size {} is the global batch, shared by the {} ranks, and must divide by {} (each "
            "rank takes batch_size / {})",
            spec.data.batch_size_location.empty() ? spec.source : spec.data.batch_size_location,
            spec.data.batch_size, world, world, world);
  for (data::LoaderOptions* lo : {&data.train_loader, &data.val_loader}) {
    lo->sampler.rank = group.rank();
    lo->sampler.world_size = world;
  }
}

#ifdef DLT_WITH_NCCL
// This rank's GPU: the only one it sees (srun --gpus-per-task=1), else the
// one of its local rank. NCCL cannot put two ranks on one GPU.
Device rank_gpu(const dist::ProcessGroup& group) {
  const int gpus = device_count(DeviceType::cuda), local = group.local_world_size();
  if (gpus == 1) return Device{DeviceType::cuda, 0};
  DLT_CHECK(gpus >= local,
            "{} ranks on this node but {} GPU{}: NCCL needs a GPU per rank (srun --gpus-per-task=1, or fewer ranks)",
            local, gpus, gpus == 1 ? "" : "s");
  return Device{DeviceType::cuda, group.local_rank()};
}
#endif

// After a stop signal's checkpoint: requeue a preempted Slurm batch job
// (rank 0 runs scontrol; every rank waits for it). Returns the exit status,
// rank 0's on every rank.
int requeue_after_stop(const ExperimentSpec& spec, StopRequest stopped) {
  int status = exit_status(stopped);
  const auto& slurm = dist::launch_env().slurm;
  const bool preempted = stopped == StopRequest::user1 || stopped == StopRequest::terminate;
  if (!preempted || !slurm || spec.train.requeue == config::Requeue::never) return status;
  dist::ProcessGroup& group = dist::world();
  if (group.is_main()) {
    const dist::RequeueOutcome r = dist::requeue_job(*slurm);
    fmt::print(stderr, "{}\n", r.message);
    if (r.result == dist::RequeueResult::no_scontrol) status = dist::kExitRequeueUnavailable;
  }
  // Every rank waits here for rank 0's requeue: a rank that exited first
  // would end the step (srun --kill-on-bad-exit), rank 0 with it, and the job
  // would not come back. And every rank exits with rank 0's status: srun
  // reports the highest of its tasks', so one rank's 138 would hide rank 0's
  // 75 (requeue me) from the batch script.
  if (group.world_size() > 1) {
    Tensor agreed = full({1}, double(status), TensorOptions(DType::i64));
    group.broadcast(agreed, 0);
    status = int(agreed.item<int64_t>());
  }
  return status;
}

}  // namespace

int train_experiment(const ExperimentSpec& spec, bool resume, const std::optional<DumpRequest>& dump,
                     int64_t stop_after, const std::optional<ProfileRequest>& profile, int64_t kill_after) {
  DLT_CHECK(!(dump && resume), "--dump-batches records a fresh run; it cannot be combined with --resume");
  dist::ProcessGroup& group = dist::world();
  const bool distributed = group.world_size() > 1, main_rank = group.is_main();
  DLT_CHECK(!(dump && distributed), "--dump-batches records a single-process run; start it without mpirun/srun");
  group.set_timeout(spec.train.distributed.timeout_s);
  if (spec.train.threads > 0)
    set_num_threads(int(spec.train.threads));
  else if (distributed)
    set_num_threads(dist::default_threads_per_rank());
  if (spec.train.precision == config::Precision::tf32) set_allow_tf32(true);

  ExperimentData data = open_data(spec);
  if (distributed) shard_over_ranks(spec, data, group);
  BuiltModel model = build_model(spec, data.input_shape);

  const auto groups = optim::make_param_groups(model.module->named_parameters(), spec.optim.lr,
                                               spec.optim.weight_decay,
                                               spec.optim.no_decay.empty() ? optim::kDefaultNoDecayPatterns
                                                                           : spec.optim.no_decay);
  optim::OptimizerOptions oo;
  oo.momentum = spec.optim.momentum;
  oo.nesterov = spec.optim.nesterov;
  oo.beta1 = spec.optim.beta1;
  oo.beta2 = spec.optim.beta2;
  oo.eps = spec.optim.eps;
  oo.alpha = spec.optim.alpha;

  TrainerOptions to;
  to.loss = loss_options(spec);
  to.total_steps = total_steps(spec, data);
  to.grad_accum = spec.train.grad_accum;
  to.clip_grad_norm = spec.train.grad_clip;
  to.eval_every = spec.train.eval_every;
  to.log_every = spec.train.log_every;
  to.checkpoint_every = spec.checkpoint.every;
  to.skip_nonfinite = spec.train.on_nonfinite == config::NonFinite::skip;
  to.seed = uint64_t(spec.seed);
  to.config_hash = resume_hash(spec);
  to.stop_after = stop_after;
  to.kill_after = kill_after;
  to.device = config::train_device(spec.train.device);
  to.log.tensorboard = spec.logging.tensorboard;
  to.log.histograms_every = spec.logging.histograms;
  to.log.tokens_per_sample = spec.data.kind == config::DataKind::tokens ? spec.data.block_size : 0;
  to.log.config_yaml = config::resolved_yaml(spec);
  to.log.hparams = leaf_values(to.log.config_yaml);
  to.precision = std::string(config::name_of(spec.train.precision));
  to.mixed_precision = mixed_precision_options(spec.train);
  to.peak = peak_flops(to.device, to.precision);
  to.profile = profile;
  // Gradients of a GPU run travel through NCCL, each rank on its own GPU;
  // CPU numbers (losses, flags) through MPI. Outlives the trainer below.
  std::unique_ptr<dist::ProcessGroup> gpu_group;
  if (distributed && !to.device.is_cpu()) {
#ifdef DLT_WITH_NCCL
    if (spec.train.device == "cuda" || spec.train.device == "auto") to.device = rank_gpu(group);
    gpu_group = dist::make_nccl_group(group, to.device.index);
#else
    throw Error(fmt::format("train.device {} with {} ranks needs the NCCL process group of a -DDLT_CUDA=ON build; "
                            "train on the CPU (train.device: cpu) or on one rank",
                            to.device, group.world_size()));
#endif
  }

  const config::ScheduleSpec& s = spec.schedule;
  optim::ScheduleOptions so;
  so.kind = schedule_of(s.name);
  so.base_lr = spec.optim.lr;
  so.step_size = std::max<int64_t>(1, s.step_size);
  so.gamma = s.gamma;
  so.warmup_steps = s.warmup_steps;
  so.total_steps = to.total_steps;
  so.min_lr = s.min_lr;
  so.max_lr = s.max_lr;
  so.pct_start = s.pct_start;
  so.div_factor = s.div_factor;
  so.final_div_factor = s.final_div_factor;
  const optim::LrSchedule schedule = [&] {
    try {
      return optim::LrSchedule(so);
    } catch (const Error& e) {  // e.g. more warm-up steps than the run has
      throw Error(fmt::format("{}: {}", s.location.empty() ? spec.source : s.location, e.what()));
    }
  }();

  TrainerParts parts;
  parts.model = model.module;
  const std::string optimizer_name(config::name_of(spec.optim.name));
  parts.optimizer = optim::make_optimizer(optimizer_name, groups, oo);
  parts.lr_factor = [schedule](int64_t step) { return schedule.factor(step); };
  parts.generators = {{"model", model.gen.get()}};
  parts.train_data = data.train;
  parts.train_loader = data.train_loader;
  parts.val_data = data.val;
  parts.val_loader = data.val_loader;

  CheckpointPolicy policy;
  policy.keep = spec.checkpoint.keep;
  if (spec.checkpoint.best) {
    policy.best_metric = spec.checkpoint.best->metric;
    policy.maximize = spec.checkpoint.best->mode == config::BestMode::max;
  }
  const fs::path run_dir = spec.run_dir;
  const fs::path checkpoint_dir = spec.checkpoint.dir.empty() ? run_dir / "checkpoints" : fs::path(spec.checkpoint.dir);
  std::shared_ptr<BatchDump> recorder;
  if (dump) {
    recorder = std::make_shared<BatchDump>(*dump, *model.module, to.total_steps, to.grad_accum);
    parts.on_batch = [recorder](int64_t step, const data::Batch& b) { recorder->record_batch(step, b); };
    parts.on_step = [recorder, m = model.module](int64_t step, double loss) { recorder->record_step(step, loss, *m); };
  }
  if (distributed) {
    // The reducer and ZeRO-1's slices view the parameters where they will live.
    model.module->to(to.device);
    const config::DistributedSpec& d = spec.train.distributed;
    parts.data_parallel = std::make_shared<dist::DataParallel>(
        group, gpu_group ? *gpu_group : group, *model.module, *parts.optimizer,
        [&](std::vector<optim::ParamGroup> g) { return optim::make_optimizer(optimizer_name, std::move(g), oo); },
        dist::DataParallelOptions{.bucket_mb = d.bucket_mb,
                                  .overlap = d.overlap,
                                  .shard_optimizer = d.shard_optimizer,
                                  .reduce_dtype = d.reduce_dtype == "bf16" ? std::optional(DType::bf16) : std::nullopt});
  }
  const auto dp = parts.data_parallel;
  // A requeued Slurm job starts its batch script again: continue the run.
  const auto& slurm = dist::launch_env().slurm;
  if (!resume && slurm && slurm->restart_count > 0 && CheckpointStore(checkpoint_dir).latest()) {
    if (main_rank)
      fmt::print(stderr, "Slurm job {} restarted (restart {}): resuming the run\n", slurm->job_id,
                 slurm->restart_count);
    resume = true;
  }
  Trainer trainer(std::move(parts), to, run_dir, checkpoint_dir, policy, main_rank ? stderr : nullptr);
  if (resume)
    trainer.resume();
  else
    trainer.start_fresh();
  if (main_rank) {
    write_file_atomic(run_dir / "config.resolved.yaml", config::resolved_yaml(spec));
    fmt::print(stderr, "{}: {} parameters, {} steps on {}, run folder {}\n", spec.name,
               nn::thousands(model.module->num_parameters()), to.total_steps, to.device, run_dir.string());
    if (to.peak)
      fmt::print(stderr, "MFU against a peak of {:.4g} TFLOP/s ({})\n", to.peak->flops_per_s / 1e12, to.peak->source);
    else
      fmt::print(stderr, "FLOP/s only: no peak for {} ({})\n", to.device,
                 to.device.is_cpu() ? "DLT_PROFILE_OPS times every op alone" : "not in the GPU table");
    if (const auto low = to.mixed_precision.autocast)
      fmt::print(stderr, "mixed precision: {} autocast, f32 weights and their {} copies {}{}{}\n", *low, *low,
                 dp && dp->sharded() ? "cast in each forward pass (ZeRO-1 all-gathers the weights)"
                                     : "written in the optimizer's pass",
                 to.mixed_precision.loss_scale
                     ? fmt::format(", dynamic loss scaling from {}", to.mixed_precision.loss_scale->init_scale)
                     : std::string(),
                 to.device.is_cpu() ? "; " + cpu_gemm_path(*low) : std::string());
    else if (to.mixed_precision.loss_scale)
      fmt::print(stderr, "dynamic loss scaling from {}\n", to.mixed_precision.loss_scale->init_scale);
    if (dp) {
      const auto& buckets = dp->reducer().buckets();
      fmt::print(stderr,
                 "distributed: {}, {} CPU thread{} each, global batch {} = {} x {}, {} gradient bucket{} "
                 "(first {:.2f} MiB, then up to {:g} MiB{}{}), ZeRO-1 {}\n",
                 dist::describe_world(), num_threads(), num_threads() == 1 ? "" : "s", spec.data.batch_size,
                 group.world_size(), spec.data.batch_size / group.world_size(), buckets.size(),
                 buckets.size() == 1 ? "" : "s",
                 buckets.empty() ? 0.0 : double(buckets[0].numel * 4) / (1 << 20), spec.train.distributed.bucket_mb,
                 spec.train.distributed.overlap ? ", overlapping backward" : ", after backward",
                 spec.train.distributed.reduce_dtype == "bf16" ? ", summed in bf16" : "", dp->sharded() ? "on" : "off");
    }
  }

  ensure_stop_handlers();
  const int64_t first_step = trainer.step();
  const dist::GroupStats before = group.stats();
  const TrainResult r = trainer.run();
  restore_default_handlers();
  if (dp && main_rank) {
    const dist::GroupStats& after = group.stats();
    fmt::print(stderr,
               "distributed: {} gradient collectives in {} steps ({} per step, {} buckets), {} collectives in "
               "all, {:.2f} s waiting on them; optimizer state {:.2f} MiB on this rank\n",
               dp->reducer().launched(), r.step - first_step,
               r.step > first_step ? double(dp->reducer().launched()) / double(r.step - first_step) : 0.0,
               dp->reducer().buckets().size(), after.collectives - before.collectives, after.wait_s - before.wait_s,
               double(dp->optimizer_state_bytes()) / (1 << 20));
  }
  if (r.last_eval && main_rank) {
    std::string line = fmt::format("final: step {} val loss {:.4f}", r.step, r.last_eval->loss);
    if (r.last_eval->accuracy) line += fmt::format(" accuracy {:.2f}%", 100 * *r.last_eval->accuracy);
    if (r.last_eval->perplexity) line += fmt::format(" perplexity {:.3f}", *r.last_eval->perplexity);
    fmt::print("{}\n", line);
  }
  return requeue_after_stop(spec, r.stopped);
}

}  // namespace dlt::train
