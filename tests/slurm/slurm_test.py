#!/usr/bin/env python3
"""dstrain under a real Slurm (tests/slurm/local_slurm.sh: munged, MariaDB
and slurmdbd, slurmctld, slurmd; Debian's packages), through the batch
script users submit, deploy/slurm/dstrain.sbatch:

  single   one node: `sbatch dstrain.sbatch job.yaml` trains the example
           job; sacct says COMPLETED (exit 0:0) with its steps named
           dstrain-coordinator and dstrain-agents; the Slurm job's comment names the dstrain
           job, and the dstrain job (summary.json) the Slurm job;
  failing  a rank that exits 3 at step 2: sacct says FAILED with a
           non-zero exit code;
  requeue  USR1 to the batch shell mid-run (as --signal=B:USR1@lead
           sends before the time limit): the ranks write a checkpoint of
           their step and exit, the launch exits 75, the script requeues
           the job, and the second run resumes from that step with the
           losses of an uninterrupted run;
  srun     workers straight from `srun --mpi=pmix dstrain worker` (MPI
           over Slurm's PMIx; Debian's Open MPI has no PMI-2 client), and
           from mpirun inside an allocation;
  multi    two Slurm nodes, each a network namespace with its own address
           (`slurmd -N nodeK`): `sbatch -N 2` trains a 2-node job across
           them, placed by the topology Slurm knows.

  slurm_test.py --dstrain BUILD/bin/dstrain --source REPO --out DIR

Exit 0 when all holds, 1 on a failure (saying which), 77 (ctest's skip)
when Slurm cannot run here (not root, a package missing), saying why.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

SKIP = 77


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def wait_for(pred, seconds, what):
    """Polls pred() until it is true or the deadline passes."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(0.5)
    raise Failure("timed out after %d s waiting for %s" % (seconds, what))


def job_yaml(name, steps, nodes=1, extra=""):
    return (
        "name: %s\nprocs_per_node: 2\nnodes: {min: %d, max: %d}\n"
        "device: cpu\nbackend: gloo\n"
        "model: {type: gpt, vocab: 256, layers: 2, d_model: 64, heads: 2, "
        "seq_len: 64}\n"
        "data: {type: text, path: /usr/share/games/fortunes}\n"
        "train:\n  steps: %d\n  micro_batch: 4\n  log_every: 1\n"
        "  optimizer: {type: adamw, lr: 3.0e-3}\n"
        "  schedule: {type: cosine, warmup_steps: 5}\n%s"
        % (name, nodes, nodes, steps, extra))


class Cluster:
    """A local Slurm of `nodes` nodes under `root`; stop() tears it down."""

    def __init__(self, source, root, nodes):
        self.script = os.path.join(source, "tests/slurm/local_slurm.sh")
        self.dir = os.path.join(root, "slurm%d" % nodes)
        started = subprocess.run(
            [self.script, "start", self.dir, str(nodes)],
            capture_output=True, text=True, timeout=240)
        if started.returncode == 2:
            raise SkipTest(started.stdout.strip() or started.stderr.strip())
        if started.returncode != 0:
            raise Failure("local Slurm did not start:\n%s%s"
                          % (started.stdout, started.stderr))
        self.env = dict(os.environ, SLURM_CONF=self.dir + "/slurm.conf")
        # The test runs inside ctest, maybe itself inside a Slurm job.
        for k in list(self.env):
            if k.startswith("SLURM_") and k != "SLURM_CONF":
                del self.env[k]

    def stop(self):
        subprocess.run([self.script, "stop", self.dir], timeout=120)

    def run(self, *args, extra_env=None, cwd=None):
        env = dict(self.env, **(extra_env or {}))
        return subprocess.run(list(args), capture_output=True, text=True,
                              env=env, cwd=cwd, timeout=120)

    def sbatch(self, args, extra_env=None, cwd=None):
        r = self.run("sbatch", "--parsable", *args, extra_env=extra_env,
                     cwd=cwd)
        check(r.returncode == 0, "sbatch failed: %s" % r.stderr)
        return r.stdout.strip().split(";")[0]

    def sacct(self, job_id, duplicates=False):
        """Every record of the job: (JobID, JobName, State, ExitCode,
        Comment) each."""
        args = ["sacct", "-n", "-P", "-j", job_id,
                "--format=JobID,JobName,State,ExitCode,Comment"]
        if duplicates:
            args.append("--duplicates")
        r = self.run(*args)
        return [line.split("|") for line in r.stdout.splitlines() if line]

    def job_state(self, job_id):
        r = self.run("scontrol", "show", "job", job_id, "-o")
        for field in r.stdout.split():
            if field.startswith("JobState="):
                return field.split("=", 1)[1]
        return ""

    def wait_done(self, job_id, seconds):
        """Waits until sacct has the job ended; returns its own record."""
        ended = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL",
                 "OUT_OF_MEMORY"}

        def done():
            for rec in self.sacct(job_id):
                if rec[0] == job_id and rec[2].split()[0] in ended:
                    return rec
            return None
        return wait_for(done, seconds, "Slurm job %s to end" % job_id)


