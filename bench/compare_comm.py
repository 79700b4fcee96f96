#!/usr/bin/env python3
"""Runs `dstrain bench comm` (gloo, and mpi when the build has it) and its
PyTorch peer (bench/comm_torch.py, torch.distributed over gloo) on the same
machine in one session, for each world size, and prints markdown tables of
the times side by side with their ratios (dstrain time / torch time per op
and size; below 1 means dstrain is faster). docs/performance.md holds the
tables this printed.

  python bench/compare_comm.py [--ranks 2,4] [--backends gloo,mpi]
      [--max-bytes 256M] [--target-time 0.2] [--out runs/bench-comm]

Each run's JSON is kept under --out (dstrain-gloo-n2.json, torch-gloo-n2.json,
...). Runs go one after another, never overlapping: for each world size
dstrain on the first backend, then torch, then dstrain on the others.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_json(cmd, out_path):
    print("$ " + " ".join(cmd), file=sys.stderr, flush=True)
    t0 = time.time()
    done = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    took = time.time() - t0
    if done.returncode != 0:
        print(f"  failed ({done.returncode}) after {took:.0f} s:\n"
              f"{done.stderr[-2000:]}", file=sys.stderr, flush=True)
        return None
    report = json.loads(done.stdout.strip().splitlines()[-1])
    report["wall_seconds"] = took
    with open(out_path, "w") as f:
        json.dump(report, f, indent=1)
    print(f"  {len(report['rows'])} rows in {took:.0f} s", file=sys.stderr,
          flush=True)
    return report


def fmt_size(n):
    """Exact, in the largest binary unit that divides it (common/units.h's
    FormatByteSize): 8 B, 2 KiB, 256 MiB."""
    for unit, suffix in ((1 << 30, " GiB"), (1 << 20, " MiB"), (1 << 10, " KiB")):
        if n >= unit and n % unit == 0:
            return f"{n // unit}{suffix}"
    return f"{n} B"


def fmt_time(us):
    if us >= 1e6:
        return f"{us / 1e6:.2f} s"
    if us >= 1e3:
        return f"{us / 1e3:.2f} ms"
    return f"{us:.1f} us"


def keyed(report):
    return {(r["op"], r["bytes"]): r for r in report["rows"]}


def table(n, torch_report, dstrain_reports):
    """One markdown table: op, size, torch time, then per dstrain backend
    its time and ratio; correctness marks rows that were wrong."""
    names = list(dstrain_reports)
    head = ["op", "size", "torch gloo"]
    for b in names:
        head += [f"dstrain {b}", f"{b} / torch"]
    head += ["busbw torch (GB/s)"] + [f"busbw {b} (GB/s)" for b in names]
    lines = [f"**{n} ranks**", "",
             "| " + " | ".join(head) + " |",
             "|" + "|".join("---:" if i > 1 else "---"
                           for i in range(len(head))) + "|"]
    t_rows = keyed(torch_report)
    d_rows = {b: keyed(r) for b, r in dstrain_reports.items()}
    ratios = {b: [] for b in names}
    for row in torch_report["rows"]:
        k = (row["op"], row["bytes"])
        cells = [row["op"], fmt_size(row["bytes"]) if row["bytes"] else "-",
                 fmt_time(row["time_us"]) + ("" if row["correct"] else " WRONG")]
        bw = [f"{row['busbw_gb_per_s']:.3f}" if row["busbw_gb_per_s"] is not None
              else "-"]
        for b in names:
            d = d_rows[b].get(k)
            if d is None:
                cells += ["n/a", "n/a"]
                bw.append("n/a")
                continue
            ratio = d["time_us"] / row["time_us"]
            ratios[b].append(ratio)
            cells += [fmt_time(d["time_us"]) + ("" if d["correct"] else " WRONG"),
                      f"{ratio:.2f}"]
            bw.append(f"{d['busbw_gb_per_s']:.3f}" if d["busbw_gb_per_s"] is not None
                      else "-")
        lines.append("| " + " | ".join(cells + bw) + " |")
    lines.append("")
    for b in names:
        r = sorted(ratios[b])
        if r:
            geo = 1.0
            for x in r:
                geo *= x
            geo **= 1.0 / len(r)
            lines.append(f"{b} / torch over {len(r)} rows: geometric mean "
                         f"{geo:.2f}, median {r[len(r) // 2]:.2f}, range "
                         f"{r[0]:.2f} to {r[-1]:.2f}")
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--ranks", default="2,4")
    p.add_argument("--backends", default="gloo,mpi",
                   help="dstrain backends to run (mpi is skipped, with a "
                        "note, when the build has no mpi backend)")
    p.add_argument("--min-bytes", default="8")
    p.add_argument("--max-bytes", default="256M")
    p.add_argument("--target-time", default="0.2")
    p.add_argument("--ops", default="all")
    p.add_argument("--dstrain", default=os.path.join(ROOT, "build/bin/dstrain"))
    p.add_argument("--python", default=os.path.expanduser(
        "~/.cache/dstrain/venv/bin/python"))
    p.add_argument("--out", default=os.path.join(ROOT, "runs/bench-comm"))
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)

    common = ["--min-bytes", args.min_bytes, "--max-bytes", args.max_bytes,
              "--target-time", args.target_time, "--ops", args.ops, "--json"]
    sections = []
    for n in [int(x) for x in args.ranks.split(",")]:
        torch_report = None
        dstrain_reports = {}
        for i, backend in enumerate(args.backends.split(",")):
            dstrain = run_json(
                [args.dstrain, "bench", "comm", "--ranks", str(n),
                 "--backend", backend] + common,
                os.path.join(args.out, f"dstrain-{backend}-n{n}.json"))
            if dstrain is not None:
                dstrain_reports[backend] = dstrain
            if i == 0:
                torch_report = run_json(
                    [args.python, os.path.join(ROOT, "bench/comm_torch.py"),
                     "--ranks", str(n)] + common,
                    os.path.join(args.out, f"torch-gloo-n{n}.json"))
        if torch_report is None:
            sections.append(f"**{n} ranks**: the torch peer failed")
            continue
        sections.append(table(n, torch_report, dstrain_reports))

    uname = platform.uname()
    print(f"<!-- {uname.node}: {os.cpu_count()} CPUs, {uname.release}; "
          f"load average {os.getloadavg()[0]:.1f} at the end -->")
    print("\n\n".join(sections))


if __name__ == "__main__":
    main()
