#!/usr/bin/env python3
"""How fast a training job comes back after a fault: dstrain against
torchrun, and dstrain's reliability table, in one run.

  ~/.cache/dstrain/venv/bin/python bench/reliability/compare_restart.py \\
      --build build [--ranks 2] [--repeats 3] [--out runs/bench-restart] \\
      [--no-faults]

Side by side (--repeats runs each, interleaved dstrain, torchrun, dstrain,
... so the load of the moment falls on both), the same job: the GPT of
bench/engine/fsdp_torch.py (4 layers, d_model 128, seq_len 128, 16
sequences per rank; about 0.1-0.3 s a step here), --ranks CPU ranks with
one intra-op thread each, gloo, AdamW, a checkpoint every --ckpt-every
steps, one restart allowed:
 (a) `dstrain launch JOB` (fault_tolerance.max_restarts: 1,
     train.log_every: 1 so every rank prints a line per step);
 (b) `torchrun --standalone --max-restarts 1 bench/reliability/ddp_train.py`
     (DDP; rank 0 saves atomically, every rank resumes from the newest
     checkpoint; each rank logs every step with its wall-clock time), with
     TORCH_DISABLE_SHARE_RDZV_TCP_STORE=1: without it about one restart in
     four fails here (see torchrun_env).
Once the job has completed step --kill-step, the last rank's worker
process (found under the launcher in /proc by its RANK and attempt
environment variables) gets SIGKILL. Measured from the kill:
  - detected: the launcher says it restarts: dstrain launch's line
    "dstrain: restarting (attempt 2 of 2) after: rank 1 ... killed by
    SIGKILL", torchrun's "Worker group FAILED ... will restart worker group";
  - first step: the first training step of the new attempt completed (a
    dstrain worker's step line as `launch` prints it, torchrun's rank
    logs);
  - steps lost: the last step completed before the kill minus the step the
    new attempt resumed from (the first step it trains, less one);
and where the time goes: the old attempt's workers all gone, the first new
worker process seen, the new attempt's rank 0 ready (dstrain's setup line,
ddp_train.py's `ready`: process group up, checkpoint loaded).
Output lines are timestamped as they arrive on this process's pipes; the
/proc table is read every 10 ms.

--faults (the default) adds dstrain's reliability table (docs/reliability.md):
  - a worker killed (SIGKILL): the median of (a);
  - preemption: SIGTERM to `dstrain launch` once past --kill-step: the time
    to its note, to its exit (75), and, running `launch --resume` at once,
    to the resumed run's first step; steps lost should be 0;
  - a hang: SIGSTOP to the last rank's worker, fault_tolerance.hang_timeout_s
    = --hang-timeout; detected when the (embedded) coordinator logs "job ...
    hangs:", then the restart as in (a);
  - a node lost: a local `dstrain coordinator`, two `dstrain agent`s
    announcing node-a and node-b, `launch --coordinator` of the job with
    nodes {min: 1, max: 2}; SIGKILL to the process group of the agent that
    does not run rank 0 (its workers die with it); detected at the
    coordinator's event naming the node ("node-b stopped heartbeating"),
    with the time `dstrain events` gives it; the first step's time from
    `dstrain logs --json` (when its agent read the line).

Every run's raw output (timestamped lines), its job file, metrics, the
torchrun ranks' logs and the coordinator's events are kept under
--out/<run>/ (checkpoints are removed), every measured time in
results.json, the printed report in report.md. Every wait has a deadline;
every process started is killed on exit, by process group where it is
still ours.
"""

import argparse
import atexit
import json
import os
import platform
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
DDP_TRAIN = os.path.join(ROOT, "bench/reliability/ddp_train.py")
DATA = "/usr/share/games/fortunes"
# deploy/bootstrap.sh's PyTorch (DSTRAIN_VENV overrides its place).
VENV_PYTHON = os.path.join(os.environ.get("DSTRAIN_VENV", os.path.expanduser(
    "~/.cache/dstrain/venv")), "bin/python")
TICK = 0.01  # seconds between polls of /proc, pipes' lines and log files
# Both trainers' learning rate: peak and warm-up steps (cosine to 0.1x).
LR, WARMUP_STEPS = 1e-3, 5


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class RunFailed(Exception):
    """A run that did not get as far as its measurement."""


class Timeout(RunFailed):
    pass


def wait_for(cond, timeout, what, on_tick=None, tick=TICK):
    """cond()'s first true value, polling every `tick`; Timeout after
    `timeout` seconds naming `what`."""
    deadline = time.time() + timeout
    while True:
        if on_tick is not None:
            on_tick()
        value = cond()
        if value:
            return value
        if time.time() >= deadline:
            raise Timeout(f"no {what} within {timeout:.0f} s")
        time.sleep(tick)


# ---------------------------------------------------------------- processes

LIVE = []  # every Proc started and not yet cleaned up, for the exit hook


