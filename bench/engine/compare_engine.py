#!/usr/bin/env python3
"""The training-engine benchmarks of docs/performance.md ("Training engine"),
all in one run, printed as markdown tables with ratios:

 1. model-state bytes per rank, ZeRO stages 0-3 at W = 1, 2, 4, fp32 and
    bf16 compute, against the formulas (build-*/bin/engine_memory_bench);
 2. activation checkpointing on the example GPT (configs/examples/charlm.yaml
    with --layers/--d-model): peak activation bytes and step time with and
    without recompute.enabled, `dstrain launch` runs, from metrics.jsonl,
    and CPU time per step (long run minus short run, getrusage), which the
    load of a shared machine disturbs less than wall time;
 3. step time of dstrain ZeRO stage 3 against PyTorch FSDP2 (fully_shard,
    gloo, CPU, fp32; bench/engine/fsdp_torch.py) and against dstrain stage 0,
    for each world size in --ranks; FSDP2 with fused AdamW (PyTorch's
    fastest on CPU) every repeat, with the default AdamW once.

  python bench/engine/compare_engine.py --build build-<you> [--ranks 2,4]
      [--steps 30] [--warmup 5] [--repeats 2] [--layers 4] [--d-model 128]
      [--out runs/bench-engine]

Step times are per step on rank 0 (dstrain's step_time_s; the torch peer
times the same span the same way), the median over every step after the
first --warmup of every repeat. Runs never overlap; within a world size
they are interleaved (dstrain 3, FSDP2, dstrain 0, dstrain 3, ...) so the
load of the moment falls on all of them. Every run's raw output is kept
under --out. The load average is printed before and after.
"""

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
JOB = os.path.join(ROOT, "configs/examples/charlm.yaml")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


LOADS = []  # 1-minute load average at the start of every run


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


LAST_CPU = [0.0]  # CPU seconds of the last run(), its processes together


def run(cmd, timeout=900):
    LOADS.append(os.getloadavg()[0])
    log("$ " + " ".join(cmd))
    t0 = time.time()
    cpu0 = children_cpu()
    done = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=timeout)
    LAST_CPU[0] = children_cpu() - cpu0
    took = time.time() - t0
    if done.returncode != 0:
        raise SystemExit(f"failed ({done.returncode}) after {took:.0f} s:\n"
                         f"{done.stderr[-3000:]}")
    log(f"  done in {took:.0f} s")
    return done.stdout


def model_set(a):
    return (f"model={{type: gpt, vocab: 256, layers: {a.layers}, "
            f"d_model: {a.d_model}, heads: {a.heads}, seq_len: {a.seq_len}}}")


def dstrain_cmd(a, ranks, stage, recompute, run_dir, steps):
    return [a.dstrain, "launch", os.path.relpath(JOB, ROOT),
            "--set", model_set(a),
            "--set", f"procs_per_node={ranks}",
            "--set", f"train.steps={steps}",
            "--set", f"train.micro_batch={a.micro_batch}",
            "--set", f"train.schedule.warmup_steps={min(20, steps)}",
            "--set", f"zero.stage={stage}",
            "--set", f"recompute.enabled={'true' if recompute else 'false'}",
            "--run-dir", os.path.relpath(run_dir, ROOT), "--quiet", "--json"]


def run_dstrain(a, ranks, stage, recompute, tag, steps=None):
    run_dir = os.path.join(a.out, tag)
    shutil.rmtree(run_dir, ignore_errors=True)
    run(dstrain_cmd(a, ranks, stage, recompute, run_dir, steps or a.steps))
    with open(os.path.join(run_dir, "metrics.jsonl")) as f:
        lines = [json.loads(line) for line in f if line.strip()]
    return [line for line in lines if "step_time_s" in line]


