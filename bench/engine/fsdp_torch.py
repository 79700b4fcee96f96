#!/usr/bin/env python3
"""The PyTorch peer of a dstrain GPT training run: the same model, data,
optimizer and step, sharded with FSDP2 (torch.distributed.fsdp.fully_shard)
over gloo on CPU in fp32, for docs/performance.md ("Training engine").

It mirrors worker/models/gpt.h and worker/engine/trainer.cc:
  - model: token + position embeddings, `layers` pre-norm blocks
    [x + attn(LN(x)), x + MLP(LN(x))], attention with a fused q/k/v
    projection without bias plus a query and a value bias (no key bias),
    causal scaled_dot_product_attention, an exact-GELU MLP d_ff wide, a
    final LayerNorm, the head tied to the token embedding; GPT-2 init;
  - sharding: fully_shard on every block, then on the root (embeddings,
    final norm, tied head), reshard_after_forward=True (dstrain's default),
    the default prefetch of one unit;
  - optimizer: AdamW (--adamw: PyTorch's default for CPU tensors, a loop
    over parameters, each op a DTensor op; foreach; or fused),
    weight decay on tensors of >= 2 dimensions only, the job's lr, betas,
    eps and weight decay, warm-up + cosine schedule as
    worker/optim/lr_schedule.cc, gradient clipping by global norm;
  - data: random windows of seq_len + 1 bytes of the same text corpus,
    micro_batch sequences per rank per step, made before the timed loop;
  - timing: per step on rank 0, wall time from before the forward to after
    the optimizer step and loss.item() (which forces completion), as
    dstrain's step_time_s.

  python bench/engine/fsdp_torch.py --ranks 2 --layers 4 --d-model 128 \
      --heads 4 --seq-len 64 --micro-batch 8 --steps 30 [--mode fsdp2|ddp]

Prints one JSON object on stdout: the settings, param_count, and per step
the loss and step time of rank 0. Starts the ranks with
torch.multiprocessing, forked (the parent has imported torch but run no op,
so no thread pool is inherited; each rank sets its own thread count), TCP
rendezvous on a free 127.0.0.1 port. --profile FILE writes rank 0's
torch.profiler table of the last 3 steps.
"""

import argparse
import json
import math
import os
import socket
import sys
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "common"))
from gpt_torch import Gpt  # noqa: E402  the model dstrain trains


def learning_rate(a, step):
    if step < a.warmup_steps:
        return a.lr * (step + 1) / a.warmup_steps
    span = max(1, a.steps - 1 - a.warmup_steps)  # the last step ends the decay, as dstrain
    p = min(max((step - a.warmup_steps) / span, 0.0), 1.0)
    r = a.min_lr_ratio
    return a.lr * (r + (1.0 - r) * 0.5 * (1.0 + math.cos(math.pi * p)))


def batches(a, rank, world):
    """micro_batch windows of seq_len + 1 bytes per rank per step."""
    paths = [a.data] if os.path.isfile(a.data) else sorted(
        os.path.join(a.data, n) for n in os.listdir(a.data)
        if os.path.isfile(os.path.join(a.data, n))
        and not n.endswith(".dat")
        and not os.path.islink(os.path.join(a.data, n)))
    raw = bytearray()
    for path in paths:
        with open(path, "rb") as f:
            raw += f.read()
    corpus = torch.frombuffer(raw, dtype=torch.uint8)
    gen = torch.Generator().manual_seed(a.seed)
    n = a.seq_len + 1
    out = []
    for _ in range(a.steps):
        starts = torch.randint(0, corpus.numel() - n,
                               (world * a.micro_batch,), generator=gen)
        mine = starts[rank * a.micro_batch:(rank + 1) * a.micro_batch]
        out.append(torch.stack([corpus[s:s + n] for s in mine.tolist()])
                   .long())
    return out