class Proc:
    """A command in a session of its own, its stdout and stderr read by two
    threads that timestamp each line as it arrives (kept in `lines` and
    written to DIR/NAME.out, one `<unix time> <o|e> <text>` per line)."""

    def __init__(self, cmd, out_dir, name, env=None):
        self.cmd = cmd
        self.lines = []  # (t, "o" | "e", text), in arrival order
        self.lock = threading.Lock()
        self.file = open(os.path.join(out_dir, name + ".out"), "w")
        self.file.write("$ " + shell(cmd) + "\n")
        self.t_start = time.time()
        # A new session: the launcher and whatever it leaves behind can be
        # killed by process group, and a Ctrl-C here does not reach them.
        self.popen = subprocess.Popen(
            cmd, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=env, start_new_session=True)
        self.pid = self.popen.pid
        self.t_exit = None
        self.readers = [threading.Thread(target=self._read, args=(f, tag),
                                         daemon=True)
                        for f, tag in ((self.popen.stdout, "o"),
                                       (self.popen.stderr, "e"))]
        for r in self.readers:
            r.start()
        LIVE.append(self)

    def _read(self, f, tag):
        for raw in iter(f.readline, b""):
            t = time.time()
            text = raw.decode(errors="replace").rstrip("\n")
            with self.lock:
                self.lines.append((t, tag, text))
                self.file.write(f"{t:.3f} {tag} {text}\n")

    def snapshot(self, start=0):
        with self.lock:
            return self.lines[start:]

    def find(self, pattern, after=0.0, stream=None):
        """(t, match) of the first line matching `pattern` that arrived
        after time `after`, or None."""
        for t, tag, text in self.snapshot():
            if t < after or (stream and tag != stream):
                continue
            m = pattern.search(text)
            if m:
                return t, m
        return None

    def returncode(self):
        rc = self.popen.poll()
        if rc is not None and self.t_exit is None:
            self.t_exit = time.time()
        return rc

    def wait_exit(self, timeout, what):
        wait_for(lambda: self.returncode() is not None, timeout, what)
        for r in self.readers:
            r.join(timeout=5)
        return self.popen.returncode

    def close(self, workers=()):
        """SIGKILL the session, then every worker seen under it that still
        runs (torchrun's are in sessions of their own; dstrain's die with
        their agent anyway)."""
        if self.popen.poll() is None:
            # Not reaped yet, so the group id is still ours.
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for w in workers:
            w.kill(signal.SIGKILL)
        try:
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        for r in self.readers:
            r.join(timeout=5)
        with self.lock:
            self.file.close()
        if self in LIVE:
            LIVE.remove(self)


def close_all(*_):
    for p in list(LIVE):
        p.close(ALL_WORKERS)


ALL_WORKERS = []  # every worker seen, for close_all


def on_signal(sig, _frame):
    close_all()
    sys.exit(128 + sig)


class Worker:
    """A worker process: `started` is its start time in clock ticks (to
    tell it from a later process with its pid), `root` the launcher or
    agent above it, `seen` and `gone` the times it was first seen running
    and seen gone."""

    def __init__(self, pid, started, rank, attempt, root, seen):
        self.pid, self.started, self.rank = pid, started, rank
        self.attempt, self.root = attempt, root
        self.seen, self.gone = seen, None

    def kill(self, sig):
        """Signals the worker if it still runs; a pid reused since (this
        machine builds in parallel) is left alone."""
        stat = read_stat(self.pid)
        if stat is not None and stat[2] == self.started:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass


class ProcTree:
    """The worker processes under `roots`, from /proc: each one's rank and
    attempt (from its environment: RANK and `attempt_var`), when it was
    first seen and when it was gone (exited or a zombie)."""

    def __init__(self, roots, attempt_var):
        self.roots = set(roots)
        self.attempt_var = attempt_var
        self.ppid = {}  # every pid read so far -> its parent
        self.pending = {}  # descendant pid -> when first seen, not known yet
        self.workers = {}  # pid -> Worker

    def root_of(self, pid):
        for _ in range(64):
            if pid in self.roots:
                return pid
            pid = self.ppid.get(pid)
            if pid is None:
                return None
        return None

    def poll(self):
        now = time.time()
        # Only new pids are read: a scan costs a directory listing.
        fresh = sorted(int(n) for n in os.listdir("/proc")
                       if n.isdigit() and int(n) not in self.ppid)
        for pid in fresh:
            stat = read_stat(pid)
            self.ppid[pid] = stat[1] if stat else None
            if stat and pid not in self.roots and self.root_of(pid):
                self.pending[pid] = now
        for pid, seen in list(self.pending.items()):
            self._identify(pid, seen, now)
        for w in self.workers.values():
            if w.gone is None:
                stat = read_stat(w.pid)
                if stat is None or stat[0] in "ZX":
                    w.gone = now

    def _identify(self, pid, seen, now):
        env = read_environ(pid)
        stat = read_stat(pid)
        if (env is not None and stat is not None and "RANK" in env and
                self.attempt_var in env):
            w = Worker(pid, stat[2], int(env["RANK"]),
                       int(env[self.attempt_var]), self.root_of(pid), seen)
            self.workers[pid] = w
            ALL_WORKERS.append(w)
            del self.pending[pid]
        elif env is None or now - seen > 2.0:
            # Gone, or not a worker (an exec'd worker has its environment
            # at once; before exec it shows its parent's).
            del self.pending[pid]

    def find(self, rank, attempt):
        for w in self.workers.values():
            if w.rank == rank and w.attempt == attempt and w.gone is None:
                return w
        return None

    def of_attempt(self, attempt):
        return [w for w in self.workers.values() if w.attempt == attempt]


