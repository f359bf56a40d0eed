// dlt export: a checkpoint's model as an ONNX file, checked by Debian's ONNX
// checker before it is written.
#include <fmt/core.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "cli/commands.h"
#include "dlt/config/experiment.h"
#include "dlt/onnx/export/export_file.h"
#include "dlt/train/experiment.h"

namespace dlt::cli {

namespace {

namespace fs = std::filesystem;

// --out must be a file in an existing, writable folder: said before any work.
void check_destination(const std::string& out) {
  const fs::path p(out);
  DLT_CHECK(!fs::is_directory(p), "--out {} is a folder; give the .onnx file to write", out);
  const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  DLT_CHECK(fs::is_directory(dir), "cannot write --out {}: the folder {} does not exist", out,
            dir.string());
  DLT_CHECK(::access(dir.c_str(), W_OK) == 0,
            "cannot write --out {}: the folder {} is not writable", out, dir.string());
}

std::string dims_str(const Shape& sample, bool tokens) {
  if (tokens) return "(batch, seq)";
  std::string s = "(batch";
  for (int64_t d : sample) s += fmt::format(", {}", d);
  return s + ")";
}

}  // namespace

void add_export_command(CLI::App& app) {
  struct Args {
    std::string file, checkpoint, out;
    int64_t opset = onnx_export::ExportOptions{}.opset;
    std::vector<std::string> overrides;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "export",
      "Write a checkpoint's model as an ONNX file (eval mode; dynamic batch, and sequence\n"
      "length for token models), checked by the ONNX checker before it is written.\n"
      "Example: dlt export configs/fashion_cnn.yaml --checkpoint runs/fashion_cnn "
      "--out model.onnx");
  cmd->add_option("file", a->file, "Experiment YAML file")->required();
  cmd->add_option("--checkpoint", a->checkpoint,
                  "A checkpoint folder (step-N), or a run or checkpoints folder (its latest)")
      ->required();
  cmd->add_option("--out", a->out, "ONNX file to write")->required();
  cmd->add_option(
         "--opset", a->opset,
         fmt::format("ONNX opset, {} to {}", onnx_export::kMinOpset, onnx_export::kMaxOpset))
      ->capture_default_str();
  cmd->add_option("--set", a->overrides, "Override a value: key.path=value (repeatable)")
      ->allow_extra_args(false);
  cmd->callback([a] {
    onnx_export::check_opset(a->opset);
    check_destination(a->out);
    const config::ExperimentSpec spec = config::load_experiment(a->file, a->overrides);
    const fs::path checkpoint = train::find_checkpoint(a->checkpoint);
    // The sample shape and dtype the model was built for: the data's.
    const train::ExperimentData data = train::open_data(spec);
    train::BuiltModel model = train::build_model(spec, data.input_shape);
    train::Trainer::load_model(*model.module, checkpoint);

    onnx_export::ExportOptions options;
    options.opset = a->opset;
    // Models trained through cross_entropy or bce_with_logits give logits.
    const train::Task task = train::loss_options(spec).task;
    options.output_name = task == train::Task::regression ? "output" : "logits";
    const auto start = std::chrono::steady_clock::now();
    const onnx_export::ExportReport r = onnx_export::export_onnx_file(
        *model.module, data.input_shape, data.input_dtype, options, a->out);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const bool tokens = is_integral(data.input_dtype) && data.input_shape.size() == 1;
    fmt::print(
        "wrote {} ({} bytes) in {:.2f} s: {} from {}, opset {}, input {} {}, output {}; "
        "{} nodes, {} initializers ({} bytes)\n",
        a->out, r.file_bytes, seconds, model.module->type(), checkpoint.string(), a->opset, r.input,
        dims_str(data.input_shape, tokens), r.output, r.nodes, r.initializers, r.initializer_bytes);
  });
}

}  // namespace dlt::cli
