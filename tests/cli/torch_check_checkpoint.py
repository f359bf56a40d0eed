"""A checkpoint of `dlt train` in PyTorch: loads step-N/model.safetensors
(parsed with json + numpy: torch 1.13 has no safetensors) strictly into the
equivalent nn.Sequential and checks that its eval-mode outputs on the input
file match what `dlt predict` wrote.

  torch_check_checkpoint.py MODEL.safetensors DATA.h5 KEY PRED.h5

Exit 0 when they match, 1 (with a message) when not, 77 without torch/h5py.
"""
import json
import struct
import sys

try:
    import h5py
    import numpy as np
    import torch
except ImportError as e:
    print(f"missing python package: {e}", file=sys.stderr)
    sys.exit(77)

DTYPES = {"F32": np.float32, "F64": np.float64, "F16": np.float16, "I64": np.int64,
          "I32": np.int32, "U8": np.uint8, "BOOL": np.bool_}


def load_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    header.pop("__metadata__", None)
    out = {}
    for name, e in header.items():
        begin, end = e["data_offsets"]
        array = np.frombuffer(data[8 + n + begin:8 + n + end], DTYPES[e["dtype"]]).reshape(e["shape"])
        out[name] = torch.from_numpy(array.copy())
    return out


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
