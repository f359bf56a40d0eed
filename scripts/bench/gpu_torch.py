"""The PyTorch side of scripts/bench/gpu.sh: the same models, batch sizes and
optimisers as its `dlt train` runs, eager mode on one CUDA GPU, f32 with TF32
matmuls and convolutions allowed (as dlt's DLT_ALLOW_TF32=1). Batches are
random tensors made on the GPU up front (not timed). Times STEPS steps after
WARMUP untimed ones, with a synchronize at both ends, and prints one JSON line:
samples/s, tokens/s and torch.cuda.max_memory_allocated over the whole run
(dlt reports its allocator's peak over the whole run too).

Like dlt's trainer, every step reads the loss back to the host.

  gpu_torch.py mlp|cnn|gpt2 --steps S --warmup W
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    """GPT-2 pre-norm block; attention as a user writes it today: SDPA, causal."""

    def __init__(self, C, heads):
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = nn.LayerNorm(C), nn.LayerNorm(C)
        self.qkv, self.proj = nn.Linear(C, 3 * C), nn.Linear(C, C)
        self.fc, self.fc_proj = nn.Linear(C, 4 * C), nn.Linear(4 * C, C)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(C, dim=2)
        q, k, v = (t.view(B, T, self.heads, C // self.heads).transpose(1, 2) for t in (q, k, v))  # (B, H, T, D)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.proj(y.transpose(1, 2).reshape(B, T, C))
        return x + self.fc_proj(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))


class GPT(nn.Module):
    """dlt's GPT layer (lib/dlt/nn/layers/gpt.h): learned positions, tied head, no dropout."""

    def __init__(self, V, T, C, heads, layers):
        super().__init__()
        self.tok_emb, self.pos_emb = nn.Embedding(V, C), nn.Embedding(T, C)
        self.blocks = nn.ModuleList(Block(C, heads) for _ in range(layers))
        self.ln_f = nn.LayerNorm(C)
        self.head = nn.Linear(C, V, bias=False)
        self.head.weight = self.tok_emb.weight
        for name, p in self.named_parameters():
            if p.dim() == 2:  # GPT-2's init, as dlt's
                std = 0.02 / math.sqrt(2 * layers) if name.endswith("proj.weight") else 0.02
                nn.init.normal_(p, 0, std)

    def forward(self, ids):
        T = ids.shape[1]
        x = self.tok_emb(ids) + self.pos_emb(torch.arange(T, device=ids.device))
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))


def mlp():  # 784-512-512-10, SGD momentum 0.9
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
    return model, torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9), (128, 784), 10, None


def cnn():  # configs/fashion_cnn.yaml
    model = nn.Sequential(
        nn.Unflatten(1, (1, 28, 28)),
        nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.25), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))
    opt = torch.optim.AdamW(model.parameters(), lr=0.002, weight_decay=0.05)
    return model, opt, (128, 784), 10, None


def gpt2():  # GPT-2 small: 12 layers, 12 heads, width 768, block 1024, batch 8
    model = GPT(50257, 1024, 768, 12, 12)
    opt = torch.optim.AdamW(model.parameters(), lr=6e-4, weight_decay=0.1, betas=(0.9, 0.95))
    return model, opt, (8, 1024), 50257, 1.0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model", choices=["mlp", "cnn", "gpt2"])
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--precision", choices=["tf32", "bf16", "fp16"], default="tf32",
                   help="bf16/fp16: torch.autocast around the forward pass and loss (fp16 with a GradScaler)")
    a = p.parse_args()
    low = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(a.precision)
    scaler = torch.amp.GradScaler("cuda", enabled=a.precision == "fp16")
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    torch.manual_seed(0)
    dev = torch.device("cuda")
    model, opt, shape, classes, clip = {"mlp": mlp, "cnn": cnn, "gpt2": gpt2}[a.model]()
    model.to(dev).train()
    lm = a.model == "gpt2"
    pool = 8  # distinct batches, cycled
    if lm:
        xs = [torch.randint(0, classes, shape, device=dev) for _ in range(pool)]
        ys = [torch.randint(0, classes, shape, device=dev) for _ in range(pool)]
    else:
        xs = [torch.randn(shape, device=dev) for _ in range(pool)]
        ys = [torch.randint(0, classes, shape[:1], device=dev) for _ in range(pool)]

    def step(i):
        x, y = xs[i % pool], ys[i % pool]
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cuda", dtype=low, enabled=low is not None):
            out = model(x)
            loss = F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
        if clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        scaler.step(opt)
        scaler.update()
        return loss.item()

    for i in range(a.warmup):
        step(i)
    torch.cuda.synchronize()
    start = time.perf_counter()
    for i in range(a.steps):
        step(i)
    torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    samples = a.steps * shape[0]
    print(json.dumps({"model": a.model, "samples_per_s": samples / seconds,
                      "tokens_per_s": samples * (shape[1] if lm else 1) / seconds,
                      "peak_mib": torch.cuda.max_memory_allocated() / 2**20,
                      "steps": a.steps, "torch": torch.__version__, "gpu": torch.cuda.get_device_name()}))


if __name__ == "__main__":
    main()
