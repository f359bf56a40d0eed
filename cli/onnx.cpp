// dlt onnx: ONNX models run by dlt's importer.
//   dlt onnx info model.onnx
//   dlt onnx run model.onnx --input x.npy|x.h5[:key]|name=FILE --out y.h5 [--device cuda]
//   dlt onnx test DIR... [--expect-pass LIST]     (ONNX's backend node tests)
#include <fmt/core.h>

#include <fstream>
#include <map>

#include "cli/commands.h"
#include "dlt/data/array_file.h"
#include "dlt/onnx/import/model.h"
#include "dlt/onnx/import/node_tests.h"

namespace dlt::cli {

namespace {

using onnx_import::Model;

void print_info(const Model& model) {
  const auto& p = model.proto();
  fmt::print("{}: IR version {}, opset {}, produced by {} {}\n", model.source(), p.ir_version(),
             model.opset(), p.producer_name().empty() ? "(unknown)" : p.producer_name(),
             p.producer_version());
  int64_t parameters = 0;
  for (const auto& t : p.graph().initializer()) {
    int64_t n = 1;
    for (int64_t d : t.dims()) n *= d;
    parameters += n;
  }
  fmt::print("initializers: {} ({} values)\n", p.graph().initializer_size(), parameters);
  for (const auto& v : model.inputs()) fmt::print("input  {}: {}\n", v.name, v.type_str());
  for (const auto& v : model.outputs()) fmt::print("output {}: {}\n", v.name, v.type_str());
  const auto unsupported = model.unsupported();
  fmt::print("ops:\n");
  for (const auto& [op_type, count] : model.op_counts()) {
    const std::string& op = op_type;  // lambdas cannot capture structured bindings (clang)
    const bool missing = std::any_of(unsupported.begin(), unsupported.end(),
                                     [&](const auto& u) { return u.op_type == op; });
    fmt::print("  {:<28} {:>5}  {}\n", op, count, missing ? "not supported" : "supported");
  }
  if (unsupported.empty()) fmt::print("dlt runs every node of this model\n");
  else fmt::print("dlt cannot run {} op type(s) of this model\n", unsupported.size());
}

void run_model(const std::string& path, const std::vector<std::string>& input_specs,
               const std::string& out, const std::string& device_name) {
  const Model model = Model::load(path);
  const Device device = Device::parse(device_name);
  std::map<std::string, Tensor> feeds;
  for (const std::string& spec : input_specs) {
    const auto eq = spec.find('=');
    std::string name;
    if (eq != std::string::npos) name = spec.substr(0, eq);
    else {
      DLT_CHECK(model.inputs().size() == 1,
                "--input {}: the model has {} inputs; give each as NAME=FILE", spec, model.inputs().size());
      name = model.inputs()[0].name;
    }
    feeds[name] = data::read_array_file(eq == std::string::npos ? spec : spec.substr(eq + 1));
  }
  const auto outputs = model.run(feeds, device);
  data::write_array_file(out, outputs);
  for (const auto& [name, t] : outputs) fmt::print("{}: {} {}\n", name, dtype_name(t.dtype()), shape_str(t.shape()));
  fmt::print("wrote {} output(s) to {}\n", outputs.size(), out);
}

// Runs node-test folders; prints one line per test, the op table and the
// totals. With --expect-pass, each listed test must pass (exit 1 otherwise).
void run_node_tests(const std::vector<std::string>& paths, const std::string& device_name,
                    const std::string& expect_pass, const std::string& report, bool verbose) {
  using Status = onnx_import::NodeTestResult::Status;
  const Device device = Device::parse(device_name);
  std::vector<onnx_import::NodeTestResult> results;
  for (const std::string& p : paths)
    for (const auto& dir : onnx_import::find_node_tests(p)) results.push_back(onnx_import::run_node_test(dir, device));
  std::map<std::string, std::array<int, 3>> per_op;  // op -> passed, failed, skipped
  int totals[3] = {0, 0, 0};
  for (const auto& r : results) {
    ++totals[static_cast<int>(r.status)];
    for (const auto& op : r.ops) ++per_op[op][static_cast<size_t>(r.status)];
    if (verbose || r.status == Status::failed)
      fmt::print("{:<7} {}{}{}\n", onnx_import::status_name(r.status), r.name, r.reason.empty() ? "" : ": ",
                 r.reason);
  }
  if (!report.empty()) {
    std::ofstream out(report);
    DLT_CHECK(out, "--report {}: cannot write", report);
    out << "test\tstatus\tops\treason\n";
    for (const auto& r : results)
      out << r.name << '\t' << onnx_import::status_name(r.status) << '\t' << fmt::format("{}", fmt::join(r.ops, ","))
          << '\t' << r.reason << '\n';
  }
  fmt::print("\n{:<28} {:>6} {:>6} {:>7}\n", "op", "passed", "failed", "skipped");
  for (const auto& [op, c] : per_op) fmt::print("{:<28} {:>6} {:>6} {:>7}\n", op, c[0], c[1], c[2]);
  fmt::print("\n{} passed, {} failed, {} skipped\n", totals[0], totals[1], totals[2]);
  if (expect_pass.empty()) return;
  std::ifstream list(expect_pass);
  DLT_CHECK(list, "--expect-pass {}: cannot read", expect_pass);
  std::vector<std::string> regressed, absent;
  for (std::string name; std::getline(list, name);) {
    if (name.empty() || name[0] == '#') continue;
    auto it = std::find_if(results.begin(), results.end(), [&](const auto& r) { return r.name == name; });
    if (it == results.end()) absent.push_back(name);
    else if (it->status != Status::passed) regressed.push_back(name);
  }
  DLT_CHECK(absent.empty(), "--expect-pass {}: {} listed test(s) not found: {}", expect_pass, absent.size(),
            fmt::join(absent, ", "));
  if (!regressed.empty()) {
    fmt::print(stderr, "error: {} test(s) of {} no longer pass: {}\n", regressed.size(), expect_pass,
               fmt::join(regressed, ", "));
    command_exit_status = 1;
  }
}

}  // namespace

void add_onnx_command(CLI::App& app) {
  auto* onnx = app.add_subcommand("onnx", "Run ONNX models with dlt's importer (info, run, test)");
  onnx->require_subcommand(1);

  auto info_file = std::make_shared<std::string>();
  auto* info = onnx->add_subcommand("info", "Inputs, outputs and ops of an ONNX model, and which ops dlt runs.\n"
                                            "Example: dlt onnx info model.onnx");
  info->add_option("model", *info_file, "ONNX model file")->required();
  info->callback([info_file] { print_info(Model::load(*info_file)); });

  struct RunArgs {
    std::string model, out, device = "cpu";
    std::vector<std::string> inputs;
  };
  auto r = std::make_shared<RunArgs>();
  auto* run = onnx->add_subcommand(
      "run", "Run an ONNX model forward; writes each graph output to --out (.h5, or .npy for one output).\n"
             "Example: dlt onnx run model.onnx --input x.npy --out y.h5");
  run->add_option("model", r->model, "ONNX model file")->required();
  run->add_option("--input", r->inputs,
                  "FILE.npy or FILE.h5[:KEY], as NAME=FILE for models with several inputs (repeatable)")
      ->required();
  run->add_option("--out", r->out, "Output file (.h5 with one dataset per output, or .npy)")->required();
  run->add_option("--device", r->device, "cpu, cuda or cuda:N");
  run->callback([r] { run_model(r->model, r->inputs, r->out, r->device); });

  struct TestArgs {
    std::vector<std::string> paths;
    std::string device = "cpu", expect_pass, report;
    bool verbose = false;
  };
  auto t = std::make_shared<TestArgs>();
  auto* test = onnx->add_subcommand(
      "test", "Run ONNX backend node tests (folders with model.onnx and test_data_set_*) and compare\n"
              "outputs as ONNX's runner does. Example: dlt onnx test $ONNX/backend/test/data/node");
  test->add_option("paths", t->paths, "Test folders, or folders of test folders")->required();
  test->add_option("--device", t->device, "cpu, cuda or cuda:N");
  test->add_option("--expect-pass", t->expect_pass, "A list of test names that must pass (exit 1 if not)");
  test->add_option("--report", t->report, "Write one TSV row per test (name, status, ops, reason)");
  test->add_flag("-v,--verbose", t->verbose, "Print every test, not only the failures");
  test->callback([t] { run_node_tests(t->paths, t->device, t->expect_pass, t->report, t->verbose); });
}

}  // namespace dlt::cli
