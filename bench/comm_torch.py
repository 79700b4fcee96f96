#!/usr/bin/env python3
"""The peer of `dstrain bench comm`: the same sweep through PyTorch's own
torch.distributed (gloo by default), for docs/performance.md.

It mirrors worker/comm/bench/ step for step, so the two are compared like
for like:
  - sizes: --min-bytes, x4, ..., and --max-bytes itself (size_sweep.h); the
    size of a row is the full buffer (all-reduce/broadcast buffer, all-gather
    output, reduce-scatter input), counts rounded down to whole elements and,
    for all-gather and reduce-scatter, to a multiple of the world size, at
    least one element per rank;
  - per row: a checked run (rank r holds (i mod 5) + r + 1), one timed run
    whose maximum over ranks is the estimate, N = max(min_iters,
    ceil(target / (repeats x estimate))) timed runs per repeat, at most
    max_iters / repeats (or --iters), min(5, repeats N / 10) warm-up runs,
    then repeats (a barrier, N synchronous calls, the mean over ranks): at
    least --repeats, and more until the target is measured while the runs
    stay within max_iters; the row holds the median repeat with the fastest
    and slowest (iteration_policy.h, comm_sweep.h);
  - algbw = bytes / time, busbw = algbw x 2(n-1)/n all_reduce, (n-1)/n
    all_gather and reduce_scatter, 1 broadcast (nccl-tests);
  - output: the same aligned table, or with --json the same JSON object
    (bench_report.h) with "tool": "torch.distributed".

  python bench/comm_torch.py --ranks 4 [--backend gloo] [--max-bytes 256M]
      [--ops all_reduce,...] [--iters N] [--json]
starts N local ranks with torch.multiprocessing (a TCP rendezvous on a free
127.0.0.1 port); under torchrun (RANK and WORLD_SIZE set) it is one rank.
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

OPS = ["all_reduce", "all_gather", "reduce_scatter", "broadcast", "barrier"]
DTYPES = {
    "float32": torch.float32, "fp32": torch.float32, "float": torch.float32,
    "float16": torch.float16, "fp16": torch.float16, "half": torch.float16,
    "bfloat16": torch.bfloat16, "bf16": torch.bfloat16,
    "float64": torch.float64, "fp64": torch.float64, "double": torch.float64,
    "int32": torch.int32, "int64": torch.int64, "uint8": torch.uint8,
}
DTYPE_NAMES = {torch.float32: "float32", torch.float16: "float16",
               torch.bfloat16: "bfloat16", torch.float64: "float64",
               torch.int32: "int32", torch.int64: "int64",
               torch.uint8: "uint8"}
UNITS = {"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10,
         "m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20,
         "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30}


def parse_size(text):
    digits = len(text) - len(text.lstrip("0123456789"))
    if digits == 0 or text[digits:].lower() not in UNITS:
        raise argparse.ArgumentTypeError(
            f"`{text}` is not a size (expected bytes like 8, 4K, 256M, 1G)")
    value = int(text[:digits]) * UNITS[text[digits:].lower()]
    if value < 1:
        raise argparse.ArgumentTypeError(f"`{text}` is not positive")
    return value


def parse_ops(text):
    want = set()
    for word in text.split(","):
        key = word.strip().lower().replace("-", "").replace("_", "")
        if key == "all":
            want.update(OPS)
            continue
        match = [op for op in OPS if op.replace("_", "") == key]
        if not match:
            raise argparse.ArgumentTypeError(
                f"unknown collective `{word}`; known: {', '.join(OPS)}, all")
        want.update(match)
    return [op for op in OPS if op in want]


def sweep_sizes(lo, hi, factor=4):
    if lo > hi:
        raise ValueError(f"the smallest size ({lo}) is above the largest ({hi})")
    sizes, s = [], lo
    while s <= hi:
        sizes.append(s)
        s *= factor
    if sizes[-1] != hi:
        sizes.append(hi)
    return sizes


def shape_for(op, nbytes, elem, n):
    """(count, count_per_rank, bytes) as size_sweep.h's ShapeFor."""
    if op == "barrier":
        return 0, 0, 0
    if op in ("all_reduce", "broadcast"):
        count = max(1, nbytes // elem)
        return count, count, count * elem
    per_rank = max(1, nbytes // (elem * n))
    return per_rank * n, per_rank, per_rank * n * elem


def bus_factor(op, n):
    return {"all_reduce": 2.0 * (n - 1) / n,
            "all_gather": (n - 1) / n,
            "reduce_scatter": (n - 1) / n,
            "broadcast": 1.0}.get(op, 0.0)


def choose_iters(args, estimate):
    """N, the timed runs per repeat (iteration_policy.h's ChooseIterations)."""
    if args.iters:
        return args.iters
    repeats = max(1, args.repeats)
    lo = max(1, args.min_iters)
    hi = max(lo, args.max_iters // repeats)
    if not estimate > 0:
        return hi
    want = math.ceil(args.target_time / (repeats * estimate))
    return hi if not want < hi else max(lo, int(want))


def another_repeat(args, done, iters, measured):
    """iteration_policy.h's AnotherRepeat."""
    if done < max(1, args.repeats):
        return True
    if args.iters:
        return False
    if measured >= args.target_time:
        return False
    return (done + 1) * iters <= args.max_iters


def max_row_iters(args):
    repeats = max(1, args.repeats)
    if args.iters:
        return repeats * args.iters
    return max(args.max_iters, repeats * max(1, args.min_iters))


def spread(values):
    """(min, median, max); the median of an even count is the mean of the
    middle two (bench_report.h's SpreadOf)."""
    v = sorted(values)
    n = len(v)
    median = v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2
    return v[0], median, v[-1]


def warmup_iters(iters):
    return min(5, max(0, iters // 10))


def base(n, dtype):
    """(i mod 5) for i < n."""
    if n == 0:
        return torch.empty(0, dtype=dtype)
    return torch.arange(5, dtype=dtype).repeat((n + 4) // 5)[:n].clone()


def row_ops(op, count, c, rank, n, dtype):
    """(start, check): start runs the op once; check compares with the
    sequential reference after the first run."""
    tri = n * (n + 1) // 2
    if op == "all_reduce":
        b = base(count, dtype)
        buf = b + (rank + 1)
        return (lambda: dist.all_reduce(buf),
                lambda: torch.equal(buf, b * n + tri))
    if op == "broadcast":
        b = base(count, dtype)
        buf = b + (rank + 1)
        return (lambda: dist.broadcast(buf, 0),
                lambda: torch.equal(buf, b + 1))
    if op == "all_gather":
        b = base(c, dtype)
        inp = b + (rank + 1)
        out = torch.empty(count, dtype=dtype)
        return (lambda: dist.all_gather_into_tensor(out, inp),
                lambda: all(torch.equal(out[q * c:(q + 1) * c], b + (q + 1))
                            for q in range(n)))
    if op == "reduce_scatter":
        b = base(count, dtype)
        inp = b + (rank + 1)
        out = torch.empty(c, dtype=dtype)
        return (lambda: dist.reduce_scatter_tensor(out, inp),
                lambda: torch.equal(out, b[rank * c:(rank + 1) * c] * n + tri))
    return (lambda: dist.barrier(), lambda: True)


def agree(values, op):
    t = torch.tensor(values, dtype=torch.float64)
    dist.all_reduce(t, op=op)
    return t.tolist()


def measure_row(args, op, nbytes, dtype):
    n, rank = dist.get_world_size(), dist.get_rank()
    count, c, moved = shape_for(op, nbytes, torch.tensor([], dtype=dtype)
                                .element_size(), n)
    start, check = row_ops(op, count, c, rank, n, dtype)
    start()
    ok = check()
    del check
    t0 = time.perf_counter()
    start()
    estimate = agree([time.perf_counter() - t0], dist.ReduceOp.MAX)[0]
    iters = choose_iters(args, estimate)
    for _ in range(warmup_iters(iters * args.repeats)):
        start()
    times, measured = [], 0.0
    while another_repeat(args, len(times), iters, measured):
        dist.barrier()
        t0 = time.perf_counter()
        for _ in range(iters):
            start()
        elapsed = time.perf_counter() - t0
        per_op, took = agree([elapsed / iters, elapsed], dist.ReduceOp.SUM)
        times.append(per_op / n)
        measured += took / n
    wrong = agree([0.0 if ok else 1.0], dist.ReduceOp.SUM)[0]
    fastest, t, slowest = spread(times)
    row = {"op": op, "bytes": moved, "count": count,
           "iters": iters * len(times), "repeats": len(times),
           "time_us": t * 1e6, "time_min_us": fastest * 1e6,
           "time_max_us": slowest * 1e6, "algbw_gb_per_s": None,
           "busbw_gb_per_s": None, "correct": wrong == 0.0}
    if op != "barrier":
        algbw = moved / t / 1e9 if t > 0 else 0.0
        row["algbw_gb_per_s"] = algbw
        row["busbw_gb_per_s"] = algbw * bus_factor(op, n)
    return row


# The table of bench_report.cc, column for column.
WIDTHS = (14, 12, 12, 9, 6, 14, 13, 13, 13, 13, 9)


def table_header(report):
    n = report["world_size"]
    lines = [f"# {report['tool']} bench comm: backend {report['backend']}, "
             f"{n} rank{'' if n == 1 else 's'}, {report['dtype']} on "
             f"{report['device']}"]
    r, fixed = report["repeats"], report["fixed_iters"]
    if fixed:
        lines.append("# iterations per row: a checked run, a timed run, "
                     f"min(5, iters/10) warm-ups, then {r} repeats of {fixed} "
                     f"timed runs: iters = {r * fixed}, reps = {r}")
    else:
        target, lo = report["target_seconds"], report["min_iters"]
        hi = max(lo, report["max_iters"] // max(1, r))
        lines.append(
            "# iterations per row: a checked run; a timed run of t seconds "
            f"(the slowest rank's); N = ceil({target:.3g} / ({r} t)) timed "
            f"runs per repeat, at least {lo}, at most {hi}; min(5, {r} N / 10)"
            f" warm-ups; then at least {r} repeats of N, more until "
            f"{target:.3g} s is measured, at most {report['max_row_iters']} "
            "runs in all; iters = N x reps")
    lines.append("# time: per op, the median repeat (each the mean over "
                 "ranks), min and max the fastest and slowest repeat; algbw = "
                 "size/time; busbw = algbw x 2(n-1)/n all_reduce, (n-1)/n "
                 "all_gather reduce_scatter, 1 broadcast (nccl-tests)")
    lines.append("#")
    titles = ("op", "size(B)", "count", "iters", "reps", "time(us)",
              "min(us)", "max(us)", "algbw(GB/s)", "busbw(GB/s)", "correct")
    lines.append("#" + titles[0].rjust(WIDTHS[0] - 1) + "".join(
        t.rjust(w) for t, w in zip(titles[1:], WIDTHS[1:])))
    return "\n".join(lines)


def table_row(row):
    bw = row["op"] != "barrier"
    values = (row["op"], str(row["bytes"]), str(row["count"]),
              str(row["iters"]), str(row["repeats"]), f"{row['time_us']:.2f}",
              f"{row['time_min_us']:.2f}", f"{row['time_max_us']:.2f}",
              f"{row['algbw_gb_per_s']:.3f}" if bw else "-",
              f"{row['busbw_gb_per_s']:.3f}" if bw else "-",
              "ok" if row["correct"] else "WRONG")
    return "".join(v.rjust(w) for v, w in zip(values, WIDTHS))


def fmt_size(n):
    """common/units.h's FormatByteSize: 8 B, 4 KiB, 256 MiB."""
    for unit, suffix in ((1 << 30, " GiB"), (1 << 20, " MiB"), (1 << 10, " KiB")):
        if n >= unit and n % unit == 0:
            return f"{n // unit}{suffix}"
    return f"{n} B"


def table_footer(report):
    rows = report["rows"]
    wrong = [r for r in rows if not r["correct"]]
    if wrong:
        out = (f"# {len(wrong)} of {len(rows)} rows WRONG: " +
               ", ".join(f"{r['op']} {fmt_size(r['bytes'])}"
                         for r in wrong[:8]) +
               (", ..." if len(wrong) > 8 else ""))
    else:
        out = f"# all {len(rows)} rows correct"
    bws = [r["busbw_gb_per_s"] for r in rows if r["op"] != "barrier"]
    if bws:
        out += (f"; mean busbw {sum(bws) / len(bws):.3f} GB/s over {len(bws)} "
                "rows (all but barrier)")
    return out


def run_rank(rank, world, port, args):
    torch.set_num_threads(1)  # as dstrain's ranks: the cores go to gloo
    if port is None:
        dist.init_process_group(args.backend)
    else:
        dist.init_process_group(args.backend,
                                init_method=f"tcp://127.0.0.1:{port}",
                                rank=rank, world_size=world)
    dtype = DTYPES[args.dtype.lower()]
    report = {"tool": "torch.distributed", "backend": args.backend,
              "world_size": dist.get_world_size(),
              "dtype": DTYPE_NAMES[dtype], "device": "cpu",
              "target_seconds": args.target_time, "min_iters": args.min_iters,
              "max_iters": args.max_iters, "fixed_iters": args.iters or 0,
              "repeats": args.repeats, "rows": [],
              "torch_version": torch.__version__}
    leader = dist.get_rank() == 0
    if leader and not args.json:
        print(table_header(dict(report, max_row_iters=max_row_iters(args))),
              flush=True)
    sizes = sweep_sizes(args.min_bytes, args.max_bytes)
    for op in args.ops:
        for nbytes in ([0] if op == "barrier" else sizes):
            row = measure_row(args, op, nbytes, dtype)
            report["rows"].append(row)
            if leader and not args.json:
                print(table_row(row), flush=True)
    if leader:
        if args.json:
            print(json.dumps(report, separators=(",", ":")), flush=True)
        else:
            print(table_footer(report), flush=True)
    dist.destroy_process_group()
    if any(not r["correct"] for r in report["rows"]):
        sys.exit(1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--ranks", type=int, default=0,
                   help="start N local ranks (default: one rank of a "
                        "torchrun job, or alone)")
    p.add_argument("--backend", default="gloo")
    p.add_argument("--min-bytes", type=parse_size, default=8)
    p.add_argument("--max-bytes", type=parse_size, default=256 << 20)
    p.add_argument("--ops", type=parse_ops, default=list(OPS))
    p.add_argument("--dtype", default="float32", choices=sorted(DTYPES))
    p.add_argument("--iters", type=int, default=0)
    p.add_argument("--target-time", type=float, default=0.2)
    p.add_argument("--min-iters", type=int, default=3)
    p.add_argument("--max-iters", type=int, default=100000)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    if args.min_bytes > args.max_bytes:
        p.error("--min-bytes is above --max-bytes")
    if args.ranks > 0:
        if "RANK" in os.environ or "WORLD_SIZE" in os.environ:
            p.error("--ranks starts ranks of its own, but RANK/WORLD_SIZE "
                    "are set; drop --ranks")
        mp.start_processes(run_rank, args=(args.ranks, free_port(), args),
                           nprocs=args.ranks, join=True, start_method="spawn")
    elif "RANK" in os.environ:
        run_rank(None, None, None, args)
    else:
        run_rank(0, 1, free_port(), args)


if __name__ == "__main__":
    main()
