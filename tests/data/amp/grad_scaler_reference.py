#!/usr/bin/env python3
"""Writes grad_scaler_reference.txt: what torch.amp.GradScaler does, step by
step, for scripted series of inf/NaN gradients. worker/amp/loss_scaler_test.cc
replays the same series through dstrain's LossScaler and compares every step.

Each step is the documented GradScaler loop on one CPU parameter p (zeros(2))
with plain SGD (lr 1):
    loss = (p * x).sum()          # x = 1, inf or nan: the step's gradient
    scaler.scale(loss).backward()
    scaler.step(opt)              # unscale_ + inf check, skip on inf/NaN
    scaler.update()
A step counts as skipped when p is unchanged.

Run (PyTorch 2.11, CPU only):
    ~/.cache/dstrain/venv/bin/python tests/data/amp/grad_scaler_reference.py \
        > tests/data/amp/grad_scaler_reference.txt

Output: comment lines (#), then per scenario a header line
    scenario NAME init_scale G growth_factor F backoff_factor B growth_interval N
followed by one line per step
    FLAG SCALE TRACKER SKIPPED
FLAG is '.' (finite gradient), 'i' (inf) or 'n' (NaN); SCALE (after update,
%.17g, exact for float32) and TRACKER are GradScaler's state after the step;
SKIPPED is 1 when the optimizer step was skipped. A scenario ends at `end`.
"""
import sys

import torch


def scripted(parts):
    """[(flag, count), ...] -> 'i..n.'-style string."""
    return "".join(flag * count for flag, count in parts)


SCENARIOS = [
    # The defaults (2^16, 2.0, 0.5, 2000): inf and NaN at the start halve the
    # scale; 2000 clean steps double it; an inf at clean step 1999 resets the
    # tracker so the doubling waits 2000 more; a long run of infs keeps halving
    # (below 1: GradScaler has no floor).
    ("defaults", 2.0**16, 2.0, 0.5, 2000,
     scripted([("i", 1), ("n", 1), (".", 2000), ("i", 1), (".", 1999),
               ("i", 1), (".", 2000), (".", 3), ("n", 1), ("i", 20),
               (".", 5)])),
    # Near float32's top: a grown scale that is not finite (2^128) is not
    # applied, and the tracker still resets.
    ("overflow", 2.0**126, 2.0, 0.5, 3,
     scripted([(".", 3), (".", 3), (".", 3), (".", 2), ("i", 1), (".", 3),
               (".", 3), ("n", 1), (".", 3)])),
    # Other constants, a pseudo-random series.
    ("custom", 1024.0, 3.0, 0.25, 2,
     "..i...n..i.i....ii......n..." + "." * 7 + "i" + "." * 11),
]

VALUE = {".": 1.0, "i": float("inf"), "n": float("nan")}


def run(name, init_scale, growth, backoff, interval, flags):
    print(f"scenario {name} init_scale {init_scale!r} growth_factor {growth!r} "
          f"backoff_factor {backoff!r} growth_interval {interval}")
    p = torch.zeros(2, requires_grad=True)
    opt = torch.optim.SGD([p], lr=1.0)
    scaler = torch.amp.GradScaler("cpu", init_scale=init_scale,
                                  growth_factor=growth, backoff_factor=backoff,
                                  growth_interval=interval)
    for flag in flags:
        opt.zero_grad(set_to_none=True)
        before = p.detach().clone()
        x = torch.full((2,), VALUE[flag])
        loss = (p * x).sum()
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        skipped = int(torch.equal(before, p.detach()))
        state = scaler.state_dict()
        print(f"{flag} {state['scale']:.17g} {state['_growth_tracker']} {skipped}")
    print("end")


def main():
    print("# torch.amp.GradScaler reference sequences; made by "
          "grad_scaler_reference.py")
    print(f"# torch {torch.__version__}")
    for s in SCENARIOS:
        run(*s)


if __name__ == "__main__":
    sys.exit(main())
