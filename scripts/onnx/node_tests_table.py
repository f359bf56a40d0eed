"""The markdown tables of docs/ONNX.md from a `dlt onnx test --report` TSV:
per op, the node tests that pass, fail and are skipped; then the reasons of
the skipped ones, grouped.

    REPORT=/tmp/node.tsv scripts/onnx/node_tests.sh && python3 scripts/onnx/node_tests_table.py /tmp/node.tsv
"""
import collections
import csv
import re
import sys

rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
per_op = collections.defaultdict(collections.Counter)
reasons = collections.Counter()
for r in rows:
    for op in r["ops"].split(","):
        per_op[op][r["status"]] += 1
    if r["status"] == "skipped":
        reason = re.sub(r"^.*?model\.onnx: ", "", r["reason"])
        reason = re.sub(r"\(\d+ nodes?: [^)]*\)", "", reason)
        reason = re.sub(r"node (with output )?'[^']*' ", "", reason)
        reason = re.sub(r"^(input|output)_\d+\.pb: ", "an input or output of ", reason)
        reasons[reason.strip()] += 1
total = collections.Counter(r["status"] for r in rows)
print(f"{total['passed']} passed, {total['failed']} failed, {total['skipped']} skipped "
      f"of {len(rows)} node tests.\n")
print("| op | passed | failed | skipped |\n|---|---|---|---|")
for op in sorted(per_op):
    c = per_op[op]
    print(f"| {op} | {c['passed']} | {c['failed']} | {c['skipped']} |")
print("\n| why skipped | tests |\n|---|---|")
for reason, n in reasons.most_common():
    print(f"| {reason.replace('|', '/')} | {n} |")
