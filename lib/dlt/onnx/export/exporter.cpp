#include "dlt/onnx/export/exporter.h"

#include "dlt/core/grad_mode.h"
#include "dlt/onnx/export/context.h"
#include "dlt/onnx/proto.h"

namespace dlt::onnx_export {

namespace {

// The model in eval mode while it exports, in its own mode again after.
class EvalMode {
 public:
  explicit EvalMode(nn::Module& m) : m_(m), was_training_(m.training()) { m.eval(); }
  ~EvalMode() { m_.train(was_training_); }

 private:
  nn::Module& m_;
  bool was_training_;
};

// The dtype of the model's floating parameters and buffers: float32 only,
// what every checkpoint of `dlt train` holds.
DType model_dtype(const nn::Module& model) {
  for (const auto& [name, t] : model.state_dict()) {
    if (!is_floating(t.dtype())) continue;
    DLT_CHECK(t.dtype() == DType::f32,
              "cannot export to ONNX: {} is {}, and dlt exports float32 models only", name,
              dtype_name(t.dtype()));
  }
  return DType::f32;
}

}  // namespace

namespace {

// The graph of the model for inputs of `sample_shape`; token ids' length
// dynamic when `dynamic_seq`.
onnx::ModelProto build(nn::Module& model, const Shape& sample_shape, DType input_dtype,
                       const ExportOptions& options, DType dtype, bool dynamic_seq) {
  onnx::ModelProto m;
  m.set_ir_version(onnx_io::kIrVersion);
  m.set_producer_name("dlt");
  m.set_producer_version(DLT_VERSION);
  onnx::OperatorSetIdProto* opset = m.add_opset_import();
  opset->set_domain("");
  opset->set_version(options.opset);
  onnx::GraphProto* graph = m.mutable_graph();
  graph->set_name(model.type());
  GraphBuilder g(graph);
  ExportContext ctx(g, model, options.opset, dtype);

  Value x;
  if (is_integral(input_dtype)) {
    // Token ids [T]: the sequence length is dynamic too; causal attention
    // masks up to the length the model was built for, unless the model
    // knows its block_size.
    x.name = "input_ids";
    x.shape = {kBatchDim};
    x.shape.insert(x.shape.end(), sample_shape.begin(), sample_shape.end());
    if (dynamic_seq) {
      x.shape[1] = kSeqDim;
      ctx.max_positions = sample_shape[0];
    }
    g.add_input(x.name, onnx::TensorProto::INT64, x.shape);
  } else {
    x.name = "input";
    x.shape = {kBatchDim};
    x.shape.insert(x.shape.end(), sample_shape.begin(), sample_shape.end());
    g.add_input(x.name, onnx_io::onnx_dtype(dtype), x.shape);
  }
  const Value y = ctx.run(model, "", x);
  g.rename_value(y.name, options.output_name);
  g.add_output(options.output_name, onnx_io::onnx_dtype(dtype), y.shape);
  return m;
}

}  // namespace

onnx::ModelProto export_model(nn::Module& model, const Shape& sample_shape, DType input_dtype,
                              const ExportOptions& options) {
  check_opset(options.opset);
  const DType dtype = model_dtype(model);
  DLT_CHECK(is_integral(input_dtype) || input_dtype == DType::f32,
            "cannot export to ONNX: inputs of {} (dlt exports float32 inputs and integer ids)",
            dtype_name(input_dtype));
  const EvalMode eval(model);
  const NoGradGuard no_grad;
  const bool tokens = is_integral(input_dtype) && sample_shape.size() == 1;
  if (tokens) {
    try {
      return build(model, sample_shape, input_dtype, options, dtype, true);
    } catch (const ExportContext::FixedSequenceNeeded&) {
      // A layer folds T into its features: the model works at its own T only.
    }
  }
  return build(model, sample_shape, input_dtype, options, dtype, false);
}

}  // namespace dlt::onnx_export
