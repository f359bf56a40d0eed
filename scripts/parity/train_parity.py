#!/usr/bin/python3
"""Replays a `dlt train --dump-batches N` record in PyTorch and compares.

The torch twin of the run's model (an nn.Sequential for a layer list, so the
state_dict names are dlt's "0.weight", ...; tests/nn/torch_nn2_models.py's GPT
for a GPT) starts from dlt's initial weights, trains on the very batches dlt
fed (x after normalisation and augmentation), with the run's loss, optimizer,
parameter groups, gradient clipping and learning-rate schedule, and the
per-step losses and the final weights are compared with dlt's.

Dropout draws different masks in the two frameworks: the run must have every
dropout p at 0 (an error here otherwise).

Usage: train_parity.py RUN_DIR [--dump DIR] [--threads N] [--loss-rtol R]
                       [--weight-tol T] [--json FILE]
Exit status: 0 when both comparisons pass, 1 when one fails, 2 on bad input.
"""
import argparse
import json
import math
import os
import re
import sys

import h5py
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "parity"))
sys.path.insert(0, os.path.join(ROOT, "tests", "nn"))
from safetensors_numpy import load_safetensors  # noqa: E402
import torch_nn2_models as nn2  # noqa: E402
from bf16_products import accurate_products  # noqa: E402


class Yaml12Loader(yaml.SafeLoader):
    """PyYAML reads "1e-08" (YAML 1.2 float, as dlt writes it) as a string."""


Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^[-+]?\.(inf|Inf|INF)$|^\.(nan|NaN|NAN)$"),
    list("-+0123456789."))


def fail(message):
    print(f"train_parity: {message}", file=sys.stderr)
    sys.exit(2)


# ---- the model ---------------------------------------------------------------------------

class Reshape(nn.Module):
    """dlt's Reshape: each sample to `shape` (the batch dim stays)."""

    def __init__(self, shape):
        super().__init__()
        self.shape = tuple(shape)

    def forward(self, x):
        return x.reshape(x.shape[0], *self.shape)


def recurrent_twin(kind, spec, x):
    """dlt's LSTM / GRU in a layer list: nn.LSTM / nn.GRU (same parameter
    names) returning the output sequence, or with `return: last` the last
    layer's final state of each direction side by side."""
    base = nn.LSTM if kind == "LSTM" else nn.GRU
    last = spec.get("return", "sequence") == "last"

    class Twin(base):
        def forward(self, inputs):
            out, state = super().forward(inputs)
            if not last:
                return out
            h = state[0] if isinstance(state, tuple) else state
            return torch.cat(list(h[-(2 if self.bidirectional else 1):]), 1)

    return Twin(x.shape[-1], spec["hidden_size"], num_layers=spec.get("layers", 1),
                bias=spec.get("bias", True), batch_first=True,
                bidirectional=spec.get("bidirectional", False))


def torch_layer(spec, x):
    """The torch module of one dlt layer spec, given an example input x."""
    t = spec["type"]
    if t == "Flatten":
        return nn.Flatten()
    if t == "Reshape":
        return Reshape(spec["shape"])
    if t == "ReLU":
        return nn.ReLU()
    if t == "Dropout":
        if spec.get("p", 0.5) != 0:
            fail("dropout draws different masks in dlt and torch; set its p to 0 (--set 'model[i].p=0')")
        return nn.Dropout(0.0)
    if t == "Embedding":
        return nn.Embedding(spec["num_embeddings"], spec["dim"], padding_idx=spec.get("padding_idx"))
    if t in ("LSTM", "GRU"):
        if spec.get("dropout", 0) != 0:
            fail(f"dropout draws different masks in dlt and torch; set the {t}'s dropout to 0 (--set 'model[i].dropout=0')")
        return recurrent_twin(t, spec, x)
    if t == "Linear":
        return nn.Linear(x.shape[-1], spec["out"], bias=spec.get("bias", True))
    if t == "Conv2d":
        return nn.Conv2d(x.shape[1], spec["out_channels"], spec["kernel_size"], spec.get("stride", 1),
                         spec.get("padding", 0), bias=spec.get("bias", True))
    if t == "BatchNorm2d":
        return nn.BatchNorm2d(x.shape[1], eps=spec.get("eps", 1e-5), momentum=spec.get("momentum", 0.1))
    if t == "MaxPool2d":
        k = spec["kernel_size"]
        return nn.MaxPool2d(k, spec.get("stride", k), spec.get("padding", 0))
    fail(f"layer type {t} has no torch twin here (add it to torch_layer)")


