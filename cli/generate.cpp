// dlt generate: sample text from a trained decoder language model (GPT,
// Llama) of a checkpoint, through the tokenizer of the run's token file.
#include <fmt/core.h>

#include <cstdio>

#include "cli/commands.h"
#include "dlt/config/experiment.h"
#include "dlt/data/tokenizer.h"
#include "dlt/generate/generate.h"
#include "dlt/train/experiment.h"
#include "dlt/train/trainer.h"

namespace dlt::cli {
namespace {

struct Args {
  std::string file, checkpoint, prompt, tokenizer;
  std::vector<std::string> overrides;
  generate::GenerateOptions options;
};

void run_generate(const Args& a) {
  const config::ExperimentSpec spec = config::load_experiment(a.file, a.overrides);
  DLT_CHECK(spec.data.kind == config::DataKind::tokens,
            "{}: dlt generate needs a language model trained on tokens (data.kind: tokens)", a.file);
  const std::string tokenizer_file = a.tokenizer.empty() ? spec.data.file : a.tokenizer;
  const auto tokenizer = data::load_tokenizer(tokenizer_file);

  train::BuiltModel model = train::build_model(spec, {spec.data.block_size});
  auto* lm = dynamic_cast<nn::CausalLM*>(model.module.get());
  DLT_CHECK(lm, "{}: dlt generate needs a decoder language model (GPT or Llama) as the model, got {}",
            a.file, model.module->type());
  DLT_CHECK(tokenizer->vocab_size() <= lm->vocab_size(),
            "the tokenizer of {} ({}) has more tokens than the model's vocab_size ({})",
            tokenizer_file, tokenizer->describe(), lm->vocab_size());
  train::Trainer::load_model(*model.module, train::find_checkpoint(a.checkpoint));
  model.module->to(config::train_device(spec.train.device));

  DLT_CHECK(!a.prompt.empty(), "--prompt must not be empty");
  const std::vector<int64_t> prompt = tokenizer->encode(a.prompt);
  DLT_CHECK(!prompt.empty(), "--prompt '{}' encodes to no tokens", a.prompt);

  // One sample streams its text as it is generated; several print at the end.
  const bool stream = a.options.samples == 1;
  std::vector<int64_t> so_far;
  size_t printed = 0;
  if (stream) std::fputs(a.prompt.c_str(), stdout);
  const auto on_tokens = [&](const std::vector<int64_t>& next) {
    if (!stream) return;
    so_far.push_back(next[0]);
    const std::string text = tokenizer->decode(so_far);
    if (text.size() > printed) {
      std::fwrite(text.data() + printed, 1, text.size() - printed, stdout);
      std::fflush(stdout);
      printed = text.size();
    }
  };
  const auto samples = generate::generate(*model.module, *lm, prompt, a.options, on_tokens);
  if (stream) {
    std::fputs("\n", stdout);
    return;
  }
  for (size_t s = 0; s < samples.size(); ++s)
    fmt::print("--- sample {}\n{}{}\n", s + 1, a.prompt, tokenizer->decode(samples[s]));
}

}  // namespace

void add_generate_command(CLI::App& app) {
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "generate",
      "Sample text from a checkpoint's language model (GPT, Llama) with a KV cache.\n"
      "Example: dlt generate configs/kjv_llama.yaml --checkpoint runs/kjv_llama "
      "--prompt \"In the beginning\" --tokens 200 --temperature 0.8 --top-k 50 --seed 1");
  cmd->add_option("file", a->file, "Experiment YAML file of the run")->required();
  cmd->add_option("--checkpoint", a->checkpoint,
                  "A checkpoint folder (step-N), or a run or checkpoints folder (its latest)")
      ->required();
  cmd->add_option("--prompt", a->prompt, "Text to continue")->required();
  cmd->add_option("--tokens", a->options.tokens, "New tokens per sample")
      ->capture_default_str()
      ->check(CLI::Range(int64_t(0), int64_t(1) << 30));
  cmd->add_option("--temperature", a->options.sampling.temperature,
                  "Softmax temperature; 0: always the most likely token")
      ->capture_default_str();
  cmd->add_option("--top-k", a->options.sampling.top_k, "Draw from the k most likely tokens (0: all)")
      ->capture_default_str();
  cmd->add_option("--top-p", a->options.sampling.top_p,
                  "Draw from the most likely tokens whose probability reaches p (1: all)")
      ->capture_default_str();
  cmd->add_option("--seed", a->options.seed, "Seed of the draws")->capture_default_str();
  cmd->add_option("--samples", a->options.samples, "Sequences to generate (one batch)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t(1), int64_t(4096)));
  cmd->add_option("--tokenizer", a->tokenizer,
                  "Token file whose vocabulary to use (default: the config's data.file)");
  cmd->add_option("--set", a->overrides, "Override a value: key.path=value (repeatable)")
      ->allow_extra_args(false);
  cmd->callback([a] { run_generate(*a); });
}

}  // namespace dlt::cli
