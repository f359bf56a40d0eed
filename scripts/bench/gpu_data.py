"""Synthetic inputs for scripts/bench/gpu.sh, with the Python standard library
only (the GPU machine has no h5py and no data sets): Fashion-MNIST-shaped
gzipped IDX files for `dlt data import fashion-mnist --src DIR` and a text of
random bytes for `dlt data import text --vocab bytes`. Throughput does not
depend on the values; the sizes match the real sets (60000 / 10000 images).

  gpu_data.py DIR
writes DIR/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz and DIR/text.txt
"""
import gzip
import os
import random
import struct
import sys


def write_idx(path, dims, payload):
    # IDX: magic 0x0000080<rank> (unsigned bytes), big-endian dims, then the data.
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(struct.pack(">I", 0x0800 + len(dims)) + struct.pack(f">{len(dims)}I", *dims))
        f.write(payload)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = random.Random(0)
    for prefix, n in (("train", 60000), ("t10k", 10000)):
        write_idx(f"{out}/{prefix}-images-idx3-ubyte.gz", (n, 28, 28), rng.randbytes(n * 28 * 28))
        write_idx(f"{out}/{prefix}-labels-idx1-ubyte.gz", (n,), bytes(rng.randrange(10) for _ in range(n)))
    # 8 MiB of printable bytes: token ids below 256, windows of 1025 at random offsets.
    with open(f"{out}/text.txt", "wb") as f:
        f.write(rng.randbytes(8 << 20).translate(bytes(32 + i % 95 for i in range(256))))


if __name__ == "__main__":
    main()
