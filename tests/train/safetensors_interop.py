"""Interop with the reference `safetensors` package (plain python3).

  safetensors_interop.py check FILE   verify a file dlt wrote (all 8 dtypes)
  safetensors_interop.py write FILE   write a file for dlt to read back

Exit status 0 when everything matches, 1 (with a message) otherwise, 77 when
the package is not installed so the C++ test can skip loudly.
"""
import sys

try:
    import numpy as np
    import safetensors
    from safetensors.numpy import save_file
except ImportError as e:  # the C++ test turns this into a loud skip
    print(f"missing python package: {e}", file=sys.stderr)
    sys.exit(77)

FLOATS = [0.0, 1.5, -2.0, 3.25, 0.5, -6.0]  # exact in bf16 and f16
INTS = [0, 1, -2, 3, 100, -7]
U8 = [0, 1, 2, 3, 100, 255]
BOOLS = [True, False, True, True, False, False]


def expected():
    return {
        "t_F32": ("F32", np.array(FLOATS, np.float32)),
        "t_F64": ("F64", np.array(FLOATS, np.float64)),
        "t_F16": ("F16", np.array(FLOATS, np.float16)),
        "t_BF16": ("BF16", np.array(FLOATS, np.float32)),  # compared after widening
        "t_I32": ("I32", np.array(INTS, np.int32)),
        "t_I64": ("I64", np.array(INTS, np.int64)),
        "t_U8": ("U8", np.array(U8, np.uint8)),
        "t_BOOL": ("BOOL", np.array(BOOLS, np.bool_)),
    }


def decode(dtype, raw):
    if dtype == "BF16":  # numpy has no bfloat16: widen the top 16 bits
        return (np.frombuffer(raw, np.uint16).astype(np.uint32) << 16).view(np.float32)
    np_type = {"F32": np.float32, "F64": np.float64, "F16": np.float16, "I32": np.int32,
               "I64": np.int64, "U8": np.uint8, "BOOL": np.bool_}[dtype]
    return np.frombuffer(raw, np_type)


def check(path):
    # safetensors.deserialize runs the reference (Rust) parser and validator.
    with open(path, "rb") as f:
        entries = dict(safetensors.deserialize(f.read()))
    want = expected()
    problems = []
    if set(entries) != set(want) | {"scalar", "empty"}:
        problems.append(f"names {sorted(entries)}")
    for name, (dtype, values) in want.items():
        e = entries[name]
        got = decode(e["dtype"], bytes(e["data"])).reshape(e["shape"])
        if e["dtype"] != dtype or list(e["shape"]) != [2, 3] or not np.array_equal(got.ravel(), values):
            problems.append(f"{name}: {e['dtype']} {e['shape']} {got.ravel()}")
    if entries["scalar"]["shape"] != [] or decode("F64", bytes(entries["scalar"]["data"]))[0] != 0.25:
        problems.append(f"scalar: {entries['scalar']}")
    if entries["empty"]["shape"] != [0, 4] or len(entries["empty"]["data"]) != 0:
        problems.append(f"empty: {entries['empty']}")
    # and through the numpy front end with metadata, for the dtypes numpy has
    with safetensors.safe_open(path, framework="numpy") as f:
        if f.metadata() != {"format": "pt", "note": "dlt test"}:
            problems.append(f"metadata {f.metadata()}")
        if not np.array_equal(f.get_tensor("t_F32").ravel(), want["t_F32"][1]):
            problems.append("safe_open t_F32")
    if problems:
        print("mismatch: " + "; ".join(problems), file=sys.stderr)
        sys.exit(1)


def write(path):
    save_file({
        "w": np.arange(12, dtype=np.float32).reshape(3, 4) / 8,
        "ids": np.array([5, -1, 7], np.int64),
        "mask": np.array([[True, False]], np.bool_),
        "h": np.array([1.5, -0.25], np.float16),
    }, path, metadata={"source": "python"})


if __name__ == "__main__":
    {"check": check, "write": write}[sys.argv[1]](sys.argv[2])
