#!/usr/bin/env python3
"""The coordinator's web page in a real browser (headless Chromium through
Selenium): a coordinator with --http, two agents (node-a, node-b) and a
2-node x 2-rank job on a described two-leaf fat-tree (node-b under leaf0,
node-a under leaf1, one spine); the job's page must show a row for every
rank, its loss curve must gain points as steps pass, and its fabric view
must draw the spine and both leaves with each node under its own leaf,
coloured by its step time, and mark node-b lost once node-b's agent is
killed. Saves a screenshot of the page into --out.

Exit 0 when all holds, 1 on a failure (saying which), 77 (ctest's skip)
when Selenium, Chromium or chromedriver are missing or the browser cannot
start, saying what.
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

SKIP = 77
# node-b under leaf0, node-a under leaf1, spares the job does not get.
CLUSTER = """name: two-leaves
fabric: {kind: fat-tree, k: 8, levels: 2, oversubscription: 1}
defaults: {devices: 2, bandwidth: 100 Gb/s, latency: 1 us}
switches:
  - {name: "leaf[0-1]", level: 0}
  - {name: spine0, level: 1}
hosts:
  - {name: "node-b,spare[0-1]", leaf: leaf0}
  - {name: "node-a,spare[2-3]", leaf: leaf1}
links:
  - {a: "leaf[0-1]", b: spine0, count: 2}
"""
TINY_JOB = """name: web
procs_per_node: 2
nodes: {min: 2, max: 2}
device: cpu
backend: gloo
topology: {cluster: %s}
model: {type: gpt, vocab: 256, layers: 1, d_model: 32, heads: 2, seq_len: 32}
data: {type: text, path: /usr/share/games/fortunes}
train:
  steps: 1000000
  micro_batch: 4
  optimizer: {type: adamw, lr: 1.0e-2}
  schedule: {type: constant}
