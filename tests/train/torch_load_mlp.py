"""Loads a dlt-written safetensors file into a torch nn.Sequential MLP with
load_state_dict, parsing the format with json + numpy only (torch 1.13 has
no safetensors support), and prints the MLP's output for a fixed input.

  torch_load_mlp.py FILE IN HIDDEN OUT

Prints one line of space-separated floats: the (2, OUT) output for
x = arange(2 * IN).reshape(2, IN) / 10, row-major. Exit 77 without torch.
"""
import os
import sys

try:
    import numpy  # noqa: F401 (safetensors_numpy needs it)
    import torch
except ImportError as e:
    print(f"missing python package: {e}", file=sys.stderr)
    sys.exit(77)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "parity"))
from safetensors_numpy import load_safetensors  # noqa: E402


def main():
    path, n_in, n_hidden, n_out = sys.argv[1], *map(int, sys.argv[2:5])
    model = torch.nn.Sequential(torch.nn.Linear(n_in, n_hidden), torch.nn.ReLU(),
                                torch.nn.Linear(n_hidden, n_out))
    model.load_state_dict(load_safetensors(path), strict=True)
    x = torch.arange(2 * n_in, dtype=torch.float32).reshape(2, n_in) / 10
    with torch.no_grad():
        y = model(x)
    print(" ".join(repr(v) for v in y.flatten().tolist()))


if __name__ == "__main__":
    main()
