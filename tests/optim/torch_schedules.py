"""Prints torch 1.13's learning rate at each step for the schedules of
tests/optim/test_schedule_torch.cpp. Usage: torch_schedules.py OUT_FILE.
Writes one line per case: its name, then the rate of steps 0, 1, ... (repr floats).
"""
import sys
import warnings

import torch
from torch.optim import lr_scheduler as S


def rates(base_lr, steps, make):
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=base_lr)
    sched = make(opt)
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def warmup_then(opt, warmup, after):
    # Linear warm-up base_lr * (s + 1) / warmup for s < warmup, then `after`.
    warm = S.LinearLR(opt, start_factor=1.0 / warmup, end_factor=1.0, total_iters=warmup - 1)
    return S.SequentialLR(opt, [warm, after(opt)], milestones=[warmup])


CASES = {
    "step": lambda: rates(0.1, 20, lambda o: S.StepLR(o, step_size=3, gamma=0.5)),
    "cosine": lambda: rates(0.1, 31, lambda o: warmup_then(
        o, 5, lambda o: S.CosineAnnealingLR(o, T_max=25, eta_min=0.001))),
    "cosine_min0": lambda: rates(0.3, 13, lambda o: warmup_then(
        o, 3, lambda o: S.CosineAnnealingLR(o, T_max=10, eta_min=0.0))),
    "linear": lambda: rates(0.1, 21, lambda o: warmup_then(
        o, 4, lambda o: S.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=16))),
    "one_cycle": lambda: rates(0.1, 50, lambda o: S.OneCycleLR(
        o, max_lr=0.1, total_steps=50, pct_start=0.3, div_factor=25.0, final_div_factor=1e4,
        cycle_momentum=False)),
    "one_cycle_odd": lambda: rates(0.02, 17, lambda o: S.OneCycleLR(
        o, max_lr=0.02, total_steps=17, pct_start=0.25, div_factor=10.0, final_div_factor=100.0,
        cycle_momentum=False)),
}


def main():
    warnings.simplefilter("ignore")
    with open(sys.argv[1], "w") as f:
        for name, run in CASES.items():
            f.write(name + " " + " ".join(repr(x) for x in run()) + "\n")


if __name__ == "__main__":
    main()
