"""The torch 1.13 side of the nn module parity tests (tests/nn/torch_module_parity.cpp).

DIR/manifest.jsonl has one case per line: a Python expression building the
torch module, train or eval mode, the input and the state dict as float64
files. For each case this builds the module in float64, loads the state dict
strictly (dlt's names must be torch's), runs the forward and backpropagates
DIR/<name>.upstream.bin, then writes <name>.output.bin, <name>.input_grad.bin,
<name>.grad.<param>.bin and <name>.after.<buffer>.bin as float64, and one line
"name TAB error TAB shape" per case to DIR/results.tsv.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import torch_nn2_models as nn2  # the composite layers' twins (this folder)

DTYPES = {"float32": torch.float32, "float64": torch.float64, "int64": torch.int64,
          "int32": torch.int32}


class Residual(nn.Module):
    """dlt's Residual: body(x) + (projection(x) if projection else x)."""

    def __init__(self, body, projection=None):
        super().__init__()
        self.body = body
        if projection is not None:
            self.projection = projection
        else:
            self.projection = None

    def forward(self, x):
        return self.body(x) + (x if self.projection is None else self.projection(x))


class Reshape(nn.Module):
    """dlt's Reshape: each sample to `shape`."""

    def __init__(self, *shape):
        super().__init__()
        self.shape = shape

    def forward(self, x):
        return x.reshape(x.shape[0], *self.shape)


def load(directory, spec):
    raw = np.fromfile(os.path.join(directory, spec["file"]), dtype=np.float64)
    return torch.from_numpy(raw.reshape(spec["shape"])).to(DTYPES[spec["dtype"]])


def save(directory, name, t):
    t.detach().to(torch.float64).contiguous().numpy().tofile(os.path.join(directory, name))


def run(directory, case):
    name = case["name"]
    scope = {"torch": torch, "nn": nn, "F": F, "Residual": Residual, "Reshape": Reshape,
             "nn2": nn2}
    module = eval(case["torch"], scope)
    state = {k: load(directory, spec) for k, spec in case["state"].items()}
    # The module's floating tensors take the dtype dlt used.
    floating = [t for t in state.values() if t.is_floating_point()]
    if floating:
        module = module.to(floating[0].dtype)
    module.load_state_dict(state, strict=True)
    module.train(case["training"])
    x = load(directory, case["input"])
    if x.is_floating_point():
        x.requires_grad_(True)
    y = module(x)
    save(directory, f"{name}.output.bin", y)
    if y.requires_grad:
        up = np.fromfile(os.path.join(directory, f"{name}.upstream.bin"), dtype=np.float64)
        y.backward(torch.from_numpy(up.reshape(y.shape)).to(y.dtype))
    if x.grad is not None:
        save(directory, f"{name}.input_grad.bin", x.grad)
    for pname, p in module.named_parameters():
        if p.grad is not None:
            save(directory, f"{name}.grad.{pname}.bin", p.grad)
    for bname, b in module.named_buffers():
        save(directory, f"{name}.after.{bname}.bin", b)
    return "[" + ", ".join(str(d) for d in y.shape) + "]"


def main(directory):
    torch.set_num_threads(1)
    lines = []
    with open(os.path.join(directory, "manifest.jsonl")) as f:
        cases = [json.loads(line) for line in f if line.strip()]
    for case in cases:
        try:
            shape = run(directory, case)
            lines.append(f"{case['name']}\t\t{shape}")
        except Exception as err:  # reported per case by the C++ side
            message = f"{type(err).__name__}: {err}".replace("\n", " ").replace("\t", " ")
            lines.append(f"{case['name']}\t{message}\t")
    with open(os.path.join(directory, "results.tsv"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
