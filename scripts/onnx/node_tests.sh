#!/usr/bin/env bash
# ONNX's backend node tests through dlt's importer (dlt onnx test): the test
# folders of the onnx 1.22.0 wheel (the last release that ships them; later
# ones build the cases in memory), compared as ONNX's own runner compares.
# Prints one line per failure, a per-op table and "N passed, M failed, K
# skipped"; fails when a test of tests/onnx/node_tests_passing.txt no longer
# passes. Exit 77 (skipped) without onnx 1.22.0.
#
#   scripts/onnx/node_tests.sh [DLT_BINARY]        # REPORT=file.tsv keeps the per-test table
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dlt=${1:-$root/build/dlt}
python=${PYTHON:-python3}
node=$("$python" - <<'PY' 2>/dev/null || true
import os, onnx
if onnx.__version__ == "1.22.0":
    print(os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "node"))
PY
)
if [[ -z $node || ! -d $node ]]; then
  echo "skipped: ONNX's node tests need onnx 1.22.0 (python3 -m pip install onnx==1.22.0)"
  exit 77
fi
report=${REPORT:-$(mktemp --suffix=.tsv)}
"$dlt" onnx test "$node" --report "$report" --expect-pass "$root/tests/onnx/node_tests_passing.txt"
echo "per-test results: $report"