class SkipTest(Exception):
    pass


def read_json(path):
    with open(path) as f:
        return json.load(f)


def losses(run_dir):
    out = {}
    with open(os.path.join(run_dir, "metrics.jsonl")) as f:
        for line in f:
            row = json.loads(line)
            out[row["step"]] = row["loss"]
    return out


def test_single(c, a, work):
    job = os.path.join(work, "single.yaml")
    with open(job, "w") as f:
        f.write(job_yaml("single", 12))
    run_dir = os.path.join(work, "single-run")
    jid = c.sbatch(["--output=%s/single-%%j.out" % work, a.sbatch, job,
                    "--run-dir", run_dir],
                   extra_env={"DSTRAIN": a.dstrain}, cwd=work)
    rec = c.wait_done(jid, 240)
    out = open("%s/single-%s.out" % (work, jid)).read()
    check(rec[2] == "COMPLETED" and rec[3] == "0:0",
          "single: sacct says %s %s, not COMPLETED 0:0:\n%s" % (rec[2], rec[3], out))
    names = [r[1] for r in c.sacct(jid)]
    check("dstrain-agents" in names and "dstrain-coordinator" in names,
          "single: no dstrain-coordinator and dstrain-agents steps in "
          "sacct: %s" % names)
    check(rec[4].startswith("dstrain job j-"),
          "single: the Slurm job's comment is %r" % rec[4])
    summary = read_json(os.path.join(run_dir, "summary.json"))
    check(summary["slurm_job_id"] == jid,
          "single: summary.json says Slurm job %r" % summary["slurm_job_id"])
    check(summary["state"] == "SUCCEEDED" and summary["steps"] == 12,
          "single: %s after %d steps" % (summary["state"], summary["steps"]))
    check(len(losses(run_dir)) == 12, "single: metrics.jsonl lacks steps")
    print("single: Slurm job %s COMPLETED, 12 steps trained, comment %r"
          % (jid, rec[4]))


def test_failing(c, a, work):
    job = os.path.join(work, "failing.yaml")
    with open(job, "w") as f:
        f.write(job_yaml("failing", 50))
    jid = c.sbatch(["--output=%s/failing-%%j.out" % work, a.sbatch, job,
                    "--run-dir", os.path.join(work, "failing-run")],
                   extra_env={"DSTRAIN": a.dstrain,
                              "DSTRAIN_FAULT_INJECT": "exit:rank=1,step=2"},
                   cwd=work)
    rec = c.wait_done(jid, 240)
    out = open("%s/failing-%s.out" % (work, jid)).read()
    check(rec[2] == "FAILED" and rec[3] != "0:0",
          "failing: sacct says %s %s, not FAILED with an exit code:\n%s"
          % (rec[2], rec[3], out))
    check("rank 1" in out and "exited with code 3" in out,
          "failing: the output does not name rank 1's exit:\n%s" % out)
    print("failing: Slurm job %s FAILED with exit code %s" % (jid, rec[3]))


