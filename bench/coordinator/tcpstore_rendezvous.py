"""The coordinator benchmark's peer: one rendezvous of --world ranks through
torch.distributed.TCPStore, the store behind torchrun's c10d rendezvous.

Same pattern and client concurrency as coordinator_scale_bench (see its file
comment): --clients threads, each with its own TCPStore client connection,
simulate ranks t, t + clients, ...; phase 1 (set addr/<r>, add "arrived", the
last arriver sets "ready") for all of a thread's ranks, then phase 2 (wait
"ready", get both ring neighbours' addresses).

The server (is_master=True, torch's default backend) runs in a child process
so its CPU time and peak RSS are its own. The store calls release the GIL
while they block on the socket, but the Python around them holds it: that
client overhead is part of what is measured, as it is for torchrun.

Prints "key value" lines.
"""

import argparse
import os
import resource
import subprocess
import sys
import threading
import time
from datetime import timedelta


def address_of(rank):
    head = "10.%03d.%03d.%03d:%05d/" % ((rank >> 16) & 255, (rank >> 8) & 255,
                                        rank & 255, 20000 + rank % 40000)
    return (head + "%043d" % rank).encode()


def usage(pid):
    with open("/proc/%d/stat" % pid) as f:
        rest = f.read().rsplit(")", 1)[1].split()
    cpu = (int(rest[11]) + int(rest[12])) / os.sysconf("SC_CLK_TCK")
    rss = 0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                rss = int(line.split()[1])
    return cpu, rss


def serve():
    from torch.distributed import TCPStore
    store = TCPStore("127.0.0.1", 0, is_master=True, wait_for_workers=False,
                     timeout=timedelta(minutes=10))
    print(store.port, flush=True)
    sys.stdin.read()  # serve until the parent closes our stdin


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--world", type=int, default=16384)
    p.add_argument("--clients", type=int, default=64)
    p.add_argument("--serve", action="store_true")
    a = p.parse_args()
    if a.serve:
        serve()
        return
    from torch.distributed import TCPStore

    server = subprocess.Popen([sys.executable, __file__, "--serve"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    port = int(server.stdout.readline())
    cpu0, _ = usage(server.pid)
    timeout = timedelta(minutes=10)
    stores = [TCPStore("127.0.0.1", port, is_master=False, timeout=timeout)
              for _ in range(a.clients)]
    world = a.world
    errors = []

    def run(t):
        try:
            s = stores[t]
            for r in range(t, world, a.clients):
                s.set("addr/%d" % r, address_of(r))
                if s.add("arrived", 1) == world:
                    s.set("ready", "1")
            for r in range(t, world, a.clients):
                s.wait(["ready"])
                for peer in ((r + 1) % world, (r + world - 1) % world):
                    if s.get("addr/%d" % peer) != address_of(peer):
                        raise RuntimeError("wrong address for %d" % peer)
        except Exception as e:  # reported below, after the threads join
            errors.append(e)

    threads = [threading.Thread(target=run, args=(t,)) for t in range(a.clients)]
    client0 = resource.getrusage(resource.RUSAGE_SELF)
    start = time.monotonic()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    elapsed = time.monotonic() - start
    client1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu1, rss = usage(server.pid)
    server.stdin.close()
    server.wait()
    if errors:
        raise errors[0]
    print("tcpstore_rendezvous_s %.3f" % elapsed)
    print("tcpstore_client_cpu_s %.3f" % (
        client1.ru_utime + client1.ru_stime - client0.ru_utime - client0.ru_stime))
    print("tcpstore_server_cpu_s %.3f" % (cpu1 - cpu0))
    print("tcpstore_server_peak_rss_mib %.1f" % (rss / 1024.0))


if __name__ == "__main__":
    main()
