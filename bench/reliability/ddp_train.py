#!/usr/bin/env python3
"""The torchrun side of bench/reliability/compare_restart.py: one rank of a
plain DDP training run that checkpoints and resumes the way a careful
torchrun script does, so that `torchrun --max-restarts 1` can restart it.

  python -m torch.distributed.run --standalone --nproc-per-node 2 \\
      --max-restarts 1 bench/reliability/ddp_train.py --steps 24 \\
      --ckpt-dir DIR --ckpt-every 5 --log-dir DIR

What it mirrors of a dstrain job (the harness passes the same values):
  - the GPT of bench/engine/fsdp_torch.py (imported, not copied), its
    init, data windows, warm-up + cosine learning rate and AdamW settings;
  - gloo on CPU, --threads intra-op threads per rank (threads_per_proc);
  - a checkpoint every --ckpt-every steps (and after the last), written by
    rank 0 with torch.save to a temporary name, fsynced and renamed, so a
    kill never leaves a half-written `step-N.pt`; the newest --keep kept;
  - at start, every rank resumes from the newest checkpoint (rank 0 picks
    it and broadcasts the step, so all ranks load the same one).

Each rank appends one JSON line per event to --log-dir/rank<R>.jsonl,
flushed at once, with a wall-clock time `t` (time.time()): `start` (taken
before torch is imported, so it includes the import), `ready` (process
group up, model built, checkpoint loaded: the next line is a step),
`step` after every optimizer step (`step` counts completed steps, 1-based
as dstrain's) and `checkpoint`. `attempt` is torchrun's
TORCHELASTIC_RESTART_COUNT.
"""

import time

T_START = time.time()  # before `import torch`: the import is restart time

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
import torch.nn as nn  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "engine"))
from fsdp_torch import (Gpt, add_training_args, batches,  # noqa: E402
                        learning_rate)


class EventLog:
    """One JSON line per event, flushed, so a SIGKILL loses nothing."""

    def __init__(self, path, rank, attempt):
        self.f = open(path, "a", buffering=1)
        self.base = {"rank": rank, "attempt": attempt, "pid": os.getpid()}

    def write(self, event, t=None, **fields):
        line = dict(self.base, event=event, t=time.time() if t is None else t,
                    **fields)
        self.f.write(json.dumps(line) + "\n")


def checkpoint_steps(ckpt_dir):
    steps = []
    for name in os.listdir(ckpt_dir):
        if name.startswith("step-") and name.endswith(".pt"):
            steps.append(int(name[5:-3]))
    return sorted(steps)


def save_checkpoint(a, step, model, opt):
    """Rank 0 only: temporary file, fsync, rename; then prune old ones."""
    path = os.path.join(a.ckpt_dir, f"step-{step}.pt")
    tmp = os.path.join(a.ckpt_dir, f".step-{step}.pt.tmp")
    with open(tmp, "wb") as f:
        torch.save({"step": step, "model": model.state_dict(),
                    "optimizer": opt.state_dict()}, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    for old in checkpoint_steps(a.ckpt_dir)[:-a.keep]:
        os.remove(os.path.join(a.ckpt_dir, f"step-{old}.pt"))


def agreed_resume_step(a, rank):
    """The newest checkpoint as rank 0 sees it, the same on every rank."""
    steps = checkpoint_steps(a.ckpt_dir) if rank == 0 else []
    t = torch.tensor([steps[-1] if steps else 0], dtype=torch.int64)
    dist.broadcast(t, src=0)
    return int(t.item())


def make_optimizer(a, model):
    # As dstrain and fsdp_torch.py: weight decay on >= 2-D tensors only.
    decay = [p for p in model.parameters() if p.dim() >= 2]
    rest = [p for p in model.parameters() if p.dim() < 2]
    return torch.optim.AdamW(
        [{"params": decay, "weight_decay": a.weight_decay},
         {"params": rest, "weight_decay": 0.0}],
        lr=a.lr, betas=(a.beta1, a.beta2), eps=a.eps)


def train(a, rank, world, log):
    model = Gpt(256, a.layers, a.d_model, a.heads, a.seq_len,
                a.d_ff or 4 * a.d_model)
    model.reset_parameters(torch.Generator().manual_seed(a.seed))
    opt = make_optimizer(a, model)
    start = agreed_resume_step(a, rank)
    if start > 0:
        state = torch.load(os.path.join(a.ckpt_dir, f"step-{start}.pt"),
                           map_location="cpu", weights_only=True)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
    ddp = nn.parallel.DistributedDataParallel(model)
    data = batches(a, rank, world)  # every step's windows, as fsdp_torch
    log.write("ready", resumed_from=start)
    for step in range(start, a.steps):
        for g in opt.param_groups:
            g["lr"] = learning_rate(a, step)
        tokens = data[step]
        loss = ddp(tokens[:, :-1], tokens[:, 1:])
        loss.backward()
        if a.clip > 0:
            torch.nn.utils.clip_grad_norm_(ddp.parameters(), a.clip)
        opt.step()
        opt.zero_grad(set_to_none=True)
        done = step + 1
        log.write("step", step=done, loss=loss.item())
        if rank == 0:
            print(f"step {done}/{a.steps} loss {loss.item():.4f}", flush=True)
        if done % a.ckpt_every == 0 or done == a.steps:
            if rank == 0:
                save_checkpoint(a, done, model, opt)
                log.write("checkpoint", step=done)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_training_args(p, seq_len=128, micro_batch=16, steps=24, lr=1e-3,
                      warmup_steps=5)
    p.add_argument("--ckpt-dir", required=True)
    p.add_argument("--ckpt-every", type=int, default=5)
    p.add_argument("--keep", type=int, default=2)
    p.add_argument("--log-dir", required=True)
    return p.parse_args()


def main():
    a = parse_args()
    rank = int(os.environ["RANK"])
    world = int(os.environ["WORLD_SIZE"])
    attempt = int(os.environ.get("TORCHELASTIC_RESTART_COUNT", "0"))
    os.makedirs(a.ckpt_dir, exist_ok=True)
    os.makedirs(a.log_dir, exist_ok=True)
    log = EventLog(os.path.join(a.log_dir, f"rank{rank}.jsonl"), rank,
                   attempt)
    log.write("start", t=T_START)
    torch.set_num_threads(a.threads)
    dist.init_process_group("gloo")  # env:// from torchrun
    try:
        train(a, rank, world, log)
    finally:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