"""


def skip(why):
    print("SKIP: " + why, flush=True)
    sys.exit(SKIP)


def fail(why):
    print("FAIL: " + why, flush=True)
    sys.exit(1)


class Process:
    """A child whose stdout is read into a buffer by a thread."""

    def __init__(self, argv, cwd):
        self.p = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True,
                                  start_new_session=True)
        self.out = ""
        self._lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.p.stdout:
            with self._lock:
                self.out += line

    def text(self):
        with self._lock:
            return self.out

    def stop(self, sig=signal.SIGTERM):
        if self.p.poll() is None:
            try:
                os.killpg(self.p.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.p.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.p.pid, signal.SIGKILL)
                self.p.wait()


def wait_for(what, predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    fail("timed out after %d s waiting for %s" % (timeout, what))


def token_file(folder, name, token):
    path = os.path.join(folder, name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    return path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dstrain", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service
    except ImportError as e:
        skip("no selenium (deploy/bootstrap.sh installs it): %s" % e)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not chromium or not driver_path:
        skip("no chromium or chromedriver on PATH (Debian's chromium and "
             "chromium-driver; deploy/bootstrap.sh installs them)")

    work = tempfile.mkdtemp(prefix="dstrain_web_")
    procs = []
    browser = None
    try:
        op = token_file(work, "operator", "web-test-operator-token")
        viewer_token = "web-test-viewer-token-0"
        viewer = token_file(work, "viewer", viewer_token)
        coord = Process([a.dstrain, "coordinator", "--listen", "127.0.0.1:0",
                         "--token-file", op, "--viewer-token-file", viewer,
                         "--http", "127.0.0.1:0"], work)
        procs.append(coord)
        address = wait_for("the coordinator", lambda: (re.search(
            r"listening on (\S+)", coord.text()) or [None, None])[1], 30)
        http = wait_for("its HTTP port", lambda: (re.search(
            r"HTTP on (http://\S+)", coord.text()) or [None, None])[1], 30)
        agents = {}
        for host in ("node-a", "node-b"):
            agent = Process([a.dstrain, "agent", "--coordinator", address,
                             "--token-file", op, "--listen", "127.0.0.1:0",
                             "--hostname", host], work)
            procs.append(agent)
            agents[host] = agent
            wait_for(host + "'s agent",
                     lambda: "serving on" in agent.text(), 30)
        cluster_file = os.path.join(work, "two-leaves.yaml")
        with open(cluster_file, "w") as f:
            f.write(CLUSTER)
        job_file = os.path.join(work, "web.yaml")
        with open(job_file, "w") as f:
            f.write(TINY_JOB % cluster_file)
        launched = subprocess.run(
            [a.dstrain, "launch", job_file, "--coordinator", address,
             "--token-file", op, "--run-dir", os.path.join(work, "run"),
             "--detach"], cwd=work, capture_output=True, text=True,
            timeout=60)
        if launched.returncode != 0:
            fail("launch --detach: " + launched.stderr)
        job = launched.stdout.strip().splitlines()[-1]

        options = Options()
        options.binary_location = chromium
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1200,1400"):
            options.add_argument(flag)
        try:
            browser = webdriver.Chrome(service=Service(driver_path),
                                       options=options)
        except Exception as e:  # the browser itself cannot start here
            skip("headless Chromium does not start: %s" %
                 str(e).splitlines()[0])
        browser.get(http + "/#token=" + viewer_token)
        browser.get(http + "/#job=" + job)

        # Each read is one script run in the page: the page redraws its
        # tables every two seconds, which would leave elements found one
        # call earlier stale.
        def rank_rows():
            rows = browser.execute_script(
                "return Array.from(document.querySelectorAll("
                "'#rank-table tbody tr')).map(r => Array.from(r.cells)"
                ".map(c => c.textContent));")
            ranks = {}
            for cells in rows or []:
                if len(cells) >= 3 and cells[2].isdigit():
                    ranks[int(cells[0])] = cells
            return ranks

        ranks = wait_for("a row with a step for every rank",
                         lambda: len(rank_rows()) == 4 and rank_rows(), 120)
        hosts = sorted(set(cells[1] for cells in ranks.values()))
        if hosts != ["node-a", "node-b"]:
            fail("the rank table's hosts are %s" % hosts)

        def points():
            return int(browser.execute_script(
                "const c = document.getElementById('loss-chart');"
                "return c ? c.getAttribute('data-points') : null;") or 0)

        first = wait_for("loss points", points, 60)
        wait_for("the loss curve to gain points (had %d)" % first,
                 lambda: points() > first, 60)

        def fabric():
            return browser.execute_script(
                "const f = document.getElementById('fabric');"
                "const out = {switches: {}, nodes: {}};"
                "for (const s of f.querySelectorAll('[data-switch]'))"
                "  out.switches[s.getAttribute('data-switch')] ="
                "      Number(s.getAttribute('data-level'));"
                "for (const n of f.querySelectorAll('[data-node]'))"
                "  out.nodes[n.getAttribute('data-node')] = {"
                "    state: n.getAttribute('data-state'),"
                "    leaf: n.getAttribute('data-leaf'),"
                "    step: n.getAttribute('data-step-time'),"
                "    fill: n.querySelector('rect').getAttribute('fill')};"
                "return out;") or {"switches": {}, "nodes": {}}

        def timed():
            f = fabric()
            nodes = f["nodes"]
            return (len(nodes) == 2 and
                    all(n["state"] == "alive" and n["step"]
                        for n in nodes.values()) and f)

        drawn = wait_for("both nodes alive on the fabric with a step time",
                         timed, 60)
        if drawn["switches"] != {"leaf0": 0, "leaf1": 0, "spine0": 1}:
            fail("the fabric view's switches are %s (want leaf0, leaf1 and "
                 "spine0 only)" % drawn["switches"])
        leaves = {h: n["leaf"] for h, n in drawn["nodes"].items()}
        if leaves != {"node-a": "leaf1", "node-b": "leaf0"}:
            fail("the fabric view puts the nodes under %s" % leaves)
        for h, n in drawn["nodes"].items():
            if not n["fill"].startswith("hsl("):
                fail("%s is not coloured by its step time: %s" % (h, n))

        agents["node-b"].stop(signal.SIGKILL)
        lost = wait_for(
            "node-b marked lost on the fabric",
            lambda: (fabric()["nodes"].get("node-b", {}).get("state") ==
                     "lost" and fabric()), 60)
        if lost["nodes"]["node-b"]["leaf"] != "leaf0":
            fail("lost node-b is no longer drawn under leaf0: %s" % lost)
        os.makedirs(a.out, exist_ok=True)
        shot = os.path.join(a.out, "job_page.png")
        browser.save_screenshot(shot)
        print("ok: every rank shown, the loss curve grew past %d points, "
              "the fabric view drew spine0 over leaf0 (node-b) and leaf1 "
              "(node-a) coloured by step time, node-b marked lost; "
              "screenshot %s" % (first, shot), flush=True)
        return 0
    finally:
        if browser is not None:
            browser.quit()
        for p in reversed(procs):
            p.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