def run_rank(rank, world, port, a, queue):
    torch.set_num_threads(a.threads)
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        model = Gpt(256, a.layers, a.d_model, a.heads, a.seq_len,
                    a.d_ff or 4 * a.d_model)
        model.reset_parameters(torch.Generator().manual_seed(a.seed))
        param_count = sum(p.numel() for p in model.parameters())
        if a.mode == "fsdp2":
            from torch.distributed.device_mesh import init_device_mesh
            from torch.distributed.fsdp import fully_shard
            mesh = init_device_mesh("cpu", (world,))
            for b in model.blocks:
                fully_shard(b, mesh=mesh, reshard_after_forward=True)
            fully_shard(model, mesh=mesh, reshard_after_forward=True)
        else:
            model = torch.nn.parallel.DistributedDataParallel(model)
        decay = [p for p in model.parameters() if p.dim() >= 2]
        rest = [p for p in model.parameters() if p.dim() < 2]
        opt = torch.optim.AdamW(
            [{"params": decay, "weight_decay": a.weight_decay},
             {"params": rest, "weight_decay": 0.0}],
            lr=a.lr, betas=(a.beta1, a.beta2), eps=a.eps,
            **({"foreach": True} if a.adamw == "foreach" else
               {"fused": True} if a.adamw == "fused" else {}))
        data = batches(a, rank, world)
        dist.barrier()
        times, losses = [], []
        prof = None
        for step in range(a.steps):
            tokens = data[step]
            if rank == 0 and a.profile and step == a.steps - 3:
                prof = torch.profiler.profile(activities=[
                    torch.profiler.ProfilerActivity.CPU])
                prof.__enter__()
            t0 = time.perf_counter()
            for g in opt.param_groups:
                g["lr"] = learning_rate(a, step)
            loss = model(tokens[:, :-1], tokens[:, 1:])
            loss.backward()
            if a.clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), a.clip)
            opt.step()
            opt.zero_grad(set_to_none=True)
            value = loss.item()
            times.append(time.perf_counter() - t0)
            losses.append(value)
        if prof is not None:
            prof.__exit__(None, None, None)
            with open(a.profile, "w") as f:
                f.write(prof.key_averages().table(
                    sort_by="self_cpu_time_total", row_limit=40))
                f.write("\n\nsteps profiled: 3 (the last)\n")
        dist.barrier()
        if rank == 0:
            queue.put({"param_count": param_count, "step_time_s": times,
                       "loss": losses})
    finally:
        dist.destroy_process_group()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def add_training_args(p, seq_len, micro_batch, steps, lr, warmup_steps):
    """The arguments the model, batches() and learning_rate() read, with
    the defaults of the caller's benchmark (bench/reliability/ddp_train.py
    trains the same model)."""
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--d-model", type=int, default=128)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--seq-len", type=int, default=seq_len)
    p.add_argument("--d-ff", type=int, default=0, help="0: 4 * d_model")
    p.add_argument("--micro-batch", type=int, default=micro_batch)
    p.add_argument("--steps", type=int, default=steps)
    p.add_argument("--lr", type=float, default=lr)
    p.add_argument("--beta1", type=float, default=0.9)
    p.add_argument("--beta2", type=float, default=0.95)
    p.add_argument("--eps", type=float, default=1e-8)
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--warmup-steps", type=int, default=warmup_steps)
    p.add_argument("--min-lr-ratio", type=float, default=0.1)
    p.add_argument("--clip", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--threads", type=int, default=1,
                   help="intra-op threads per rank (threads_per_proc)")
    p.add_argument("--data", default="/usr/share/games/fortunes",
                   help="a text file or a folder of them (concatenated)")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--ranks", type=int, default=2)
    p.add_argument("--mode", choices=["fsdp2", "ddp"], default="fsdp2")
    add_training_args(p, seq_len=64, micro_batch=8, steps=30, lr=3e-3,
                      warmup_steps=20)
    p.add_argument("--adamw", choices=["default", "foreach", "fused"],
                   default="default",
                   help="AdamW implementation: PyTorch's default for CPU "
                        "tensors (a loop over parameters), the multi-tensor "
                        "(foreach) or the fused kernel")
    p.add_argument("--profile", default="",
                   help="write rank 0's torch.profiler table of the last "
                        "3 steps to this file")
    a = p.parse_args()
    if not os.path.exists(a.data):
        sys.exit(f"--data {a.data}: no such file or folder")

    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    port = free_port()
    procs = [ctx.Process(target=run_rank, args=(r, a.ranks, port, a, queue))
             for r in range(a.ranks)]
    for proc in procs:
        proc.start()
    result = None
    deadline = time.time() + 1800
    while result is None and time.time() < deadline:
        try:
            result = queue.get(timeout=1.0)
        except Exception:  # queue.Empty
            if any(proc.exitcode not in (None, 0) for proc in procs):
                break
    for proc in procs:
        proc.join(timeout=60)
        if proc.is_alive():
            proc.kill()
    if result is None or any(proc.exitcode != 0 for proc in procs):
        sys.exit("a rank failed: exit codes " +
                 ", ".join(str(proc.exitcode) for proc in procs))
    result.update({"tool": "torch " + torch.__version__, "mode": a.mode, "adamw": a.adamw,
                   "ranks": a.ranks, "layers": a.layers,
                   "d_model": a.d_model, "heads": a.heads,
                   "seq_len": a.seq_len, "micro_batch": a.micro_batch,
                   "steps": a.steps, "threads": a.threads})
    print(json.dumps(result))


if __name__ == "__main__":
    main()
