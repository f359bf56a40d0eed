"""The torch side of scripts/bench/train_vs_torch.sh: the same models,
batches and optimisers as the `dlt train` runs there (the GPT's causal
attention through torch's fused F.scaled_dot_product_attention where the
torch has it, 2.0 and later, as dlt fuses its own), fed from the same HDF5
files loaded into memory once (not timed). Times STEPS training steps after
WARMUP untimed ones and prints one JSON line: samples/s, tokens/s (GPT) and
the process's peak RSS.

  train_torch.py mlp|cnn|gpt|lstm --threads N --steps S --warmup W
"""
import argparse
import json
import os
import resource
import sys
import time

import h5py
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../../tests/nn"))
import torch_nn2_models as nn2  # noqa: E402  (the GPT twin of dlt's)

FASHION = "data/fashion-mnist.h5"
KJV = "data/kjv.h5"
MEAN, STD = 0.2860, 0.3530  # the configs' Normalize


def fashion_batches(batch):
    """(x, y) batches of shuffled epochs: x (B, 784) float32, normalised."""
    with h5py.File(FASHION, "r") as f:
        x = torch.from_numpy(f["train/images"][...]).reshape(-1, 784).float().div_(255).sub_(MEAN).div_(STD)
        y = torch.from_numpy(f["train/labels"][...])
    while True:
        perm = torch.randperm(len(x))
        for i in range(0, len(x) - batch + 1, batch):
            idx = perm[i:i + batch]
            yield x[idx], y[idx]


def token_batches(batch, block):
    """(ids, targets) windows at random offsets of the token stream (nanoGPT)."""
    with h5py.File(KJV, "r") as f:
        tokens = torch.from_numpy(f["train/tokens"][...]).long()
    offsets = torch.arange(block + 1)
    while True:
        starts = torch.randint(len(tokens) - block, (batch,))
        w = tokens[starts[:, None] + offsets]  # (B, T + 1)
        yield w[:, :-1], w[:, 1:]


# The models and optimisers of train_vs_torch.sh's dlt runs.
def mlp():
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
    return model, torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9), fashion_batches(128), None


def cnn():  # configs/fashion_cnn.yaml
    model = nn.Sequential(
        nn.Unflatten(1, (1, 28, 28)),
        nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.25), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))
    return model, torch.optim.AdamW(model.parameters(), lr=0.002, weight_decay=0.05), fashion_batches(128), None


def gpt():  # configs/kjv_gpt.yaml without dropout (the torch twin has none)
    model = nn2.fuse_attention(nn2.GPT(73, 128, 128, 4, 4, True, True, True))
    opt = torch.optim.AdamW(model.parameters(), lr=0.001, weight_decay=0.1, betas=(0.9, 0.99))
    return model, opt, token_batches(32, 128), 1.0


class CharLSTM(nn.Module):
    """configs/kjv_lstm.yaml: Embedding -> 2-layer LSTM -> Linear, dlt's names."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(73, 64)
        self.rnn = nn.LSTM(64, 256, num_layers=2, batch_first=True)
        self.head = nn.Linear(256, 73)

    def forward(self, x):
        return self.head(self.rnn(self.emb(x))[0])


def lstm():  # configs/kjv_lstm.yaml without dropout between the layers
    model = CharLSTM()
    return model, torch.optim.Adam(model.parameters(), lr=0.002), token_batches(32, 128), 1.0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model", choices=["mlp", "cnn", "gpt", "lstm"])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--precision", choices=["f32", "bf16"], default="f32",
                   help="bf16: the forward pass and loss under torch.autocast('cpu', bfloat16)")
    a = p.parse_args()
    low = torch.bfloat16 if a.precision == "bf16" else None
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model, opt, batches, clip = {"mlp": mlp, "cnn": cnn, "gpt": gpt, "lstm": lstm}[a.model]()
    model.train()

    def step():
        x, y = next(batches)
        opt.zero_grad(set_to_none=True)  # as dlt: gradients are dropped, not zeroed
        with torch.autocast("cpu", dtype=low, enabled=low is not None):
            out = model(x)
            loss = F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))
        loss.backward()
        if clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        return len(x), x[0].numel() if a.model in ("gpt", "lstm") else 1

    for _ in range(a.warmup):
        step()
    samples = tokens = 0
    start = time.perf_counter()
    for _ in range(a.steps):
        n, per = step()
        samples += n
        tokens += n * per
    seconds = time.perf_counter() - start
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    print(json.dumps({"model": a.model, "torch": torch.__version__, "samples_per_s": samples / seconds, "tokens_per_s": tokens / seconds,
                      "peak_rss_mib": rss_mib, "steps": a.steps}))


if __name__ == "__main__":
    main()
