"""The torch side of scripts/bench/gpu_gemm.sh: torch.matmul on the GPU,
square products in f32 (TF32 off), TF32, bf16 and fp16, timed as
scripts/bench/gpu_gemm.cpp times dlt's. One JSON line a product.

    python3 scripts/bench/gpu_gemm_torch.py [N...]      (default 4096 8192)
"""
import json
import sys
import time

import torch


def time_ms(f):
    """Mean milliseconds of f() over enough calls to fill ~0.5 s, after
    warm-up calls; the device is drained before and after."""
    for _ in range(3):
        f()
    torch.cuda.synchronize()
    calls = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(calls):
            f()
        torch.cuda.synchronize()
        ms = (time.perf_counter() - t0) * 1e3
        if ms > 500 or calls >= 1000:
            return ms / calls
        calls *= 2


def main():
    sizes = [int(a) for a in sys.argv[1:]] or [4096, 8192]
    torch.manual_seed(0)
    for name, dtype, tf32 in [("f32", torch.float32, False), ("tf32", torch.float32, True),
                              ("bf16", torch.bfloat16, False), ("fp16", torch.float16, False)]:
        torch.backends.cuda.matmul.allow_tf32 = tf32
        for n in sizes:
            a = torch.randn(n, n, device="cuda", dtype=dtype)
            b = torch.randn(n, n, device="cuda", dtype=dtype)
            ms = time_ms(lambda: a @ b)
            print(json.dumps({"precision": name, "n": n, "tflops": round(2 * n**3 / ms / 1e9, 1)}), flush=True)


if __name__ == "__main__":
    main()
