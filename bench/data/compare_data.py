#!/usr/bin/env python3
"""Data loading, side by side, in one run (docs/performance.md, "Data
loading"). On a dataset larger than 2 GiB that this script writes (random
token ids, vocabulary 50257, uint16): a token file and the same tokens as a
chunked HDF5 file (`dstrain data prepare --format hdf5`).

  (a) dstrain's read throughput (`dstrain data read-bench`: the sampler,
      block cache with its readers and the prefetcher of one rank) against the disk's own
      sequential read of the same file with O_DIRECT, the page cache
      dropped before each; target >= 80%.
  (b) dstrain against a PyTorch DataLoader reading the same HDF5 file
      through h5py with 2 workers, random windows, the same batch shape;
      target >= 2x its samples/s.
  (c) the share of step time a training run waits for data, prefetch on
      (data.prefetch: 2) and off (0); target < 1% with it on.

  ~/.cache/dstrain/venv/bin/python bench/data/compare_data.py --build build

Needs root (to drop the page cache) and ~5 GiB free under --dir.
"""
import argparse
import json
import mmap
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

VOCAB = 50257
SEQ = 1023          # windows of 1024 tokens
BATCH = 8


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def drop_caches():
    subprocess.run(["sync"], check=True)
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return True
    except OSError as e:
        log(f"cannot drop the page cache ({e}); reads may be cached")
        return False


def make_data(d, gib, dstrain):
    tokens = os.path.join(d, "tokens.bin")
    h5 = os.path.join(d, "data.h5")
    n = int(gib * 2**30) // 2
    if not os.path.exists(h5):
        log(f"writing {n} random tokens to {tokens}")
        rng = np.random.default_rng(1)
        with open(tokens + ".tmp", "wb") as f:
            left = n
            while left:
                k = min(left, 1 << 26)
                f.write(rng.integers(0, VOCAB, k, dtype=np.uint16).tobytes())
                left -= k
        os.replace(tokens + ".tmp", tokens)
        with open(tokens + ".json", "w") as f:
            json.dump({"dtype": "uint16", "vocab": VOCAB, "tokens": n}, f)
        subprocess.run([dstrain, "data", "prepare", tokens, "--format", "hdf5",
                        "--out", h5, "--chunk", "65536"], check=True,
                       stdout=subprocess.DEVNULL)
    return tokens, h5


def disk_read(path):
    """Sequential O_DIRECT read of the whole file, bytes/s."""
    drop_caches()
    fd = os.open(path, os.O_RDONLY | os.O_DIRECT)
    buf = mmap.mmap(-1, 8 << 20)  # page-aligned
    total = 0
    t0 = time.perf_counter()
    while True:
        k = os.readv(fd, [buf])
        if k <= 0:
            break
        total += k
    dt = time.perf_counter() - t0
    os.close(fd)
    return total / dt


def job_file(d, name, data_type, path, prefetch, steps=30, micro_batch=BATCH):
    p = os.path.join(d, name + ".yaml")
    with open(p, "w") as f:
        f.write(f"""name: {name}
procs_per_node: 1
model: {{vocab: {VOCAB}, layers: 2, d_model: 128, heads: 4, seq_len: {SEQ}}}
data: {{type: {data_type}, path: {path}, prefetch: {prefetch}}}
train: {{steps: {steps}, micro_batch: {micro_batch}, log_every: 0}}
""")
    return p


def dstrain_read(dstrain, job, steps):
    drop_caches()
    out = subprocess.run([dstrain, "data", "read-bench", job, "--steps",
                          str(steps)], check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out)


class H5Windows:
    """What users write for torch: random 1024-token windows from h5py."""

    def __init__(self, path):
        self.path = path
        self.f = None
        import h5py
        with h5py.File(path, "r") as f:
            self.n = f["tokens"].shape[0] // (SEQ + 1) - 1

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        import h5py
        import torch
        if self.f is None:  # one handle per worker process
            self.f = h5py.File(self.path, "r")["tokens"]
        w = self.f[i * (SEQ + 1):(i + 1) * (SEQ + 1)]
        return torch.from_numpy(w.astype(np.int64))


def torch_read(h5, batches):
    import torch
    drop_caches()
    loader = torch.utils.data.DataLoader(H5Windows(h5), batch_size=BATCH,
                                         shuffle=True, num_workers=2,
                                         generator=torch.Generator().manual_seed(1))
    t0 = time.perf_counter()
    n = 0
    for i, b in enumerate(loader):
        n += b.shape[0]
        if i + 1 == batches:
            break
    return n / (time.perf_counter() - t0)


