#!/usr/bin/env bash
# Models exported by the current torch (../shared/peers/torch2.sh: torch 2.15
# and its default exporter, which stores weights as external data) run by
# `dlt onnx run` and compared with torch's outputs within 1e-4, at two batch
# sizes. Exit 77 (skipped) where that torch is not set up: it is a 1.5 GB
# download, made by the script on first use, not by the tests.
#
#   tests/onnx/torch2_import.sh DLT_BINARY
set -euo pipefail
dlt=$1
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/torch2_peer.sh
source "$here/../torch2_peer.sh"
# Its exporter needs the onnx and onnxscript packages in that environment.
"$venv/bin/python" -c "import onnx, onnxscript" 2>/dev/null ||
  "$venv/bin/pip" install --quiet onnx==1.22.0 onnxscript
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$torch2" "$here/torch2_export.py" "$out" | tail -1
for model in mlp resnet; do
  for batch in 1 3; do
    "$dlt" onnx run "$out/$model.onnx" --input "$out/${model}_x$batch.npy" --out "$out/${model}_dlt$batch.npy" >/dev/null
    "$venv/bin/python" - "$out/${model}_dlt$batch.npy" "$out/${model}_y$batch.npy" "$model batch $batch" <<'PY'
import sys
import numpy as np
got, want = np.load(sys.argv[1]), np.load(sys.argv[2])
err = float(np.abs(got - want).max())
print(f"{sys.argv[3]}: shape {got.shape}, max |dlt - torch| = {err:.2e}")
assert got.shape == want.shape and err <= 1e-4, "outputs differ"
PY
  done
done
