#!/usr/bin/env bash
# Sets up and builds dlt (scripts/setup.sh), then runs the test suite.
# Extra arguments go to ctest:
#
#   scripts/test.sh                 # every test
#   scripts/test.sh -L fast         # only tests labelled "fast"
#   scripts/test.sh -R Autograd     # tests whose name matches a regex
#
# DLT_BUILD_DIR and DLT_JOBS are as for scripts/setup.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/setup.sh

# The reference readers our files are checked with (PyPI, for plain python3).
# onnx 1.22.0: the last release with ONNX's node test files (scripts/onnx/node_tests.sh).
if ! python3 -c "import safetensors, numpy, tensorboard, onnxruntime, onnx
assert onnx.__version__ == '1.22.0'" >/dev/null 2>&1; then
  echo "test: installing safetensors, tensorboard, onnx and onnxruntime for the interop tests"
  python3 -m pip install --quiet safetensors numpy tensorboard onnx==1.22.0 onnxruntime ||
    echo "test: could not install the Python packages: their interop tests will be skipped"
fi

build_dir="${DLT_BUILD_DIR:-build}"
echo "test: running ctest in $build_dir"
# --no-tests=error: a suite that found no test fails instead of passing.
exec ctest --test-dir "$build_dir" --output-on-failure --no-tests=error \
  -j "${DLT_JOBS:-2}" "$@"