def read_stat(pid):
    """(state, ppid, start time in clock ticks since boot) of a process, or
    None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    rest = text[text.rfind(")") + 2:].split()  # fields 3 (state) onwards
    return rest[0], int(rest[1]), int(rest[19])


def read_environ(pid):
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            raw = f.read()
    except OSError:
        return None
    env = {}
    for item in raw.split(b"\0"):
        key, _, value = item.partition(b"=")
        env[key.decode(errors="replace")] = value.decode(errors="replace")
    return env


# ------------------------------------------------------ what each run shows

class Step:
    def __init__(self, t, attempt, rank, step):
        self.t, self.attempt, self.rank, self.step = t, attempt, rank, step


class DstrainView:
    """Progress of a `dstrain launch` from its output: every rank's step
    lines (train.log_every: 1), rank 0's setup line, the restart notes. A
    line's attempt is the number of restart notes before it (both come on
    launch's stdout, in order)."""

    STEP = re.compile(r"^\[rank (\d+) [^\]]*\] step (\d+)/\d+ ")
    SETUP = re.compile(r"^\[rank 0 [^\]]*\] dstrain worker: job .*"
                       r"ready in ([0-9.]+) s")
    RESTART = re.compile(r"^dstrain: restarting \(attempt (\d+) of \d+\) "
                         r"after: (.*)$")

    def __init__(self, proc):
        self.proc = proc

    def poll(self):
        pass  # the reader threads keep proc.lines current

    def _parsed(self):
        attempt, steps, setups, restarts = 0, [], [], []
        for t, _tag, text in self.proc.snapshot():
            m = self.RESTART.search(text)
            if m:
                attempt += 1
                restarts.append((t, m.group(2)))
                continue
            m = self.STEP.search(text)
            if m:
                steps.append(Step(t, attempt, int(m.group(1)),
                                  int(m.group(2))))
            elif self.SETUP.search(text):
                setups.append((t, attempt))
        return steps, setups, restarts

    def steps(self):
        return self._parsed()[0]

    def detected(self):
        restarts = self._parsed()[2]
        return restarts[0] if restarts else None

    def ready_t(self, attempt):
        return next((t for t, a in self._parsed()[1] if a == attempt), None)


class TorchrunView:
    """Progress of a torchrun job from ddp_train.py's per-rank logs (each
    line with the worker's own wall-clock time) and torchrun's own log."""

    DETECT = re.compile(r"Worker group (FAILED|UNHEALTHY).*"
                        r"will restart worker group")

    def __init__(self, proc, log_dir):
        self.proc, self.log_dir = proc, log_dir
        self.offsets, self.records = {}, []

    def poll(self):
        if not os.path.isdir(self.log_dir):
            return
        for name in os.listdir(self.log_dir):
            path = os.path.join(self.log_dir, name)
            with open(path) as f:
                f.seek(self.offsets.get(name, 0))
                text = f.read()
            whole = text[:text.rfind("\n") + 1]  # a last partial line waits
            self.offsets[name] = self.offsets.get(name, 0) + len(
                whole.encode())
            self.records += [json.loads(x) for x in whole.splitlines() if x]

    def steps(self):
        return [Step(r["t"], r["attempt"], r["rank"], r["step"])
                for r in self.records if r["event"] == "step"]

    def detected(self):
        found = self.proc.find(self.DETECT, stream="e")
        return (found[0], found[1].group(0)) if found else None

    def ready_t(self, attempt):
        return next((r["t"] for r in self.records if r["event"] == "ready"
                     and r["rank"] == 0 and r["attempt"] == attempt), None)


def max_step(view, attempt):
    return max((s.step for s in view.steps() if s.attempt == attempt),
               default=0)


def first_step(view, attempt):
    found = [s for s in view.steps() if s.attempt == attempt]
    return min(found, key=lambda s: s.t) if found else None


def wait_step(a, proc, view, on_tick=None):
    """Until the first attempt has completed step --kill-step; RunFailed if
    the launcher ends first."""
    wait_for(lambda: max_step(view, 0) >= a.kill_step or
             proc.returncode() is not None, a.start_timeout,
             f"step {a.kill_step}", on_tick)
    if max_step(view, 0) < a.kill_step:
        raise RunFailed(f"the launcher exited ({proc.returncode()}) before "
                        f"step {a.kill_step}")


def wait_first_step(a, proc, view, attempt, on_tick=None):
    """The first Step of `attempt`; RunFailed as soon as the launcher ends
    without one (a failed restart), Timeout after --restart-timeout."""
    found = wait_for(lambda: first_step(view, attempt) or
                     proc.returncode() is not None, a.restart_timeout,
                     f"first step of attempt {attempt}", on_tick)
    if found is True:
        raise RunFailed(f"the launcher exited ({proc.returncode()}) with no "
                        f"step of attempt {attempt}")
    return found


# ------------------------------------------------------------------- jobs

