"""The torch side of scripts/bench/gpt_sweep.sh: the GPT twin of dlt's
(tests/nn/torch_nn2_models.py) at one size, AdamW, random tokens of a
73-token vocabulary, no dropout, causal attention through torch's fused
F.scaled_dot_product_attention (torch 2 and later). Times STEPS training steps after WARMUP and
prints one JSON line: tokens/s and the process's peak RSS.

  gpt_sweep_torch.py --embed C --layers N --heads H --block T --batch B --threads 2 --steps S --warmup W
"""
import argparse
import json
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../../tests/nn"))
import torch_nn2_models as nn2  # noqa: E402

VOCAB = 73  # the KJV's characters, as dlt's side reads them


def main():
    p = argparse.ArgumentParser()
    for name in ("embed", "layers", "heads", "block", "batch", "steps", "warmup", "threads"):
        p.add_argument("--" + name, type=int, required=True)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = nn2.fuse_attention(nn2.GPT(VOCAB, a.block, a.embed, a.heads, a.layers, True, True, True))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.1, betas=(0.9, 0.99))
    model.train()

    def step():
        ids = torch.randint(VOCAB, (a.batch, a.block + 1))
        opt.zero_grad(set_to_none=True)
        out = model(ids[:, :-1])
        F.cross_entropy(out.reshape(-1, VOCAB), ids[:, 1:].reshape(-1)).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    for _ in range(a.warmup):
        step()
    start = time.perf_counter()
    for _ in range(a.steps):
        step()
    seconds = time.perf_counter() - start
    print(json.dumps({"torch": torch.__version__, "tokens_per_s": a.steps * a.batch * a.block / seconds,
                      "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == "__main__":
    main()