def test_requeue(c, a, work):
    steps = 160
    extra = "checkpoint: {every_steps: 1000}\n"
    job = os.path.join(work, "requeue.yaml")
    with open(job, "w") as f:
        f.write(job_yaml("requeue", steps, extra=extra))
    # The same job, uninterrupted and outside Slurm, for its losses.
    whole = os.path.join(work, "whole-run")
    r = subprocess.run([a.dstrain, "launch", job, "--run-dir", whole,
                        "--quiet"], capture_output=True, text=True,
                       timeout=600, env=dict(os.environ, DSTRAIN_SLURM="0"))
    check(r.returncode == 0, "requeue: the uninterrupted run failed: %s"
          % r.stderr)
    run_dir = os.path.join(work, "requeue-run")
    out_path = "%s/requeue.out" % work
    jid = c.sbatch(["--output=" + out_path, a.sbatch, job,
                    "--run-dir", run_dir],
                   extra_env={"DSTRAIN": a.dstrain}, cwd=work)
    metrics = os.path.join(run_dir, "metrics.jsonl")

    def trained(n):
        try:
            with open(metrics) as f:
                return sum(1 for _ in f) >= n
        except OSError:
            return False
    wait_for(lambda: trained(20), 180, "20 steps of the first run")
    # What Slurm does before the time limit with --signal=B:USR1@lead.
    s = c.run("scancel", "--signal=USR1", "--batch", jid)
    check(s.returncode == 0, "requeue: scancel --signal failed: %s" % s.stderr)
    # Requeued, then run again to its end.
    wait_for(lambda: len([x for x in c.sacct(jid, duplicates=True)
                          if x[0] == jid]) >= 2, 300,
             "the job to be requeued and started again")
    rec = c.wait_done(jid, 600)
    out = open(out_path).read()
    check(rec[2] == "COMPLETED", "requeue: the second run ended %s:\n%s"
          % (rec[2], out))
    runs = [x for x in c.sacct(jid, duplicates=True) if x[0] == jid]
    check(runs[0][2] == "REQUEUED",
          "requeue: the first run's record is %s, not REQUEUED" % runs[0][2])
    # 1. a checkpoint of the step it stopped after, 2. exit 75
    marker = "every rank stopped on request after step "
    check(marker in out, "requeue: no preemption in the output:\n%s" % out)
    stopped = int(out.split(marker, 1)[1].split()[0])
    check(os.path.isdir(os.path.join(run_dir, "ckpt", "step-%d" % stopped)),
          "requeue: no checkpoint of step %d" % stopped)
    check("stopped with a checkpoint; requeueing job %s" % jid in out,
          "requeue: the script did not requeue after exit 75:\n%s" % out)
    # 3. requeued, 4. the second run resumed from that step
    check("(restart 1)" in out, "requeue: no second run:\n%s" % out)
    check("resuming from step %d" % stopped in out,
          "requeue: the second run did not resume from step %d:\n%s"
          % (stopped, out))
    want, got = losses(whole), losses(run_dir)
    check(sorted(got) == list(range(1, steps + 1)),
          "requeue: metrics.jsonl does not hold steps 1..%d" % steps)
    for step in range(stopped + 1, steps + 1):
        check(abs(got[step] - want[step]) <= 1e-5 * abs(want[step]),
              "requeue: step %d's loss %r, uninterrupted %r"
              % (step, got[step], want[step]))
    print("requeue: Slurm job %s stopped after step %d with a checkpoint, "
          "exit 75, requeued, resumed from step %d with the losses of an "
          "uninterrupted run" % (jid, stopped, stopped))