def data_wait_share(dstrain, d, h5, prefetch):
    # A small GPT (two blocks, width 128) whose 50257-way head makes a
    # step of 4 x 1024 tokens take about a second on 2 CPU cores.
    job = job_file(d, f"train-p{prefetch}", "hdf5", h5, prefetch,
                   micro_batch=4)
    run = os.path.join(d, f"run-p{prefetch}")
    drop_caches()
    subprocess.run([dstrain, "launch", job, "--run-dir", run, "--quiet"],
                   check=True, stdout=subprocess.DEVNULL)
    wait = step = 0.0
    with open(os.path.join(run, "metrics.jsonl")) as f:
        rows = [json.loads(l) for l in f if l.strip()]
    for r in rows[1:]:  # the first step includes setup
        wait += r.get("data_wait_s", 0.0)  # written only when > 0
        step += r["step_time_s"]
    return wait / step, step / max(1, len(rows) - 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--dir", default=os.path.join(tempfile.gettempdir(),
                                                  "dstrain-data-bench"))
    ap.add_argument("--gib", type=float, default=2.2)
    ap.add_argument("--steps", type=int, default=100000)
    ap.add_argument("--torch-batches", type=int, default=3000)
    ap.add_argument("--json", help="also write every number here")
    ap.add_argument("--parts", default="abc",
                    help="which measurements to run (a, b, c)")
    a = ap.parse_args()
    dstrain = os.path.abspath(os.path.join(a.build, "bin", "dstrain"))
    os.makedirs(a.dir, exist_ok=True)
    tokens, h5 = make_data(a.dir, a.gib, dstrain)
    res = {"file_bytes": os.path.getsize(h5)}

    log("(a) disk against dstrain")
    for name, path, kind in (("tokens", tokens, "tokens"), ("hdf5", h5, "hdf5")):
        if "a" not in a.parts and not ("b" in a.parts and name == "hdf5"):
            continue
        disk = disk_read(path)
        r = dstrain_read(dstrain, job_file(a.dir, "read-" + name, kind, path, 2),
                         a.steps)
        res[name] = {"disk_bytes_per_s": disk, **r,
                     "ratio": r["read_bytes_per_s"] / disk}
        log(f"  {name}: disk {disk/1e6:.0f} MB/s, dstrain "
            f"{r['read_bytes_per_s']/1e6:.0f} MB/s")

    if "b" in a.parts:
        log("(b) PyTorch DataLoader + h5py, 2 workers")
        t = torch_read(h5, a.torch_batches)
        res["torch_samples_per_s"] = t
        res["hdf5_vs_torch"] = res["hdf5"]["samples_per_s"] / t

    if "c" in a.parts:
        log("(c) data wait in training, prefetch 2 and 0")
        res["wait_share_prefetch"], res["step_s_prefetch"] = data_wait_share(
            dstrain, a.dir, h5, 2)
        res["wait_share_no_prefetch"], res["step_s_no_prefetch"] = (
            data_wait_share(dstrain, a.dir, h5, 0))

    gb = res["file_bytes"] / 2**30
    print(f"dataset: {gb:.2f} GiB, {VOCAB}-token vocabulary, windows of "
          f"{SEQ + 1}, batches of {BATCH}")
    print()
    print("| measure | dstrain | peer | ratio | target |")
    print("|---|---|---|---|---|")
    for name in ("tokens", "hdf5"):
        if "a" not in a.parts:
            break
        r = res[name]
        print(f"| (a) read, {name} file, page cache dropped | "
              f"{r['read_bytes_per_s']/1e6:.0f} MB/s | disk O_DIRECT sequential "
              f"{r['disk_bytes_per_s']/1e6:.0f} MB/s | {r['ratio']:.2f} | >= 0.80 |")
    if "b" in a.parts:
        print(f"| (b) samples/s, HDF5 | {res['hdf5']['samples_per_s']:.0f} | "
              f"DataLoader + h5py, 2 workers: {res['torch_samples_per_s']:.0f} "
              f"| {res['hdf5_vs_torch']:.1f}x | >= 2x |")
    if "c" in a.parts:
        print(f"| (c) data wait / step time, HDF5, training "
              f"({res['step_s_prefetch']:.2f} s steps) | prefetch 2: "
              f"{100*res['wait_share_prefetch']:.3f}% | prefetch 0: "
              f"{100*res['wait_share_no_prefetch']:.3f}% | | < 1% with "
              f"prefetch |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