def build_model(model_spec, example_x):
    if isinstance(model_spec, list):
        layers, x = [], example_x
        with torch.no_grad():
            for spec in model_spec:
                layer = torch_layer(spec, x)
                x = layer(x)
                layers.append(layer)
        return nn.Sequential(*layers)
    if model_spec.get("type") == "GPT":
        s = model_spec
        if s.get("dropout", 0) != 0:
            fail("dropout draws different masks in dlt and torch; set model.dropout=0")
        return nn2.GPT(s["vocab_size"], s["block_size"], s["embed_dim"], s.get("heads", 1), s.get("layers", 1),
                       s.get("bias", True), s.get("gelu_approximate", "tanh") == "tanh",
                       s.get("weight_tying", True), s.get("mlp_ratio", 4))
    fail(f"model type {model_spec.get('type')} has no torch twin here")


# ---- optimizer, schedule, loss (dlt's param_groups.h, schedule.h, evaluate.cpp) ---------

def param_groups(model, optim):
    patterns = optim.get("no_decay") or ["norm", "ln", "bn"]
    decay, no_decay = [], []
    for name, p in model.named_parameters():  # a tied tensor is listed once, as in dlt
        exempt = p.dim() < 2 or name.endswith("bias") or any(q in name for q in patterns)
        (no_decay if exempt else decay).append(p)
    wd = optim.get("weight_decay", 0)
    return [g for g in ({"params": decay, "weight_decay": wd}, {"params": no_decay, "weight_decay": 0.0})
            if g["params"]]


def make_optimizer(groups, o):
    name, lr = o["name"], o["lr"]
    if name in ("adam", "adamw"):
        cls = torch.optim.AdamW if name == "adamw" else torch.optim.Adam
        return cls(groups, lr=lr, betas=tuple(o.get("betas", (0.9, 0.999))), eps=o.get("eps", 1e-8))
    if name == "sgd":
        return torch.optim.SGD(groups, lr=lr, momentum=o.get("momentum", 0), nesterov=o.get("nesterov", False))
    if name == "rmsprop":
        return torch.optim.RMSprop(groups, lr=lr, alpha=o.get("alpha", 0.99), eps=o.get("eps", 1e-8),
                                   momentum=o.get("momentum", 0))
    fail(f"optimizer {name} has no torch twin here")


def make_schedule(opt, s, lr, total):
    """A torch scheduler stepped once after each optimizer step."""
    name = s.get("name", "constant")
    if name in ("onecycle", "one_cycle"):
        return torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=s.get("max_lr") or lr, total_steps=total, pct_start=s.get("pct_start", 0.3),
            anneal_strategy="cos", cycle_momentum=False, div_factor=s.get("div_factor", 25),
            final_div_factor=s.get("final_div_factor", 1e4), three_phase=False)
    if name == "step":
        return torch.optim.lr_scheduler.StepLR(opt, s.get("step_size", 1), s.get("gamma", 0.1))
    warmup, min_lr = s.get("warmup_steps", 0), s.get("min_lr", 0)

    def factor(step):  # step 0 is the first step
        if step < warmup:
            return (step + 1) / warmup
        if name == "constant":
            return 1.0
        progress = min(1.0, (step - warmup) / (total - warmup))
        shape = 0.5 * (1 + math.cos(math.pi * progress)) if name == "cosine" else 1 - progress
        return (min_lr + (lr - min_lr) * shape) / lr
    if name not in ("constant", "cosine", "linear"):
        fail(f"schedule {name} has no torch twin here")
    return torch.optim.lr_scheduler.LambdaLR(opt, factor)


def batch_loss(loss_spec, out, y):
    if loss_spec["name"] != "cross_entropy":
        fail(f"loss {loss_spec['name']} has no torch twin here")
    if out.dim() == 3:  # a language model: (B, T, V) against (B, T)
        out, y = out.reshape(-1, out.shape[-1]), y.reshape(-1)
    return F.cross_entropy(out, y.long(), ignore_index=loss_spec.get("ignore_index", -100),
                           label_smoothing=loss_spec.get("label_smoothing", 0.0))


# ---- replay and compare ------------------------------------------------------------------