def test_srun_workers(c, a, work):
    """Workers straight from srun, MPI over Slurm's PMIx: no agent, no
    coordinator (backend mpi)."""
    job = os.path.join(work, "mpi.yaml")
    with open(job, "w") as f:
        f.write(job_yaml("mpi", 5).replace("backend: gloo", "backend: mpi"))
    r = c.run("srun", "-n", "2", "--mpi=pmix", "--job-name=dstrain-workers",
              a.dstrain, "worker", "--job", job, cwd=work)
    out = r.stdout + r.stderr
    check(r.returncode == 0, "srun workers: exit %d:\n%s" % (r.returncode, out))
    check("2 ranks, backend mpi" in out and "done, 5 steps" in out,
          "srun workers: not 2 MPI ranks training 5 steps:\n%s" % out)
    # And mpirun inside an allocation (Open MPI takes its slots from Slurm).
    out_path = os.path.join(work, "mpirun.out")
    jid = c.sbatch(["-n", "2", "--output=" + out_path, "--wrap",
                    "mpirun -np 2 %s worker --job %s" % (a.dstrain, job)],
                   extra_env={"OMPI_ALLOW_RUN_AS_ROOT": "1",
                              "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"},
                   cwd=work)
    rec = c.wait_done(jid, 120)
    out = open(out_path).read()
    check(rec[2] == "COMPLETED" and "MPI launch by mpirun" in out
          and "done, 5 steps" in out,
          "mpirun in an allocation: %s:\n%s" % (rec[2], out))
    print("srun workers: srun -n 2 --mpi=pmix dstrain worker, and mpirun -np 2 "
          "in an sbatch allocation, trained 5 steps on 2 MPI ranks")


def test_multi(c, a, work):
    job = os.path.join(work, "multi.yaml")
    with open(job, "w") as f:
        f.write(job_yaml("multi", 10, nodes=2))
    run_dir = os.path.join(work, "multi-run")
    out_path = "%s/multi.out" % work
    jid = c.sbatch(["-N", "2", "--output=" + out_path, a.sbatch, job,
                    "--run-dir", run_dir],
                   extra_env={"DSTRAIN": a.dstrain}, cwd=work)
    rec = c.wait_done(jid, 300)
    out = open(out_path).read()
    check(rec[2] == "COMPLETED", "multi: sacct says %s:\n%s" % (rec[2], out))
    summary = read_json(os.path.join(run_dir, "summary.json"))
    check(summary["world_size"] == 4 and summary["param_digests_agree"],
          "multi: world %d, digests agree %s" % (summary["world_size"],
                                                  summary["param_digests_agree"]))
    check("placing ranks on the fabric Slurm knows" in out,
          "multi: the topology from scontrol was not used:\n%s" % out)
    agents = open(os.path.join(run_dir, "slurm-agents.log")).read()
    check(agents.count("serving on") == 2,
          "multi: not two agents serving:\n%s" % agents)
    # Every rank prints its step lines, prefixed "[rank R host]".
    for node in ("node1", "node2"):
        check(" %s] step 10/10" % node in out,
              "multi: no rank trained on %s:\n%s" % (node, out))
    print("multi: Slurm job %s COMPLETED on 2 Slurm nodes (network "
          "namespaces), 4 ranks, equal parameters" % jid)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dstrain", required=True)
    p.add_argument("--source", required=True)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    a.source = os.path.abspath(a.source)
    a.dstrain = os.path.abspath(a.dstrain)
    a.sbatch = os.path.join(a.source, "deploy/slurm/dstrain.sbatch")
    if os.geteuid() != 0:
        print("skipped: a local Slurm needs root (slurmd, munged)")
        return SKIP
    os.makedirs(a.out, exist_ok=True)
    work = tempfile.mkdtemp(prefix="dstrain-slurm-", dir=a.out)
    clusters = []
    try:
        c = Cluster(a.source, work, 1)
        clusters.append(c)
        test_single(c, a, work)
        test_failing(c, a, work)
        test_requeue(c, a, work)
        test_srun_workers(c, a, work)
        c.stop()
        clusters.pop()
        c2 = Cluster(a.source, work, 2)
        clusters.append(c2)
        test_multi(c2, a, work)
    except SkipTest as e:
        print("skipped: %s" % e)
        return SKIP
    except Failure as e:
        print("FAILED: %s" % e)
        return 1
    finally:
        for c in clusters:
            c.stop()
    shutil.rmtree(work, ignore_errors=True)
    print("all Slurm checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