def torch_cmd(a, ranks, steps, adamw):
    return [a.python, os.path.relpath(
        os.path.join(ROOT, "bench/engine/fsdp_torch.py"), ROOT),
        "--ranks", str(ranks), "--layers", str(a.layers),
        "--d-model", str(a.d_model), "--heads", str(a.heads),
        "--seq-len", str(a.seq_len), "--micro-batch", str(a.micro_batch),
        "--steps", str(steps), "--warmup-steps", str(min(20, steps)),
        "--adamw", adamw]


def run_torch(a, ranks, adamw, tag):
    out = run(torch_cmd(a, ranks, a.steps, adamw))
    report = json.loads(out.strip().splitlines()[-1])
    with open(os.path.join(a.out, tag + ".json"), "w") as f:
        json.dump(report, f, indent=1)
    return report


def after_warmup(values, warmup):
    return values[warmup:] if len(values) > warmup else values


def ms(seconds):
    return f"{seconds * 1e3:.1f} ms"


def mib(b):
    return f"{b / (1 << 20):.2f} MiB"


def shell(cmd):
    home = os.path.expanduser("~")
    cmd = ["~" + c[len(home):] if c.startswith(home + "/") else c
           for c in cmd]
    return " ".join(f"'{c}'" if (" " in c or "{" in c) else c for c in cmd)


def memory_section(a):
    cmd = [a.memory_bench, "--layers", str(a.layers), "--d-model",
           str(a.d_model), "--heads", str(a.heads), "--seq-len",
           str(a.seq_len), "--micro-batch", str(a.micro_batch), "--json",
           os.path.relpath(os.path.join(a.out, "memory.json"), ROOT)]
    out = run(cmd)
    return "\n".join(["### 1. Model-state bytes per rank", "",
                      "```", shell(cmd), "```", "", out.strip()])