def replay(cfg, dump):
    with h5py.File(os.path.join(dump, "batches.h5"), "r") as f:
        steps, accum, total = (int(f.attrs[k]) for k in ("steps", "grad_accum", "total_steps"))
        xs = [torch.from_numpy(f[f"x/{i}"][()]) for i in range(steps * accum)]
        ys = [torch.from_numpy(f[f"y/{i}"][()]) for i in range(steps * accum)]
        dlt_losses = f["losses"][()]
    model = build_model(cfg["model"], xs[0][:1])
    initial = load_safetensors(os.path.join(dump, "initial.safetensors"))
    if set(initial) != set(model.state_dict()):
        fail(f"the torch twin's tensors {sorted(model.state_dict())} are not dlt's {sorted(initial)}")
    model.load_state_dict(initial)
    model.train()
    opt = make_optimizer(param_groups(model, cfg["optim"]), cfg["optim"])
    sched = make_schedule(opt, cfg.get("schedule", {}), cfg["optim"]["lr"], total)
    clip = cfg["train"].get("grad_clip", 0)
    # train.precision bf16: the forward pass and loss under torch.autocast, as
    # dlt's, with products that accumulate in float32 on any CPU (bf16_products).
    low = {"bf16": torch.bfloat16}.get(cfg["train"].get("precision", "f32"))
    if cfg["train"].get("precision", "f32") not in ("f32", "bf16"):
        fail(f"train.precision {cfg['train']['precision']} has no CPU torch twin here")
    losses = []
    for step in range(steps):
        opt.zero_grad()
        loss = 0.0
        for a in range(accum):
            i = step * accum + a
            with torch.autocast("cpu", dtype=low, enabled=low is not None), accurate_products():
                b = batch_loss(cfg["loss"], model(xs[i]), ys[i])
            loss += b.item() / accum
            (b / accum if accum > 1 else b).backward()
        if clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        sched.step()
        losses.append(loss)
    return np.array(losses), dlt_losses, model.state_dict()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("run_dir")
    ap.add_argument("--dump", help="the --dump-batches folder (default: RUN_DIR/dump)")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (default: the run's train.threads)")
    ap.add_argument("--loss-rtol", type=float, default=1e-4)
    ap.add_argument("--weight-tol", type=float, default=1e-3, help="rtol and atol of the final weights")
    ap.add_argument("--json", help="write the losses and differences here")
    args = ap.parse_args()
    dump = args.dump or os.path.join(args.run_dir, "dump")
    for f in ("config.resolved.yaml",):
        if not os.path.exists(os.path.join(args.run_dir, f)):
            fail(f"{os.path.join(args.run_dir, f)} does not exist (run dlt train first)")
    for f in ("initial.safetensors", "batches.h5", "final.safetensors"):
        if not os.path.exists(os.path.join(dump, f)):
            fail(f"{os.path.join(dump, f)} does not exist (dlt train --dump-batches N)")
    with open(os.path.join(args.run_dir, "config.resolved.yaml")) as f:
        cfg = yaml.load(f, Loader=Yaml12Loader)
    torch.set_num_threads(args.threads or cfg["train"].get("threads") or os.cpu_count())
    torch.manual_seed(0)

    torch_losses, dlt_losses, torch_final = replay(cfg, dump)
    dlt_final = load_safetensors(os.path.join(dump, "final.safetensors"))
    print(f"{'step':>5} {'dlt loss':>12} {'torch loss':>12} {'rel diff':>10}")
    rel = np.abs(dlt_losses - torch_losses) / np.maximum(np.abs(torch_losses), 1e-12)
    for i, (d, t, r) in enumerate(zip(dlt_losses, torch_losses, rel)):
        print(f"{i + 1:>5} {d:>12.6f} {t:>12.6f} {r:>10.2e}")
    worst_abs, worst_name, weights_ok = 0.0, "", True
    for name, t in torch_final.items():
        d = dlt_final[name].to(t.dtype)
        diff = (d - t).abs().max().item() if t.numel() else 0.0
        if diff > worst_abs:
            worst_abs, worst_name = diff, name
        weights_ok &= torch.allclose(d, t, rtol=args.weight_tol, atol=args.weight_tol)
    losses_ok = bool(np.all(rel <= args.loss_rtol))
    print(f"losses: max rel diff {rel.max():.3e} (rtol {args.loss_rtol:g}) {'ok' if losses_ok else 'FAIL'}")
    print(f"final weights: max abs diff {worst_abs:.3e} in {worst_name} (rtol = atol = {args.weight_tol:g}) "
          f"{'ok' if weights_ok else 'FAIL'}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"dlt_losses": dlt_losses.tolist(), "torch_losses": torch_losses.tolist(),
                       "max_loss_rel_diff": float(rel.max()), "max_weight_abs_diff": worst_abs,
                       "worst_tensor": worst_name}, f, indent=1)
    ok = losses_ok and weights_ok
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
