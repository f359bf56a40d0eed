"""Applies torch 1.13's optimizers to the cases tests/optim/test_optimizers_torch.cpp
writes, and writes back the parameters and optimizer state after every step.

Usage: torch_optim.py ROOT. Each folder ROOT/<case>/ holds spec.json, init_<i>.bin
(initial values of parameter i) and grad_<k>_<i>.bin (its gradient at step k, when it
has one), all float64. Writes ROOT/<case>/out_<k>/<key>.bin and out_<k>/keys.txt with
keys "param.<name>", "<state>.<name>" and "step.<name>".
"""
import json
import os
import sys

import numpy as np
import torch


def read(path, shape, dtype):
    return torch.from_numpy(np.fromfile(path, dtype=np.float64)).reshape(shape).to(dtype)


def write(path, t):
    t.detach().to(torch.float64).contiguous().numpy().tofile(path)


def make_optimizer(spec, groups):
    o = spec["options"]
    name = spec["optimizer"]
    if name == "sgd":
        return torch.optim.SGD(groups, lr=1.0, momentum=o["momentum"], dampening=o["dampening"],
                               nesterov=o["nesterov"], foreach=False)
    if name == "adam":
        return torch.optim.Adam(groups, lr=1.0, betas=(o["beta1"], o["beta2"]), eps=o["eps"],
                                foreach=False)
    if name == "adamw":
        return torch.optim.AdamW(groups, lr=1.0, betas=(o["beta1"], o["beta2"]), eps=o["eps"],
                                 foreach=False)
    if name == "rmsprop":
        return torch.optim.RMSprop(groups, lr=1.0, alpha=o["alpha"], eps=o["eps"],
                                   momentum=o["momentum"], centered=o["centered"], foreach=False)
    raise ValueError(name)


def run_case(folder):
    with open(os.path.join(folder, "spec.json")) as f:
        spec = json.load(f)
    dtype = {"float32": torch.float32, "float64": torch.float64}[spec["dtype"]]
    params = []
    for i, p in enumerate(spec["params"]):
        t = read(os.path.join(folder, f"init_{i}.bin"), p["shape"], dtype)
        params.append(t.requires_grad_(True))
    groups = [{"params": [params[i] for i in g["params"]], "lr": g["lr"],
               "weight_decay": g["weight_decay"]} for g in spec["groups"]]
    opt = make_optimizer(spec, groups)
    for k in range(spec["steps"]):
        for g, group in zip(spec["groups"], opt.param_groups):
            group["lr"] = g["lr"] * spec["lr_factors"][k]
        for i, p in enumerate(params):
            has = spec["has_grad"][k][i]
            p.grad = read(os.path.join(folder, f"grad_{k}_{i}.bin"), p.shape, dtype) if has else None
        opt.step()
        out = os.path.join(folder, f"out_{k}")
        os.makedirs(out, exist_ok=True)
        keys = []
        for i, p in enumerate(params):
            name = spec["params"][i]["name"]
            entries = [("param", p)] + [(s, v) for s, v in opt.state[p].items() if v is not None]
            for what, value in entries:
                if not torch.is_tensor(value):
                    value = torch.tensor(float(value))
                key = f"{what}.{name}"
                write(os.path.join(out, key + ".bin"), value)
                keys.append(key)
        with open(os.path.join(out, "keys.txt"), "w") as f:
            f.write("\n".join(keys) + "\n")


def main():
    root = sys.argv[1]
    for case in sorted(os.listdir(root)):
        folder = os.path.join(root, case)
        if os.path.isfile(os.path.join(folder, "spec.json")):
            run_case(folder)


if __name__ == "__main__":
    main()