def recompute_section(a, ranks):
    off, on = [], []
    peaks_off, peaks_on = [], []
    for rep in range(a.repeats):
        for recompute, times, peaks in ((False, off, peaks_off),
                                        (True, on, peaks_on)):
            tag = f"recompute-{'on' if recompute else 'off'}-{rep}"
            lines = run_dstrain(a, ranks, 0, recompute, tag)
            steady = after_warmup(lines, a.warmup)
            times += [x["step_time_s"] for x in steady]
            peaks += [x["activation_peak_bytes"] for x in steady]
    # CPU seconds per step, all ranks together, which the load of the
    # moment barely changes: (CPU of a long run - CPU of a short one) /
    # the steps between, so start-up cancels out.
    cpu = {}
    short = max(2, a.steps // 3)
    for recompute in (False, True):
        per_step = []
        for rep in range(a.repeats):
            used = {}
            for steps in (short, a.steps):
                run_dstrain(a, ranks, 0, recompute,
                            f"recompute-cpu-{recompute}-{steps}-{rep}", steps)
                used[steps] = LAST_CPU[0]
            per_step.append((used[a.steps] - used[short]) / (a.steps - short))
        cpu[recompute] = statistics.median(per_step)
    t_off, t_on = statistics.median(off), statistics.median(on)
    p_off, p_on = max(peaks_off), max(peaks_on)
    saved = 1 - p_on / p_off
    cost = t_on / t_off - 1
    cmd = dstrain_cmd(a, ranks, 0, True, os.path.join(a.out, "recompute-on-0"),
                      a.steps)
    return "\n".join([
        "### 2. Activation checkpointing", "",
        f"GPT {a.layers} layers, d_model {a.d_model}, heads {a.heads}, "
        f"seq_len {a.seq_len}, micro_batch {a.micro_batch}; {ranks} ranks, "
        f"ZeRO stage 0, fp32; {a.repeats} runs each of {a.steps} steps, "
        f"interleaved, first {a.warmup} steps of each dropped.", "",
        "```", shell(cmd), "   # and the same with recompute.enabled=false",
        "```", "",
        "| recompute | peak activation bytes (rank 0) | median step time |",
        "|---|---:|---:|",
        f"| off | {mib(p_off)} | {ms(t_off)} |",
        f"| on | {mib(p_on)} | {ms(t_on)} |",
        f"| on / off | **{p_on / p_off:.3f}** (saved {saved:.1%}) | "
        f"**{t_on / t_off:.3f}** (cost {cost:+.1%}) |", "",
        f"CPU time per step, all ranks together ((CPU of a {a.steps}-step "
        f"run - CPU of a {short}-step run) / {a.steps - short}, median of "
        f"{a.repeats}): off {ms(cpu[False])}, on {ms(cpu[True])}: "
        f"**{cpu[True] / cpu[False]:.3f}** (cost "
        f"{cpu[True] / cpu[False] - 1:+.1%}).", "",
        f"Targets: saved >= 50%: **{'met' if saved >= 0.5 else 'missed'}**; "
        f"cost <= 40%: wall **{'met' if cost <= 0.4 else 'missed'}**, CPU "
        f"**{'met' if cpu[True] / cpu[False] - 1 <= 0.4 else 'missed'}**."])


def fsdp_section(a, ranks_list):
    impls = a.torch_adamw.split(",")
    kinds = ["d3"] + ["torch-" + i for i in impls] + ["d0"]
    names = {"d3": "dstrain stage 3", "d0": "dstrain stage 0"}
    names.update({"torch-" + i: f"FSDP2, {i} AdamW" for i in impls})
    rows = []
    for ranks in ranks_list:
        times = {k: [] for k in kinds}
        runs = {k: [] for k in kinds}
        comm = {"d3": [], "d0": []}
        losses = {}
        for rep in range(a.repeats):
            for kind in kinds:
                if kind.startswith("torch-") and kind != kinds[1] and rep > 0:
                    continue  # secondary AdamW variants: one run each
                if kind.startswith("torch-"):
                    r = run_torch(a, ranks, kind[6:],
                                  f"{kind}-n{ranks}-{rep}")
                    t = after_warmup(r["step_time_s"], a.warmup)
                    losses.setdefault(kind, r["loss"][-1])
                else:
                    stage = 3 if kind == "d3" else 0
                    lines = run_dstrain(a, ranks, stage, False,
                                        f"stage{stage}-n{ranks}-{rep}")
                    steady = after_warmup(lines, a.warmup)
                    t = [x["step_time_s"] for x in steady]
                    comm[kind] += [x["comm_time_s"] for x in steady]
                    losses.setdefault(kind, lines[-1]["loss"])
                times[kind] += t
                runs[kind].append(statistics.median(t))
        med = {k: statistics.median(v) for k, v in times.items()}
        rows.append((ranks, med, runs, comm, losses))
    r0 = ranks_list[0]
    cmds = [shell(dstrain_cmd(a, r0, 3, False, os.path.join(a.out, "stage3"),
                              a.steps))]
    cmds += [shell(torch_cmd(a, r0, a.steps, i)) for i in impls]
    cmds.append(shell(dstrain_cmd(a, r0, 0, False,
                                  os.path.join(a.out, "stage0"), a.steps)))
    head = ["ranks"] + [names[k] for k in kinds]
    head += [f"**stage 3 / FSDP2 ({i})**" for i in impls]
    head += ["stage 3 / stage 0", "dstrain comm wait per step (3 / 0)"]
    lines = [
        "### 3. Step time: dstrain ZeRO-3 against PyTorch FSDP2", "",
        f"GPT {a.layers} layers, d_model {a.d_model}, heads {a.heads}, "
        f"seq_len {a.seq_len}, micro_batch {a.micro_batch} per rank, fp32, "
        f"gloo, CPU, 1 intra-op thread per rank, AdamW (lr 3e-3, betas "
        f"0.9/0.95, eps 1e-8, weight decay 0.1 on >= 2-D tensors, cosine "
        f"schedule with min(20, steps) warm-up steps), clip 1.0; "
        f"{a.repeats} runs of each"
        f"{' (' + ', '.join(impls[1:]) + ' AdamW: one)' if impls[1:] else ''}, "
        f"{a.steps} steps each, interleaved; "
        f"the median over all steps after the first {a.warmup} of each run.",
        "", "```"] + cmds + ["```", "",
        "| " + " | ".join(head) + " |",
        "|" + "|".join("---:" for _ in head) + "|"]
    for ranks, med, runs, comm, losses in rows:
        cells = [str(ranks)]
        cells += [ms(med[k]) + " (" + ", ".join(
            f"{x * 1e3:.0f}" for x in runs[k]) + ")" for k in kinds]
        cells += [f"**{med['d3'] / med['torch-' + i]:.2f}**" for i in impls]
        cells.append(f"{med['d3'] / med['d0']:.2f}")
        cells.append(f"{ms(statistics.median(comm['d3']))} / "
                     f"{ms(statistics.median(comm['d0']))}")
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("(In parentheses: the median of each run, in ms.)")
    lines.append("")
    for i in impls:
        ok = all(med["d3"] <= med["torch-" + i] for _, med, _, _, _ in rows)
        lines.append(f"Target stage 3 / FSDP2 ({i} AdamW) <= 1.0: "
                     f"**{'met' if ok else 'missed'}**.")
    lines.append("")
    lines.append("Last losses (sanity: same data, init scheme and "
                 "hyperparameters): " + "; ".join(
                     f"{r} ranks: " + ", ".join(
                         f"{names[k]} {v:.3f}" for k, v in losses.items())
                     for r, _, _, _, losses in rows) + ".")
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--build", default=os.path.join(ROOT, "build"),
                   help="build folder with bin/dstrain and "
                        "bin/engine_memory_bench")
    p.add_argument("--python", default=os.path.expanduser(
        "~/.cache/dstrain/venv/bin/python"))
    p.add_argument("--ranks", default="2,4")
    p.add_argument("--recompute-ranks", type=int, default=2)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--d-model", type=int, default=128)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--seq-len", type=int, default=64)
    p.add_argument("--micro-batch", type=int, default=8)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--torch-adamw", default="fused,default",
                   help="FSDP2 runs to make, by AdamW implementation; the "
                        "first runs --repeats times, the others once")
    p.add_argument("--parts", default="memory,recompute,fsdp")
    p.add_argument("--out", default=os.path.join(ROOT, "runs/bench-engine"))
    a = p.parse_args()
    a.dstrain = os.path.join(a.build, "bin/dstrain")
    a.memory_bench = os.path.join(a.build, "bin/engine_memory_bench")
    a.out = os.path.abspath(a.out)
    os.makedirs(a.out, exist_ok=True)
    parts = a.parts.split(",")

    t0 = time.time()
    load0 = os.getloadavg()
    sections = []
    if "memory" in parts:
        sections.append(memory_section(a))
    if "recompute" in parts:
        sections.append(recompute_section(a, a.recompute_ranks))
    if "fsdp" in parts:
        sections.append(fsdp_section(a, [int(x) for x in a.ranks.split(",")]))
    load1 = os.getloadavg()
    uname = platform.uname()
    print("```\n" + shell(["python", os.path.relpath(__file__, ROOT)] +
                           sys.argv[1:]) + "\n```\n")
    print(f"<!-- {uname.node}: {os.cpu_count()} CPUs, {uname.release}; "
          f"driver took {time.time() - t0:.0f} s; load average (1 min) "
          f"{load0[0]:.1f} at the start, {load1[0]:.1f} at the end; at the "
          f"start of each run: median {statistics.median(LOADS):.1f}, range "
          f"{min(LOADS):.1f} to {max(LOADS):.1f} -->")
    print("\n\n".join(sections))


if __name__ == "__main__":
    main()