def dstrain_job(a, name, run_dir, procs_per_node, extra=""):
    """A job file in run_dir with absolute paths (relative ones would
    resolve against the job file's folder)."""
    text = f"""name: {name}
procs_per_node: {procs_per_node}
threads_per_proc: 1
device: cpu
backend: gloo
model: {{type: gpt, vocab: 256, layers: {a.layers}, d_model: {a.d_model}, \
heads: {a.heads}, seq_len: {a.seq_len}}}
data: {{type: text, path: {DATA}, prefetch: 2}}
train:
  steps: {a.steps}
  micro_batch: {a.micro_batch}
  log_every: 1
  optimizer: {{type: adamw, lr: {LR}, betas: [0.9, 0.95], \
weight_decay: 0.1}}
  schedule: {{type: cosine, warmup_steps: {WARMUP_STEPS}, min_lr_ratio: 0.1}}
  clip_grad_norm: 1.0
  seed: 1234
checkpoint: {{dir: {os.path.join(run_dir, "ckpt")}, \
every_steps: {a.ckpt_every}, keep: 2}}
"""
    path = os.path.join(run_dir, "job.yaml")
    with open(path, "w") as f:
        f.write(text + extra)
    return path


def fresh_dir(a, tag):
    d = os.path.join(a.out, tag)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def drop_checkpoints(d):
    """A run's checkpoints (about 20 MB) are no output: removed once it
    ended, so --out keeps only what was printed and measured."""
    shutil.rmtree(os.path.join(d, "ckpt"), ignore_errors=True)


def dstrain_launch_cmd(a, job, run_dir, *extra):
    return [a.dstrain, "launch", job, "--run-dir", run_dir, *extra]


def torchrun_cmd(a, run_dir):
    return [a.python, "-m", "torch.distributed.run", "--standalone",
            "--nproc-per-node", str(a.ranks), "--max-restarts", "1",
            DDP_TRAIN, "--layers", str(a.layers), "--d-model", str(a.d_model),
            "--heads", str(a.heads), "--seq-len", str(a.seq_len),
            "--micro-batch", str(a.micro_batch), "--steps", str(a.steps),
            "--lr", str(LR), "--warmup-steps", str(WARMUP_STEPS),
            "--threads", "1",
            "--ckpt-dir", os.path.join(run_dir, "ckpt"),
            "--ckpt-every", str(a.ckpt_every),
            "--log-dir", os.path.join(run_dir, "ranks")]


