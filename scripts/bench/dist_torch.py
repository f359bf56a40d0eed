"""The PyTorch side of scripts/bench/dist.sh: DistributedDataParallel with the
gloo backend on the models of scripts/bench/train_torch.py (imported from
there), and gloo's all-reduce bandwidth. Runs under any torch (Debian's 1.13,
a torch 2 venv); prints one JSON line.

  dist_torch.py train mlp|gpt --procs P --threads N --steps S --warmup W
  dist_torch.py allreduce --procs P --threads N --sizes-mib 1 25

train: the global batch of train_torch.py (MLP 128, GPT 32) split evenly
over P processes, each drawing its own batches from the same HDF5 file
(loaded into memory once, untimed). P > 1: the model wrapped in DDP
(defaults: 25 MiB buckets, all-reduce overlapped with the backward pass);
P = 1: the plain model, nothing distributed (as dlt's single rank). Times S
steps after W untimed ones on rank 0; samples/s counts the global batch.

allreduce: in-place SUM all_reduce of float32 tensors of each size between
P processes; the median of the timed calls (each after a barrier), and
GB/s = bytes / time (10^9 bytes).

Processes are started with torch.multiprocessing (spawn) and meet over
loopback (tcp://127.0.0.1 on a free port, GLOO_SOCKET_IFNAME=lo).
"""
import argparse
import json
import os
import socket
import statistics
import sys
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train_torch as tt  # noqa: E402  (models, optimisers, batches)

GLOBAL_BATCH = {"mlp": 128, "mlp1024": 1024, "gpt": 32}
BLOCK = 128  # the GPT's block_size: tokens per sample


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def setup(rank, a):
    torch.set_num_threads(a.threads)
    if a.procs > 1:
        dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{a.port}", rank=rank, world_size=a.procs)


def train(rank, a):
    setup(rank, a)
    torch.manual_seed(0)  # the same initial model on every rank (DDP also broadcasts rank 0's)
    model, opt, _, clip = {"mlp": tt.mlp, "mlp1024": tt.mlp, "gpt": tt.gpt}[a.model]()
    local = GLOBAL_BATCH[a.model] // a.procs
    batches = tt.token_batches(local, BLOCK) if a.model == "gpt" else tt.fashion_batches(local)
    torch.manual_seed(1 + rank)  # each rank its own batches
    model.train()
    net = torch.nn.parallel.DistributedDataParallel(model) if a.procs > 1 else model

    def step():
        x, y = next(batches)
        opt.zero_grad(set_to_none=True)
        out = net(x)
        loss = F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))
        loss.backward()  # DDP: returns once every bucket is all-reduced
        if clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()

    for _ in range(a.warmup):
        step()
    if a.procs > 1:
        dist.barrier()
    start = time.perf_counter()
    for _ in range(a.steps):
        step()
    seconds = time.perf_counter() - start
    if rank == 0:
        rate = a.steps * GLOBAL_BATCH[a.model] / seconds
        r = {"model": a.model, "procs": a.procs, "threads": a.threads, "torch": torch.__version__.split("+")[0],
             "samples_per_s": rate, "steps": a.steps}
        if a.model == "gpt":
            r["tokens_per_s"] = rate * BLOCK
        print(json.dumps(r), flush=True)
    if a.procs > 1:
        dist.destroy_process_group()


def allreduce(rank, a):
    setup(rank, a)
    out = {}
    for mib in a.sizes_mib:
        t = torch.ones(int(mib * 2**20) // 4)
        for _ in range(3):
            dist.all_reduce(t)
        times, deadline, stop = [], time.perf_counter() + a.seconds, torch.zeros(1)
        while not stop.item():
            dist.barrier()
            start = time.perf_counter()
            dist.all_reduce(t)
            times.append(time.perf_counter() - start)
            stop.fill_(len(times) >= a.min_iters and time.perf_counter() > deadline)
            dist.broadcast(stop, 0)  # rank 0's clock decides: every rank makes the same calls
        ms = statistics.median(times) * 1e3
        out[f"{mib:g}"] = {"ms": ms, "gb_per_s": t.numel() * 4 / ms / 1e6, "calls": len(times)}
    if rank == 0:
        print(json.dumps({"backend": "gloo", "procs": a.procs, "torch": torch.__version__.split("+")[0],
                          "allreduce": out}), flush=True)
    dist.destroy_process_group()


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="what", required=True)
    t = sub.add_parser("train")
    t.add_argument("model", choices=["mlp", "mlp1024", "gpt"])
    t.add_argument("--steps", type=int, default=40)
    t.add_argument("--warmup", type=int, default=10)
    r = sub.add_parser("allreduce")
    r.add_argument("--sizes-mib", type=float, nargs="+", default=[1, 25])
    r.add_argument("--seconds", type=float, default=2.0, help="timed calls per size: at least this long")
    r.add_argument("--min-iters", type=int, default=10)
    for s in (t, r):
        s.add_argument("--procs", type=int, default=2)
        s.add_argument("--threads", type=int, default=1, help="torch threads per process")
    a = p.parse_args()
    if a.what == "train" and GLOBAL_BATCH[a.model] % a.procs:
        p.error(f"--procs {a.procs} does not divide the global batch {GLOBAL_BATCH[a.model]}")
    if a.what == "allreduce" and a.procs < 2:
        p.error("allreduce needs --procs 2 or more")
    os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
    a.port = free_port()
    fn = train if a.what == "train" else allreduce
    if a.procs == 1:
        fn(0, a)
    else:
        mp.spawn(fn, args=(a,), nprocs=a.procs)


if __name__ == "__main__":
    main()
