#!/usr/bin/env python3
"""GPT-2 small on one GPU, side by side in one run (docs/performance.md,
"GPU").

The model: 12 layers, width 768, 12 heads, sequence 1024, vocabulary 50,304,
bf16 mixed precision (fp32 master weights, bf16 compute under autocast),
AdamW. Trained for --steps steps (the first --warmup not timed) by:

  dstrain   the engine's worker (`dstrain-worker JOB.yaml`, one rank, the
            job written here), its step times and the CUDA caching
            allocator's peak from its metrics lines;
  eager     the same model in PyTorch (bench/common/gpt_torch.py, the
            GPT of worker/models/gpt.h), the same batch and optimizer
            settings;
  compile   that model under torch.compile, where it works.

Each with and without activation checkpointing (dstrain `recompute.enabled`,
PyTorch torch.utils.checkpoint per block). Prints one table: tokens/s, model
FLOPs utilisation (6N + 12·L·C·T FLOPs per token, N the parameters without
the position table, against the device's dense bf16 peak), peak device
memory, and the ratios the targets name.

  python3 bench/gpu/gpt2_small.py --worker build-gpu/bin/dstrain-worker

--device cpu --tiny rehearses the whole script on a CPU machine (a small
model, a few steps): the numbers mean nothing there.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "common"))
from gpt_torch import Gpt  # noqa: E402  the model dstrain trains

# Dense bf16 peak (no sparsity), TFLOPS.
PEAK_TFLOPS = {"H100": 989.4, "H200": 989.4, "H800": 989.4, "A100": 312.0}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def flops_per_token(n_params, layers, c, seq):
    return 6 * n_params + 12 * layers * c * seq


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def run_torch(a, device, checkpointing, compiled):
    model = Gpt(a.vocab, a.layers, a.d_model, a.heads, a.seq, 4 * a.d_model)
    model.reset_parameters(torch.Generator().manual_seed(1))
    model.checkpointing = checkpointing
    model = model.to(device)
    n = (sum(p.numel() for p in model.parameters())
         - model.pos_emb.weight.numel())
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4, betas=(0.9, 0.95),
                            weight_decay=0.1,
                            fused=device.type == "cuda")
    step_fn = model
    if compiled:
        step_fn = torch.compile(model)
    gen = torch.Generator(device="cpu").manual_seed(2)
    batches = [torch.randint(0, a.vocab, (a.micro_batch, a.seq + 1),
                             generator=gen) for _ in range(4)]
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    times = []
    for s in range(a.steps):
        tok = batches[s % 4].to(device, non_blocking=True)
        sync(device)
        t0 = time.perf_counter()
        with torch.autocast(device.type, dtype=torch.bfloat16):
            loss = step_fn(tok[:, :-1], tok[:, 1:])
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        sync(device)
        times.append(time.perf_counter() - t0)
    peak = torch.cuda.max_memory_allocated() if device.type == "cuda" else 0
    return n, times[a.warmup:], peak, float(loss)


def run_dstrain(a, device, checkpointing, workdir):
    job = os.path.join(workdir, f"gpt2-{int(checkpointing)}.yaml")
    with open(job, "w") as f:
        f.write(f"""name: gpt2-small-bench
procs_per_node: 1
device: {device.type}
model: {{vocab: {a.vocab}, layers: {a.layers}, d_model: {a.d_model}, heads: {a.heads}, seq_len: {a.seq}}}
data: {{type: synthetic, synthetic_tokens: {max(1 << 24, 4 * a.micro_batch * (a.seq + 1))}}}
amp: {{dtype: bf16}}
recompute: {{enabled: {str(checkpointing).lower()}}}
train:
  steps: {a.steps}
  micro_batch: {a.micro_batch}
  log_every: 0
  optimizer: {{type: adamw, lr: 3.0e-4}}
  schedule: {{type: constant}}
