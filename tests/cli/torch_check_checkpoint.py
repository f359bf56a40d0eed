"""A checkpoint of `dlt train` in PyTorch: loads step-N/model.safetensors
(parsed with json + numpy: torch 1.13 has no safetensors) strictly into the
equivalent nn.Sequential and checks that its eval-mode outputs on the input
file match what `dlt predict` wrote.

  torch_check_checkpoint.py MODEL.safetensors DATA.h5 KEY PRED.h5

Exit 0 when they match, 1 (with a message) when not, 77 without torch/h5py.
"""
import os
import sys

try:
    import h5py
    import numpy as np
    import torch
except ImportError as e:
    print(f"missing python package: {e}", file=sys.stderr)
    sys.exit(77)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "parity"))
from safetensors_numpy import load_safetensors  # noqa: E402


def main():
    model_path, data_path, key, pred_path = sys.argv[1:5]
    # The test config's model: Linear(6, 16), ReLU, Dropout(0.2), Linear(16, 3).
    model = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.ReLU(), torch.nn.Dropout(0.2),
                                torch.nn.Linear(16, 3))
    model.load_state_dict(load_safetensors(model_path), strict=True)
    model.eval()
    with h5py.File(data_path, "r") as f:
        x = torch.from_numpy(f[key][...])
    with h5py.File(pred_path, "r") as f:
        dlt_out = f["outputs"][...]
        dlt_classes = f["predictions"][...]
    with torch.no_grad():
        y = model(x).numpy()
    if not np.allclose(y, dlt_out, rtol=1e-5, atol=1e-5):
        print(f"outputs differ: max |diff| {np.abs(y - dlt_out).max()}", file=sys.stderr)
        sys.exit(1)
    if not np.array_equal(y.argmax(1), dlt_classes):
        print("predicted classes differ", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
