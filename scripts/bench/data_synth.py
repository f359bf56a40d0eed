"""Writes the synthetic file for scripts/bench/data.sh: train/images uint8
(N, 3, 64, 64) in 3 MiB chunks (256 samples, uncompressed) and
train/labels int64 (N), N chosen to make `gigabytes` GB of images.

  data_synth.py OUT GIGABYTES
"""
import sys

import h5py
import numpy as np

SAMPLE = (3, 64, 64)
ROWS_PER_WRITE = 8192


def main():
    out, gigabytes = sys.argv[1], float(sys.argv[2])
    per_sample = int(np.prod(SAMPLE))
    n = int(gigabytes * 1e9) // per_sample
    pattern = np.arange(per_sample, dtype=np.uint8)
    with h5py.File(out, "w") as f:
        x = f.create_dataset("train/images", (n,) + SAMPLE, np.uint8, chunks=(256,) + SAMPLE)
        y = f.create_dataset("train/labels", (n,), np.int64)
        for start in range(0, n, ROWS_PER_WRITE):
            rows = min(ROWS_PER_WRITE, n - start)
            # uint8 arithmetic wraps: a cheap pattern that differs per sample.
            index = np.arange(start, start + rows, dtype=np.int64)
            slab = np.add.outer((index * 7).astype(np.uint8), pattern)
            x[start:start + rows] = slab.reshape((rows,) + SAMPLE)
            y[start:start + rows] = index % 10


if __name__ == "__main__":
    main()
