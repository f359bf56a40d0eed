"""Reads a dlt run folder's TensorBoard events with the real `tensorboard`
package and checks them against the run's metrics.jsonl: every scalar of
every record at its step (float32), each step once per tag, the config as
text and the hparams session. Exit 0 ok, 1 mismatch, 77 without tensorboard.
--killed (a run killed mid-way): the events' steps need only be among
metrics.jsonl's (its last record may not have reached the event file), and
at least 20 must be there.

    python3 tests/train/tensorboard_check.py RUN_DIR [--tokens-per-sample N] [--killed]
"""
import argparse
import json
import math
import struct
import sys

try:
    from tensorboard.backend.event_processing import event_accumulator as ea
    from tensorboard.backend.event_processing import plugin_event_accumulator as pea
    from tensorboard.plugins.hparams import metadata as hp
except ImportError:
    print("SKIPPED: the tensorboard package is not installed (pip install tensorboard)")
    sys.exit(77)


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("run")
    ap.add_argument("--tokens-per-sample", type=int, default=0)
    ap.add_argument("--killed", action="store_true")
    a = ap.parse_args()
    acc = ea.EventAccumulator(a.run, size_guidance=ea.STORE_EVERYTHING_SIZE_GUIDANCE)
    acc.Reload()
    tags = set(acc.Tags()["scalars"])
    expected = {}  # tag -> {step: value}
    for r in map(json.loads, open(f"{a.run}/metrics.jsonl")):
        for key in ("loss", "accuracy", "perplexity", "lr", "grad_norm", "samples_per_s", "tflops", "mfu",
                    "loss_scale", "skipped_steps"):
            if r.get(key) is not None:
                expected.setdefault(f"{r['split']}/{key}", {})[r["step"]] = r[key]
        if a.tokens_per_sample and r.get("samples_per_s") is not None:
            expected.setdefault("train/tokens_per_s", {})[r["step"]] = r["samples_per_s"] * a.tokens_per_sample
    errors = []
    if set(expected) != tags and not a.killed:
        errors.append(f"scalar tags {sorted(tags)} != metrics.jsonl's {sorted(expected)}")
    checked = 0
    for tag, want in expected.items():
        if tag not in tags:
            continue
        events = acc.Scalars(tag)
        steps = [e.step for e in events]
        if len(steps) != len(set(steps)):
            errors.append(f"{tag}: a step appears twice: {sorted(steps)}")
        got = {e.step: e.value for e in events}
        if a.killed:
            if not set(got) <= set(want) or (tag == "train/loss" and len(got) < 20):
                errors.append(f"{tag}: steps {sorted(got)} not among metrics.jsonl's {sorted(want)}")
            want = {s: v for s, v in want.items() if s in got}
        elif set(got) != set(want):
            errors.append(f"{tag}: steps {sorted(got)} != metrics.jsonl's {sorted(want)}")
        for step, v in want.items():
            if step in got and not (got[step] == f32(v) or (math.isnan(v) and math.isnan(got[step]))):
                errors.append(f"{tag} at step {step}: {got[step]} != {f32(v)}")
            checked += 1
    plugins = pea.EventAccumulator(a.run, size_guidance={pea.TENSORS: 0})
    plugins.Reload()
    content = plugins.PluginTagToContent("hparams")
    if "_hparams_/session_start_info" not in content:
        errors.append("no hparams session_start_info")
    else:
        hparams = hp.parse_session_start_info_plugin_data(content["_hparams_/session_start_info"]).hparams
        if "optim.lr" not in hparams:
            errors.append(f"hparams lack optim.lr: {sorted(hparams)[:10]}")
    if "config" not in plugins.Tags()["tensors"]:
        errors.append("no config text")
    for e in errors:
        print("error:", e)
    print(f"{checked} scalars checked against metrics.jsonl, {len(errors)} errors")
    sys.exit(1 if errors else 0)


main()
