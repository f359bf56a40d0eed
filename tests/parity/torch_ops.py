"""Computes the torch 1.13 side of the op parity test.

Reads DIR/manifest.jsonl (one entry per op-table row and dtype, written by
tests/ops/test_parity_torch.cpp), evaluates each torch expression on the same
inputs, backpropagates the same upstream gradient, and writes the outputs and
input gradients as float64 files plus DIR/results.jsonl. An entry with
"autocast" runs its forward pass under torch.autocast("cpu", that dtype).
16-bit matrix products and convolutions go through bf16_products, which makes
them accurate on CPUs where torch 1.13's own accumulate in 16 bits.
"""
import contextlib
import json
import os
import sys

# The reference runs with all of this CPU's instructions even where dlt's
# oneDNN is held back for a test (tests/cpu_dispatch/each_set.sh).
for _var in ("ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA"):
    os.environ.pop(_var, None)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from bf16_products import accurate_products  # noqa: E402

DTYPES = {
    "float32": torch.float32, "float64": torch.float64, "float16": torch.float16,
    "bfloat16": torch.bfloat16, "int32": torch.int32, "int64": torch.int64,
    "uint8": torch.uint8, "bool": torch.bool,
}


def load(directory, spec):
    """An input tensor: float64/int64/bool file -> torch dtype, strided if asked."""
    raw = np.fromfile(os.path.join(directory, spec["file"]), dtype=np.float64)
    t = torch.from_numpy(raw.reshape(spec["shape"])).to(DTYPES[spec["dtype"]])
    if spec["noncontig"] and t.dim() > 0:
        wide = torch.zeros(*t.shape[:-1], 2 * t.shape[-1], dtype=t.dtype)
        wide[..., ::2] = t
        t = wide[..., ::2]
    return t


def run(directory, entry, compute_dtype):
    xs = []
    for spec in entry["inputs"]:
        t = load(directory, spec)
        if compute_dtype is not None and t.is_floating_point():
            t = t.to(compute_dtype)
        if spec["grad"] and t.is_floating_point():
            t = t.detach().requires_grad_(True)
        xs.append(t)
    scope = {"torch": torch, "F": F}
    scope.update({f"x{i}": x for i, x in enumerate(xs)})
    autocast = entry.get("autocast")
    region = (torch.autocast("cpu", dtype=DTYPES[autocast]) if autocast
              else contextlib.nullcontext())
    with region, accurate_products():
        y = eval(entry["expr"], scope)
    grads = []
    if entry["upstream"] is not None and y.requires_grad:
        w = torch.from_numpy(np.fromfile(os.path.join(directory, entry["upstream"]),
                                         dtype=np.float64).reshape(y.shape)).to(y.dtype)
        y.backward(w)
        grads = [None if x.grad is None else x.grad for x in xs]
    return y, grads


def main(directory):
    torch.set_num_threads(1)
    results = []
    with open(os.path.join(directory, "manifest.jsonl")) as f:
        entries = [json.loads(line) for line in f]
    for e in entries:
        key = e["key"]
        result = {"key": key}
        try:
            try:
                y, grads = run(directory, e, None)
            except RuntimeError as err:
                # Some CPU kernels of torch 1.13 lack float16/bfloat16: compute in
                # float32 from the same (already rounded) inputs.
                if e.get("autocast") or ("Half" not in str(err) and "BFloat16" not in str(err)):
                    raise
                y, grads = run(directory, e, torch.float32)
                result["fallback"] = "float32"
            result["shape"] = list(y.shape)
            y.detach().to(torch.float64).numpy().tofile(os.path.join(directory, key + "_out.bin"))
            result["grads"] = []
            for i, g in enumerate(grads):
                if g is None:
                    result["grads"].append(None)
                    continue
                name = f"{key}_grad{i}.bin"
                g.to(torch.float64).numpy().tofile(os.path.join(directory, name))
                result["grads"].append(name)
        except Exception as err:  # reported per row on the C++ side
            result["error"] = f"{type(err).__name__}: {err}"
        results.append(result)
    with open(os.path.join(directory, "results.jsonl"), "w") as f:
        for r in results:
            f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
