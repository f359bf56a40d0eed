"""The torch side of scripts/bench/data.sh: h5py + torch.utils.data.DataLoader
doing the work of `dlt data bench`: shuffled epochs of (x, y) batches, x
converted from uint8 to float32 / 255 and normalised. Timed from building
the dataset to the last batch, like dlt's. Prints one JSON line.

  data_torch.py FILE X_KEY Y_KEY --style per-sample|batched --workers N --batch B --epochs E
"""
import argparse
import json
import resource
import time

import h5py
import numpy as np
import torch
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler


class PerSample(Dataset):
    """The usual pattern: each worker opens the file itself (h5py handles do
    not survive fork) and reads one sample per __getitem__."""

    def __init__(self, path, x_key, y_key, mean, std):
        self.path, self.x_key, self.y_key, self.mean, self.std = path, x_key, y_key, mean, std
        with h5py.File(path, "r") as f:
            self.n = len(f[x_key])
        self.f = None

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if self.f is None:
            self.f = h5py.File(self.path, "r")
            self.x, self.y = self.f[self.x_key], self.f[self.y_key]
        x = torch.from_numpy(self.x[i]).float().div_(255).sub_(self.mean).div_(self.std)
        return x, int(self.y[i])


class InMemoryBatches(Dataset):
    """The fast pattern: the arrays read once, then whole batches indexed at
    a time (BatchSampler with batch_size=None hands __getitem__ a batch)."""

    def __init__(self, path, x_key, y_key, mean, std):
        with h5py.File(path, "r") as f:
            self.x, self.y = f[x_key][:], f[y_key][:]
        self.mean, self.std = mean, std

    def __len__(self):
        return len(self.x)

    def __getitem__(self, batch):
        x = torch.from_numpy(self.x[batch]).float().div_(255).sub_(self.mean).div_(self.std)
        return x, torch.from_numpy(self.y[batch])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("file")
    p.add_argument("x_key")
    p.add_argument("y_key")
    p.add_argument("--style", choices=["per-sample", "batched"], required=True)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--mean", type=float, default=0.0)
    p.add_argument("--std", type=float, default=1.0)
    a = p.parse_args()

    torch.manual_seed(0)
    start = time.perf_counter()
    # Workers stay up across epochs, as dlt's do.
    common = dict(num_workers=a.workers, persistent_workers=a.workers > 0)
    if a.style == "per-sample":
        ds = PerSample(a.file, a.x_key, a.y_key, a.mean, a.std)
        loader = DataLoader(ds, batch_size=a.batch, shuffle=True, **common)
    else:
        ds = InMemoryBatches(a.file, a.x_key, a.y_key, a.mean, a.std)
        batches = BatchSampler(RandomSampler(ds), a.batch, drop_last=False)
        loader = DataLoader(ds, sampler=batches, batch_size=None, **common)
    samples = stored = 0
    for _ in range(a.epochs):
        for x, y in loader:
            samples += len(x)
            stored += x.numel() + y.numel() * y.element_size()  # x is stored as uint8
    seconds = time.perf_counter() - start

    # ru_maxrss is in KiB; children: the largest worker process.
    rss = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
              resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) * 1024
    print(json.dumps({"samples_per_s": samples / seconds, "stored_mb_per_s": stored / 1e6 / seconds,
                      "samples": samples, "seconds": seconds, "peak_rss_mb": rss / 1e6}))


if __name__ == "__main__":
    main()