""")
    metrics = os.path.join(workdir, f"metrics-{int(checkpointing)}.jsonl")
    r = subprocess.run([a.worker, job, "--metrics-file",
                        metrics.replace(".jsonl", "-{rank}.jsonl")],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"dstrain-worker failed ({r.returncode}):\n"
                           f"{r.stdout[-2000:]}\n{r.stderr[-4000:]}")
    metrics = metrics.replace(".jsonl", "-0.jsonl")
    steps = [json.loads(l) for l in open(metrics) if '"type":"step"' in l]
    times = [s["step_time_s"] for s in steps][a.warmup:]
    peak = max(s.get("device_peak_bytes", 0) for s in steps)
    result = [json.loads(l) for l in open(metrics) if '"type":"result"' in l]
    n = result[0]["param_count"] - a.seq * a.d_model if result else 0
    return n, times, peak, steps[-1]["loss"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--worker", required=True, help="dstrain-worker binary")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--steps", type=int, default=25)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--micro-batch", type=int, default=8)
    ap.add_argument("--tiny", action="store_true",
                    help="a small model, for rehearsing on a CPU machine")
    ap.add_argument("--no-compile", action="store_true")
    ap.add_argument("--json", help="also write every number here")
    a = ap.parse_args()
    a.vocab, a.layers, a.d_model, a.heads, a.seq = 50304, 12, 768, 12, 1024
    if a.tiny:
        a.vocab, a.layers, a.d_model, a.heads, a.seq = 512, 2, 64, 2, 64
        a.steps, a.warmup, a.micro_batch = 4, 1, 2
    device = torch.device(a.device)
    name = (torch.cuda.get_device_name() if device.type == "cuda" else "cpu")
    peak_tflops = next((v for k, v in PEAK_TFLOPS.items() if k in name), 0)
    tokens = a.micro_batch * a.seq
    rows = {}
    with tempfile.TemporaryDirectory() as work:
        for checkpointing in (False, True):
            kinds = [("dstrain", None), ("eager", False)]
            if not a.no_compile:
                kinds.append(("compile", True))
            for kind, compiled in kinds:
                key = f"{kind}{' +ckpt' if checkpointing else ''}"
                log(f"{key} ...")
                try:
                    if kind == "dstrain":
                        n, times, peak, loss = run_dstrain(a, device,
                                                           checkpointing, work)
                    else:
                        n, times, peak, loss = run_torch(a, device,
                                                         checkpointing,
                                                         compiled)
                except Exception as e:  # torch.compile may not work there
                    log(f"  {key}: failed: {str(e).splitlines()[0][:300]}")
                    rows[key] = {"error": str(e)[:2000]}
                    continue
                step = sorted(times)[len(times) // 2]
                tps = tokens / step
                fpt = flops_per_token(n, a.layers, a.d_model, a.seq)
                mfu = tps * fpt / (peak_tflops * 1e12) if peak_tflops else 0
                rows[key] = {"params": n, "step_s": step, "tokens_per_s": tps,
                             "mfu": mfu, "peak_bytes": peak, "loss": loss}
                log(f"  {tps:,.0f} tokens/s, MFU {100 * mfu:.1f}%, "
                    f"peak {peak / 2**30:.2f} GiB, loss {loss:.3f}")
    print(f"device: {name}; GPT {a.layers}x{a.d_model}, {a.heads} heads, "
          f"sequence {a.seq}, batch {a.micro_batch}, bf16; median of "
          f"{a.steps - a.warmup} steps after {a.warmup}")
    print()
    print("| run | tokens/s | MFU | peak device memory | step |")
    print("|---|---|---|---|---|")
    for key, r in rows.items():
        if "error" in r:
            print(f"| {key} | failed: {r['error'].splitlines()[0][:80]} | | | |")
            continue
        print(f"| {key} | {r['tokens_per_s']:,.0f} | {100 * r['mfu']:.1f}% | "
              f"{r['peak_bytes'] / 2**30:.2f} GiB | {1000 * r['step_s']:.1f} ms |")
    print()

    def ratio(a_key, b_key, field):
        if field in rows.get(a_key, {}) and field in rows.get(b_key, {}):
            return rows[a_key][field] / rows[b_key][field]
        return float("nan")

    print(f"dstrain / eager tokens/s: {ratio('dstrain', 'eager', 'tokens_per_s'):.2f} "
          f"(target >= 1.1); dstrain MFU {100 * rows.get('dstrain', {}).get('mfu', 0):.1f}% "
          f"(target >= 40%)")
    print(f"dstrain / compile tokens/s: {ratio('dstrain', 'compile', 'tokens_per_s'):.2f}")
    # What checkpointing saves of the activations: the peak above the
    # model state (params, grads, AdamW moments: 16 bytes a parameter).
    for kind in ("dstrain", "eager"):
        off, on = rows.get(kind, {}), rows.get(kind + " +ckpt", {})
        if "peak_bytes" in off and "peak_bytes" in on and off["peak_bytes"]:
            state = 16 * (off["params"] + a.seq * a.d_model)
            act_off = off["peak_bytes"] - state
            act_on = on["peak_bytes"] - state
            saved = 1 - act_on / act_off if act_off > 0 else float("nan")
            cost = on["step_s"] / off["step_s"] - 1
            print(f"{kind}: checkpointing saves {100 * saved:.0f}% of "
                  f"activation memory ({act_off / 2**30:.2f} -> "
                  f"{act_on / 2**30:.2f} GiB) at {100 * cost:.0f}% step time "
                  f"(target >= 50% at <= 35%)")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