def torchrun_env():
    env = dict(os.environ)
    # INFO: torchrun's line about the failure and the restart; one thread
    # per rank as threads_per_proc: 1.
    env.update(LOGLEVEL="INFO", OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    # PyTorch's opt-out of sharing the rendezvous TCPStore with the workers
    # (pytorch/pytorch#135712): shared, the restarted ranks find the killed
    # attempt's Gloo addresses under the same keys and, about one restart in
    # four here, connect to them ("Gloo connectFullMesh failed ...
    # Connection refused"), which fails the job with its restart spent.
    env["TORCH_DISABLE_SHARE_RDZV_TCP_STORE"] = "1"
    return env


# ------------------------------------------------------- one killed worker

def measure_kill(a, proc, view, tree, sig=signal.SIGKILL):
    """Waits for step --kill-step, sends `sig` to the last rank's worker,
    waits for the new attempt's first step and the end of the run; returns
    the times measured, in seconds from the signal."""
    victim_rank = a.ranks - 1

    def tick():
        tree.poll()
        view.poll()
        proc.returncode()

    wait_step(a, proc, view, tick)
    victim = wait_for(lambda: tree.find(victim_rank, 0), 10,
                      f"rank {victim_rank}'s worker", tick)
    t0 = time.time()
    victim.kill(sig)
    first = wait_first_step(a, proc, view, 1, tick)
    rc = proc.wait_exit(a.exit_timeout, "end of the run")
    tick()
    detected = view.detected()
    last_before = max_step(view, 0)
    old_gone = [w.gone for w in tree.of_attempt(0)]
    new_seen = [w.seen for w in tree.of_attempt(1)]
    ready = view.ready_t(1)

    def rel(t):
        return None if t is None else round(t - t0, 3)

    return {
        "signal": signal.Signals(sig).name, "victim_pid": victim.pid,
        "victim_rank": victim_rank, "rc": rc, "t_signal": t0,
        "detected_s": rel(detected[0]) if detected else None,
        "detected_line": detected[1] if detected else None,
        "old_workers_gone_s": rel(max(old_gone))
        if old_gone and None not in old_gone else None,
        "new_worker_seen_s": rel(min(new_seen)) if new_seen else None,
        "new_rank0_ready_s": rel(ready),
        "first_step_s": rel(first.t), "first_step": first.step,
        "last_step_before": last_before,
        "resumed_from": first.step - 1,
        "steps_lost": last_before - (first.step - 1),
        "new_world_size": len(new_seen),
    }


def run_dstrain_kill(a, tag, sig=signal.SIGKILL, extra_job="",
                     annotate=None):
    """(a): one `dstrain launch` run; `annotate(proc, result)` may add what
    else its output shows."""
    d = fresh_dir(a, tag)
    job = dstrain_job(a, "restart-bench", d, a.ranks,
                      "fault_tolerance: {max_restarts: 1" + extra_job + "}\n")
    proc = Proc(dstrain_launch_cmd(a, job, d), d, "launch")
    tree = ProcTree([proc.pid], "DSTRAIN_ATTEMPT")
    try:
        r = measure_kill(a, proc, DstrainView(proc), tree, sig)
        if annotate is not None:
            annotate(proc, r)
        return r
    finally:
        proc.close(tree.workers.values())
        drop_checkpoints(d)


def run_torchrun_kill(a, tag):
    d = fresh_dir(a, tag)
    proc = Proc(torchrun_cmd(a, d), d, "torchrun", env=torchrun_env())
    tree = ProcTree([proc.pid], "TORCHELASTIC_RESTART_COUNT")
    try:
        return measure_kill(a, proc, TorchrunView(proc, os.path.join(
            d, "ranks")), tree)
    finally:
        proc.close(tree.workers.values())
        drop_checkpoints(d)


def compare(a):
    """(a) and (b), interleaved; every run's result, by launcher."""
    runs = {"dstrain": [], "torchrun": []}
    for rep in range(a.repeats):
        for name, fn in (("dstrain", run_dstrain_kill),
                         ("torchrun", run_torchrun_kill)):
            tag = f"kill-{name}-{rep}"
            log(f"[{tag}] load {os.getloadavg()[0]:.2f}")
            try:
                r = fn(a, tag)
            except RunFailed as e:
                r = {"error": str(e)}
            r["load_1min"] = os.getloadavg()[0]
            log(f"[{tag}] {summary_line(r)}")
            runs[name].append(r)
    return runs


def summary_line(r):
    if "error" in r:
        return "FAILED: " + r["error"]
    return (f"rc {r['rc']}, detected {fmt_s(r['detected_s'])}, first step "
            f"{fmt_s(r['first_step_s'])}, steps lost {r['steps_lost']} "
            f"(last {r['last_step_before']}, resumed from "
            f"{r['resumed_from']})")


# ------------------------------------------------------------------- faults

def run_preemption(a):
    """SIGTERM to `dstrain launch`, then `launch --resume` at once."""
    d = fresh_dir(a, "fault-sigterm")
    job = dstrain_job(a, "restart-bench", d, a.ranks)
    proc = Proc(dstrain_launch_cmd(a, job, d), d, "launch")
    view = DstrainView(proc)
    tree = ProcTree([proc.pid], "DSTRAIN_ATTEMPT")
    resume = None
    try:
        wait_step(a, proc, view, tree.poll)
        t0 = time.time()
        os.kill(proc.pid, signal.SIGTERM)  # as a batch system would
        # launch gives its workers 120 s to finish the step and checkpoint.
        rc = proc.wait_exit(150, "exit after SIGTERM")
        note = proc.find(re.compile(r"^dstrain: SIGTERM: "))
        stopped = proc.find(re.compile(r"stopped on request after step "
                                       r"(\d+)"))
        last = max_step(view, 0)
        resume = Proc(dstrain_launch_cmd(a, job, d, "--resume"), d,
                      "launch-resume")
        rview = DstrainView(resume)
        first = wait_first_step(a, resume, rview, 0)
        rc2 = resume.wait_exit(a.exit_timeout, "end of --resume")
        return {
            "rc": rc, "rc_resume": rc2, "t_signal": t0,
            "detected_s": round(note[0] - t0, 3) if note else None,
            "exit_s": round(proc.t_exit - t0, 3),
            "stopped_after_step": int(stopped[1].group(1)) if stopped
            else None,
            "resume_started_s": round(resume.t_start - t0, 3),
            "first_step_s": round(first.t - t0, 3),
            "resume_to_first_step_s": round(first.t - resume.t_start, 3),
            "last_step_before": last, "resumed_from": first.step - 1,
            "steps_lost": last - (first.step - 1),
        }
    finally:
        proc.close(tree.workers.values())
        if resume:
            resume.close()
        drop_checkpoints(d)


def run_hang(a):
    """SIGSTOP to a worker: found by the embedded coordinator's hang check
    (no rank's step or collectives moved for hang_timeout_s)."""
    def note_hang(proc, r):
        # Detected when the coordinator logs the hang (on launch's stderr);
        # launch's restart line comes once the workers are gone.
        hang = proc.find(re.compile(r"coordinator: job \S+ hangs: (.*)"))
        r["restart_line_s"] = r["detected_s"]
        r["detected_s"] = round(hang[0] - r["t_signal"], 3) if hang else None
        r["hang_line"] = hang[1].group(1) if hang else None

    return run_dstrain_kill(a, "fault-hang", signal.SIGSTOP,
                            f", hang_timeout_s: {a.hang_timeout:g}",
                            note_hang)


class Cluster:
    """A local `dstrain coordinator` and two agents, node-a and node-b."""

    def __init__(self, a, d):
        self.a, self.d = a, d
        self.token = os.path.join(d, "token")
        with open(os.open(self.token, os.O_WRONLY | os.O_CREAT, 0o600),
                  "w") as f:
            f.write(secrets.token_hex(32) + "\n")
        self.procs = []
        self.coord = self._start(["coordinator", "--listen", "127.0.0.1:0"],
                                 "coordinator")
        found = wait_for(lambda: self.coord.find(
            re.compile(r"listening on (\S+)")), 30, "coordinator address")
        self.address = found[1].group(1)
        self.agents = {}
        for host in ("node-a", "node-b"):
            agent = self._start(["agent", "--coordinator", self.address,
                                 "--listen", "127.0.0.1:0", "--hostname",
                                 host], "agent-" + host)
            wait_for(lambda: agent.find(re.compile("serving on")), 30,
                     f"agent {host}")
            self.agents[host] = agent

    def _start(self, args, name):
        p = Proc([self.a.dstrain, *args, "--token-file", self.token], self.d,
                 name)
        self.procs.append(p)
        return p

    def operate(self, *args):
        """`dstrain ARGS --json` against the coordinator, parsed."""
        done = subprocess.run(
            [self.a.dstrain, *args, "--json", "--coordinator", self.address,
             "--token-file", self.token], cwd=ROOT, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, timeout=30)
        if done.returncode != 0:
            return []
        return [json.loads(x) for x in done.stdout.splitlines() if x.strip()]

    def node_state(self, host):
        for doc in self.operate("nodes"):
            for n in doc.get("nodes", []):
                if n["hostname"] == host:
                    return n["state"]
        return None

    def close(self, workers):
        # SIGTERM: the agents stop their workers; then SIGKILL whatever is
        # left.
        for p in reversed(self.procs):
            if p.popen.poll() is None:  # not reaped: the pid is still its
                os.kill(p.pid, signal.SIGTERM)
        for p in reversed(self.procs):
            try:
                p.wait_exit(15, "exit on SIGTERM")
            except Timeout:
                pass
            p.close(workers)
        os.remove(self.token)  # its coordinator is gone; no secret left


def run_node_loss(a):
    """SIGKILL to one agent's process group, through a local coordinator."""
    d = fresh_dir(a, "fault-node-loss")
    cluster = Cluster(a, d)
    per_node = max(1, a.ranks // 2)
    job = dstrain_job(a, "restart-bench", d, per_node,
                      "nodes: {min: 1, max: 2}\n"
                      "fault_tolerance: {max_restarts: 1}\n")
    launch = Proc(dstrain_launch_cmd(a, job, d, "--coordinator",
                                     cluster.address, "--token-file",
                                     cluster.token), d, "launch")
    view = DstrainView(launch)
    tree = ProcTree([p.pid for p in cluster.agents.values()],
                    "DSTRAIN_ATTEMPT")
    try:
        def tick():
            tree.poll()
            launch.returncode()

        job_id = wait_for(lambda: launch.find(
            re.compile(r"^dstrain: job \S+ \((\S+)\)")), 30, "job id")[1][1]
        wait_step(a, launch, view, tick)
        # The node without rank 0: rank 0 goes on reporting the steps.
        zero = wait_for(lambda: tree.find(0, 0), 10, "rank 0's worker", tick)
        host, agent = next((h, p) for h, p in cluster.agents.items()
                           if p.pid != zero.root)
        t0 = time.time()
        os.killpg(agent.pid, signal.SIGKILL)
        first = wait_first_step(a, launch, view, 1, tick)
        # The agent's own time for that line: launch relays lines in
        # batches, at its polls.
        logged = [x for x in cluster.operate("logs", job_id, "--rank", "0")
                  if re.match(r"step \d+/", x["text"])]
        first_t = logged[0]["time_unix_s"] if logged else first.t
        rc = launch.wait_exit(a.exit_timeout, "end of the run")
        state = cluster.node_state(host)
        # The coordinator's events carry its own times: the first failure
        # it acted on (often the survivor's collateral exit), the node's
        # loss (3 missed heartbeats), the new attempt's start.
        events = cluster.operate("events", job_id)
        with open(os.path.join(d, "events.jsonl"), "w") as f:
            f.writelines(json.dumps(e) + "\n" for e in events)
        after = [e for e in events if e["time_unix_s"] >= t0]
        first_event = after[0] if after else None
        lost = next((e for e in after if host + " stopped heartbeating"
                     in e["cause"]), None)
        started = next((e for e in after if e["to"] == "RUNNING" and
                        e["attempt"] == 1), None)

        def rel(e):
            return round(e["time_unix_s"] - t0, 3) if e else None

        last = max_step(view, 0)
        return {
            "rc": rc, "killed_host": host, "t_signal": t0,
            "node_state_after": state,
            "detected_s": rel(lost),
            "first_event_s": rel(first_event),
            "first_event_cause": first_event["cause"] if first_event
            else None,
            "restart_cause": lost["cause"] if lost else None,
            "new_attempt_running_s": rel(started),
            "new_attempt_placed": next(
                (e["cause"] for e in after if e["to"] == "STARTING"), None),
            "first_step_s": round(first_t - t0, 3),
            "first_step_relayed_s": round(first.t - t0, 3),
            "last_step_before": last, "resumed_from": first.step - 1,
            "steps_lost": last - (first.step - 1),
            "new_world_size": len(tree.of_attempt(1)),
            "events": events,
        }
    finally:
        launch.close(tree.workers.values())
        cluster.close(tree.workers.values())
        drop_checkpoints(d)


def faults(a, kill_runs):
    out = {"sigkill": [r for r in kill_runs if "error" not in r]}
    for name, fn in (("sigterm", run_preemption), ("hang", run_hang),
                     ("node_loss", run_node_loss)):
        log(f"[fault {name}] load {os.getloadavg()[0]:.2f}")
        try:
            r = fn(a)
        except RunFailed as e:
            r = {"error": str(e)}
        log(f"[fault {name}] " + ("FAILED: " + r["error"] if "error" in r
                                   else f"rc {r['rc']}, detected "
                                   f"{fmt_s(r['detected_s'])}, first step "
                                   f"{fmt_s(r['first_step_s'])}, lost "
                                   f"{r['steps_lost']}"))
        out[name] = [r]
    return out


# ------------------------------------------------------------------ report

def fmt_s(x):
    return "n/a" if x is None else f"{x:.2f} s"


def med(runs, key):
    vals = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def cell(runs, key, unit="s"):
    m = med(runs, key)
    if m is None:
        return "n/a"
    each = ", ".join(f"{r[key]:.2f}" if unit == "s" else str(r[key])
                     for r in runs if r.get(key) is not None)
    value = f"{m:.2f} s" if unit == "s" else f"{m:g}"
    return f"{value} ({each})" if len(runs) > 1 else value


def short(text, limit=60):
    """The start of an event's cause, for a table cell."""
    text = text or ""
    return text if len(text) <= limit else text[:limit].rstrip() + " …"


def ratio(d, t):
    if d is None or t is None or t == 0:
        return "n/a"
    return f"{d / t:.2f}"


def compare_section(a, runs):
    d_ok = [r for r in runs["dstrain"] if "error" not in r]
    t_ok = [r for r in runs["torchrun"] if "error" not in r]
    rows = [("detected: kill → the launcher reports the failure",
             "detected_s", "s"),
            ("**kill → first step after the restart**", "first_step_s", "s"),
            ("steps lost", "steps_lost", "steps")]
    lines = ["| | dstrain | torchrun | ratio |", "|---|---:|---:|---:|"]
    for label, key, unit in rows:
        lines.append(f"| {label} | {cell(d_ok, key, unit)} | "
                     f"{cell(t_ok, key, unit)} | "
                     f"{ratio(med(d_ok, key), med(t_ok, key))} |")
    parts = [("old attempt's workers all gone", "old_workers_gone_s"),
             ("first new worker process", "new_worker_seen_s"),
             ("launcher reports the restart", "detected_s"),
             ("new rank 0 ready (setup done, checkpoint loaded)",
              "new_rank0_ready_s"),
             ("first step completed", "first_step_s")]
    breakdown = ["| from the kill to ... (median) | dstrain | torchrun |",
                 "|---|---:|---:|"]
    for label, key in parts:
        breakdown.append(f"| {label} | {fmt_s(med(d_ok, key))} | "
                         f"{fmt_s(med(t_ok, key))} |")
    failed = [f"{n} run {i}: {r['error']}" for n in runs
              for i, r in enumerate(runs[n]) if "error" in r]
    dk, tk = med(d_ok, "first_step_s"), med(t_ok, "first_step_s")
    targets = "n/a"
    if dk is not None and tk is not None:
        half = "met" if dk < tk / 2 else "missed"
        ten = "met" if dk < 10 else "missed"
        targets = (f"under half of torchrun's: **{half}** ({dk / tk:.2f}); "
                   f"under 10 s: **{ten}** ({dk:.2f} s)")
    cmds = [shell(dstrain_launch_cmd(a, "JOB", "RUN_DIR")),
            shell(torchrun_cmd(a, "RUN_DIR"))]
    return "\n".join(
        ["### Restart after a killed worker: dstrain against torchrun", "",
         f"GPT {a.layers} layers, d_model {a.d_model}, heads {a.heads}, "
         f"seq_len {a.seq_len}, micro_batch {a.micro_batch} per rank; "
         f"{a.ranks} CPU ranks, 1 thread each, gloo; checkpoint every "
         f"{a.ckpt_every} steps, {a.steps} steps, one restart allowed; "
         f"SIGKILL to rank {a.ranks - 1}'s worker after step "
         f"{a.kill_step}; {a.repeats} runs each, interleaved (medians, "
         f"each run in parentheses).", "",
         "```"] + cmds + ["```", ""] + lines + ["",
         "Detected: dstrain's line comes once every worker of the killed "
         "attempt has exited (the coordinator restarts then); torchrun's "
         "once it has sent SIGTERM to the others.", "",
         "Target, kill → first step: " + targets + "."] +
        (["", "Failed runs: " + "; ".join(failed) + "."] if failed else []) +
        ["", "Where the time goes:", ""] + breakdown)


def faults_section(a, f):
    lines = ["| fault | detected by | detection | to first step after "
             "restart | steps lost | notes |",
             "|---|---|---:|---:|---:|---|"]

    def row(name, how, runs, note):
        ok = [r for r in runs if "error" not in r]
        if not ok:
            err = runs[0]["error"] if runs else "not run"
            lines.append(f"| {name} | {how} | n/a | n/a | n/a | {err} |")
            return
        lines.append(f"| {name} | {how} | {fmt_s(med(ok, 'detected_s'))} | "
                     f"{fmt_s(med(ok, 'first_step_s'))} | "
                     f"{med(ok, 'steps_lost'):g} | {note(ok)} |")

    row("a worker killed (SIGKILL)", "its agent (`waitpid`); `launch`'s "
        "restart line", f["sigkill"],
        lambda ok: f"median of {len(ok)}; old workers gone after "
        f"{fmt_s(med(ok, 'old_workers_gone_s'))}")
    row("preemption: SIGTERM to `launch`", "the workers' signal handlers; "
        "`launch`'s note", f["sigterm"],
        lambda ok: f"exit {ok[0]['rc']} after {fmt_s(ok[0]['exit_s'])} "
        f"(stopped after step {ok[0]['stopped_after_step']}); `--resume` "
        f"started at once, its first step "
        f"{fmt_s(ok[0]['resume_to_first_step_s'])} later")
    row(f"a hang: SIGSTOP to a worker (hang_timeout_s {a.hang_timeout:g})",
        "the coordinator's progress records (`job ... hangs`)", f["hang"],
        lambda ok: f"`launch`'s restart line after "
        f"{fmt_s(ok[0].get('restart_line_s'))}")
    row("a node lost: SIGKILL to an agent's process group",
        "the coordinator: 3 missed heartbeats (its event)", f["node_loss"],
        lambda ok: f"first event after {fmt_s(ok[0].get('first_event_s'))}: "
        f"\"{short(ok[0].get('first_event_cause'))}\"; restarted on "
        f"{ok[0].get('new_world_size')} rank(s): "
        f"\"{ok[0].get('new_attempt_placed')}\"")
    return "\n".join(["### dstrain's reliability table", "",
                      f"Same job, {a.ranks} ranks (node loss: 2 agents on "
                      "this machine, node-a and node-b, "
                      f"{max(1, a.ranks // 2)} rank(s) each, nodes "
                      "{min: 1, max: 2}); times from the fault.", ""] + lines)


def shell(cmd):
    home = os.path.expanduser("~")
    cmd = [os.path.relpath(c, ROOT) if c.startswith(ROOT + "/") else c
           for c in cmd]
    cmd = ["~" + c[len(home):] if c.startswith(home + "/") else c
           for c in cmd]
    return " ".join(f"'{c}'" if (" " in c or "{" in c) else c for c in cmd)


# -------------------------------------------------------------------- main

def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--build", default=os.path.join(ROOT, "build"),
                   help="build folder with bin/dstrain")
    p.add_argument("--python", default=VENV_PYTHON if os.access(
        VENV_PYTHON, os.X_OK) else sys.executable,
                   help="the Python with torch that runs torchrun")
    p.add_argument("--ranks", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--out", default=os.path.join(ROOT, "runs/bench-restart"))
    p.add_argument("--faults", action=argparse.BooleanOptionalAction,
                   default=True, help="also dstrain's reliability table")
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--d-model", type=int, default=128)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--seq-len", type=int, default=128)
    p.add_argument("--micro-batch", type=int, default=16)
    p.add_argument("--steps", type=int, default=24)
    p.add_argument("--ckpt-every", type=int, default=5)
    p.add_argument("--kill-step", type=int, default=12,
                   help="the fault comes once this step is completed")
    p.add_argument("--hang-timeout", type=float, default=5.0)
    p.add_argument("--start-timeout", type=float, default=180,
                   help="seconds for a run to reach --kill-step")
    p.add_argument("--restart-timeout", type=float, default=120,
                   help="seconds from the fault to the first step after it")
    p.add_argument("--exit-timeout", type=float, default=180,
                   help="seconds from the first step after the restart to "
                        "the end of the run")
    a = p.parse_args()
    a.dstrain = os.path.abspath(os.path.join(a.build, "bin/dstrain"))
    a.out = os.path.abspath(a.out)
    if not os.access(a.dstrain, os.X_OK):
        p.error(f"{a.dstrain} is not built")
    if a.ranks < 2:
        p.error("--ranks must be at least 2 (one rank is killed)")
    if not a.ckpt_every < a.kill_step < a.steps:
        p.error("need --ckpt-every < --kill-step < --steps")
    return a


def main():
    a = parse_args()
    os.makedirs(a.out, exist_ok=True)
    atexit.register(close_all)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    t0, load0 = time.time(), os.getloadavg()
    runs = compare(a)
    fault_runs = faults(a, runs["dstrain"]) if a.faults else None
    load1 = os.getloadavg()
    uname = platform.uname()
    sections = [
        "```\n" + shell([a.python, os.path.relpath(__file__, ROOT)] +
                        sys.argv[1:]) + "\n```",
        f"Machine: {uname.node}, {os.cpu_count()} CPUs (nproc "
        f"{len(os.sched_getaffinity(0))}), {uname.release}; load average "
        f"(1, 5, 15 min) {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f} "
        f"before, {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f} after; "
        f"took {time.time() - t0:.0f} s.",
        compare_section(a, runs)]
    if fault_runs:
        sections.append(faults_section(a, fault_runs))
    report = "\n\n".join(sections)
    print(report)
    with open(os.path.join(a.out, "report.md"), "w") as f:
        f.write(report + "\n")
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump({"args": vars(a), "compare": runs, "faults": fault_runs},
                  f, indent=1)


if __name__ == "__main__":
    main()
