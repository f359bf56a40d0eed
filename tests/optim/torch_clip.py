"""torch.nn.utils.clip_grad_norm_ on the gradients tests/optim/test_clip.cpp writes.
Usage: torch_clip.py FOLDER. FOLDER/spec.txt has lines "dtype max_norm" then one
"shape" line per gradient (dims separated by commas, "-" for a parameter without
gradient); grad_<i>.bin are float64. Writes norm.bin and clipped_<i>.bin.
"""
import os
import sys

import numpy as np
import torch


def main():
    folder = sys.argv[1]
    with open(os.path.join(folder, "spec.txt")) as f:
        lines = f.read().split("\n")
    dtype_name, max_norm = lines[0].split()
    dtype = {"float32": torch.float32, "float64": torch.float64}[dtype_name]
    params = []
    for i, shape in enumerate(l for l in lines[1:] if l):
        if shape == "-":
            params.append(torch.zeros(1, dtype=dtype, requires_grad=True))
            continue
        dims = [int(d) for d in shape.split(",")]
        p = torch.zeros(dims, dtype=dtype, requires_grad=True)
        g = np.fromfile(os.path.join(folder, f"grad_{i}.bin"), dtype=np.float64)
        p.grad = torch.from_numpy(g).reshape(dims).to(dtype)
        params.append(p)
    norm = torch.nn.utils.clip_grad_norm_(params, float(max_norm))
    np.array([float(norm)]).tofile(os.path.join(folder, "norm.bin"))
    for i, p in enumerate(params):
        if p.grad is not None:
            p.grad.to(torch.float64).numpy().tofile(os.path.join(folder, f"clipped_{i}.bin"))


if __name__ == "__main__":
    main()
