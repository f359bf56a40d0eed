"""Checks dlt's ONNX exports with the reference tools: onnx's checker (full
check: strict shape inference) and ONNX Runtime's CPU outputs against dlt's.

    python3 check_export_ort.py MANIFEST.json

The manifest (written by tests/onnx/test_export*.cpp) lists cases:
  {"name": "GPT", "onnx": "gpt.onnx", "io": "gpt_io.safetensors",
   "state": "model.safetensors", "opset": 17, "atol": 1e-4,
   "max_size_ratio": 1.05, "unused": [], "aliases": 1, "seq": true}
io holds pairs "input.K" / "output.K": dlt's inputs and outputs for runs of
different batch sizes or sequence lengths. state holds the model's tensors
by their state-dict names (a checkpoint's model.safetensors).

Per case: the checker; IR 8, the opset, producer "dlt"; dim_param "batch" on
the input and output (and "seq" on the ids' dim 1 when "seq" is true); every initializer named after
a state-dict tensor is bit-identical to it, every other one is a constant of
the documented names; every state-dict tensor is an initializer unless it is
num_batches_tracked, a tied alias of one ("aliases" of them), or listed as
unused; no tensor is
stored twice; the file is at most max_size_ratio times the parameters'
bytes; ONNX Runtime's outputs are within atol of dlt's. Prints one line per
case. Exit 0: all pass; 1: a failure; 77: onnx or onnxruntime missing.
"""
import json
import os
import re
import sys

try:
    import numpy as np
    import onnx
    import onnxruntime as ort
    from onnx import numpy_helper
    from safetensors.numpy import load_file
except ImportError as e:  # the caller skips visibly
    print(f"SKIPPED: {e} (python3 -m pip install onnx==1.22.0 onnxruntime safetensors numpy)")
    sys.exit(77)

# Names of the constants the exporter adds besides the parameters.
CONSTANT = re.compile(r"^(const\..+|causal_mask|rotary\.(cos|sin)|.+\.scales)$")


def dim_param(value_info, i):
    dims = value_info.type.tensor_type.shape.dim
    return dims[i].dim_param if i < len(dims) else None


def check_case(case, base):
    path = lambda p: p if os.path.isabs(p) else os.path.join(base, p)
    onnx_path = path(case["onnx"])
    errors = []
    onnx.checker.check_model(onnx_path, full_check=True)
    model = onnx.load(onnx_path)
    if model.ir_version != 8:
        errors.append(f"ir_version {model.ir_version}, expected 8")
    opsets = {o.domain: o.version for o in model.opset_import}
    if opsets.get("", None) != case.get("opset", 17) or len(opsets) != 1:
        errors.append(f"opset_import {opsets}, expected {{'': {case.get('opset', 17)}}}")
    if model.producer_name != "dlt":
        errors.append(f"producer_name {model.producer_name!r}")
    graph = model.graph
    inp, out = graph.input[0], graph.output[0]
    if dim_param(inp, 0) != "batch" or dim_param(out, 0) != "batch":
        errors.append("no dim_param 'batch' on the input's or output's first dim")
    if case.get("seq") and dim_param(inp, 1) != "seq":
        errors.append("token ids without dim_param 'seq'")

    state = load_file(path(case["state"]))
    inits = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    param_bytes = 0
    for name, value in inits.items():
        if name in state:
            ref = state[name]
            if value.dtype != ref.dtype or value.shape != ref.shape or value.tobytes() != ref.tobytes():
                errors.append(f"initializer {name} differs from the state dict's tensor")
            param_bytes += value.nbytes
        elif not CONSTANT.match(name):
            errors.append(f"initializer {name} is neither a state-dict tensor nor a named constant")
    stored = {}
    for name, value in inits.items():
        if value.size > 16:
            key = (value.dtype.str, value.shape, value.tobytes())
            if key in stored:
                errors.append(f"initializers {stored[key]} and {name} hold the same tensor")
            stored[key] = name
    aliases = 0
    for name, ref in state.items():
        if name in inits or name.endswith("num_batches_tracked") or name in case.get("unused", []):
            continue
        if any(v.shape == ref.shape and v.dtype == ref.dtype and v.tobytes() == ref.tobytes()
               for n, v in inits.items() if n in state):
            aliases += 1  # a tied weight, stored under its first name
            continue
        errors.append(f"state-dict tensor {name} is not in the graph")
    if "aliases" in case and aliases != case["aliases"]:
        errors.append(f"{aliases} state-dict names are aliases of an initializer, expected {case['aliases']}")
    size = os.path.getsize(onnx_path)
    ratio = case.get("max_size_ratio")
    if ratio and size > ratio * param_bytes:
        errors.append(f"file of {size} bytes is more than {ratio} x the {param_bytes} parameter bytes")

    io = load_file(path(case["io"]))
    session = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    worst = 0.0
    runs = []
    for k in sorted(int(key.split(".")[1]) for key in io if key.startswith("input.")):
        x, expected = io[f"input.{k}"], io[f"output.{k}"]
        got = session.run(None, {inp.name: x})[0]
        if got.shape != expected.shape:
            errors.append(f"run {k}: output shape {got.shape}, dlt's {expected.shape}")
            continue
        diff = float(np.max(np.abs(got.astype(np.float64) - expected.astype(np.float64)))) if got.size else 0.0
        if not np.isfinite(diff) or diff > case.get("atol", 1e-4):
            errors.append(f"run {k} (input {list(x.shape)}): max abs diff {diff:.3g} > {case.get('atol', 1e-4)}")
        worst = max(worst, diff)
        runs.append("x".join(map(str, x.shape)))
    ops = sorted({n.op_type for n in graph.node})
    print(f"{'FAIL' if errors else 'ok  '} {case['name']}: max abs diff {worst:.3g} over inputs "
          f"{', '.join(runs)}; {size} bytes ({param_bytes} of parameters); "
          f"{len(graph.node)} nodes: {' '.join(ops)}")
    for e in errors:
        print(f"       {e}")
    return not errors


def main():
    manifest = sys.argv[1]
    with open(manifest) as f:
        cases = json.load(f)["cases"]
    base = os.path.dirname(os.path.abspath(manifest))
    ok = True
    for case in cases:
        try:
            ok = check_case(case, base) and ok
        except Exception as e:  # a checker or runtime failure is this case's failure
            print(f"FAIL {case['name']}: {type(e).__name__}: {e}")
            ok = False
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
