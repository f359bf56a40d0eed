"""The torch side of scripts/bench/ops.sh: the same workloads as ops_dlt.cpp,
timed the same way (median of repeated calls after a warm-up)."""
import json
import sys
import time

import torch
import torch.nn.functional as F


def time_median(f, budget=0.6):
    for _ in range(3):
        f()
    samples = []
    start = time.perf_counter()
    while len(samples) < 5 or (time.perf_counter() - start < budget and len(samples) < 200):
        t0 = time.perf_counter()
        f()
        samples.append(time.perf_counter() - t0)
    samples.sort()
    return samples[len(samples) // 2]


def report(name, value, unit):
    print(json.dumps({"name": name, "value": float(f"{value:.4g}"), "unit": unit}), flush=True)


def main():
    torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
    torch.manual_seed(0)
    for n in (256, 512, 1024, 2048):
        a, b = torch.randn(n, n), torch.randn(n, n)
        s = time_median(lambda: torch.matmul(a, b))
        report(f"matmul f32 {n}x{n}x{n}", 2.0 * n ** 3 / s / 1e9, "GFLOP/s")

    x = torch.randn(128, 784)
    w = (torch.randn(512, 784) * 0.03).requires_grad_()
    b = torch.zeros(512, requires_grad=True)
    g = torch.randn(128, 512)

    def linear_step():
        w.grad = None
        b.grad = None
        F.linear(x, w, b).backward(g)
    report("linear 128x784->512 fwd+bwd", time_median(linear_step) * 1e3, "ms")

    xc = torch.randn(128, 32, 14, 14, requires_grad=True)
    wc = (torch.randn(64, 32, 3, 3) * 0.05).requires_grad_()
    bc = torch.zeros(64, requires_grad=True)
    gc = torch.randn(128, 64, 14, 14)

    def conv_step():
        wc.grad = bc.grad = xc.grad = None
        F.conv2d(xc, wc, bc, padding=1).backward(gc)
    report("conv2d 128x32x14x14 -> 64 3x3 fwd+bwd", time_median(conv_step) * 1e3, "ms")

    qkv = torch.randn(32, 128, 3, 4, 32)
    q, k, v = (qkv.select(2, i).transpose(1, 2).detach().requires_grad_() for i in range(3))
    ga = torch.randn(32, 4, 128, 32)

    def attention_step():
        q.grad = k.grad = v.grad = None
        if hasattr(F, "scaled_dot_product_attention"):  # torch 2: its fused kernel
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            future = torch.triu(torch.ones(128, 128, dtype=torch.bool), 1)
            att = (q @ k.transpose(-2, -1) / 32 ** 0.5).masked_fill(future, float("-inf"))
            y = torch.softmax(att, -1) @ v
        y.backward(ga)
    report("causal attention 32x4x128x32 fwd+bwd", time_median(attention_step) * 1e3, "ms")

    x = torch.randn(4096, 1024)
    nbytes = 2.0 * x.numel() * 4
    report("softmax 4096x1024", nbytes / time_median(lambda: torch.softmax(x, -1)) / 1e9, "GB/s")
    lw, lb = torch.ones(1024), torch.zeros(1024)
    report("layer_norm 4096x1024",
           nbytes / time_median(lambda: F.layer_norm(x, (1024,), lw, lb)) / 1e9, "GB/s")

    n = 16 << 20
    a, b = torch.randn(n), torch.randn(n)
    report("add 16M f32", 3.0 * n * 4 / time_median(lambda: torch.add(a, b)) / 1e9, "GB/s")
    report("mul 16M f32", 3.0 * n * 4 / time_median(lambda: torch.mul(a, b)) / 1e9, "GB/s")
    report("gelu 16M f32", 2.0 * n * 4 / time_median(lambda: F.gelu(a)) / 1e9, "GB/s")
    report("sum 16M f32", n * 4 / time_median(lambda: torch.sum(a)) / 1e9, "GB/s")


if __name__ == "__main__":
    main()
