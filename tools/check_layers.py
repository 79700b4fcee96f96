#!/usr/bin/env python3
"""Fails when the code breaks its module layers.

The modules and what each may depend on come from CMake: every
dstrain_module() call is written to <build>/module_graph.json
(cmake/Modules.cmake). This script checks, over the source tree:

  1. the module graph has no cycle;
  2. every `#include "x/y.h"` in a module's files names a header of the
     same module or of a module below it (its DEPS, transitively);
  3. every source and header file outside tests, tools and benchmarks lies
     in some module's folder (with --partial, for a build that configures
     some modules only, files outside them are skipped);
  4. with --unbuilt: every .cc file is compiled by some target (a file
     nothing builds is dead code).

Tests may reach across (a test of zero/ may drive the whole engine), so
files named *_test.cc, *_fuzz.cc and those under testing/, testdata/,
tests/, bench/ and tools/ are only subject to check 4.

Prints one line per problem, `file:line: ...`, and exits 1 if there is any.
"""
import argparse
import json
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
GENERATED = {"dstrain.pb.h": "dstrain_proto", "dstrain.grpc.pb.h": "dstrain_proto"}
SKIP_DIRS = {".git", "__pycache__"}
TEST_DIRS = {"testing", "testdata"}
TOP_LEVEL_FREE = ("tests/", "bench/", "tools/", "configs/", "docs/", "deploy/")


def is_test_like(rel):
    if rel.startswith(TOP_LEVEL_FREE):
        return True
    parts = rel.split("/")
    if any(p in TEST_DIRS for p in parts[:-1]):
        return True
    name = parts[-1]
    return name.endswith(("_test.cc", "_fuzz.cc", "_bench.cc"))


def source_files(root):
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        dirnames[:] = sorted(
            d for d in dirnames
            if d not in SKIP_DIRS and not (rel_dir == "." and d.startswith("build"))
            and not d.startswith(".")
        )
        for f in sorted(filenames):
            if f.endswith((".h", ".cc")):
                rel = os.path.normpath(os.path.join(rel_dir, f))
                yield rel


class Graph:
    def __init__(self, data):
        self.modules = data["modules"]
        self.built = set(data.get("built", []))
        # Longest folder first, so worker/comm/bench wins over worker/comm.
        self.dirs = sorted(((m["dir"].rstrip("/"), name) for name, m in self.modules.items()),
                           key=lambda d: -len(d[0]))
        self._below = {}

    def owner(self, rel):
        for d, name in self.dirs:
            if d in ("", ".") or rel == d or rel.startswith(d + "/"):
                return name
        return None

    def below(self, name):
        """Every module `name` may include: its DEPS, transitively."""
        if name not in self._below:
            seen, stack = set(), list(self.modules[name]["deps"])
            while stack:
                d = stack.pop()
                if d in seen or d not in self.modules:
                    continue
                seen.add(d)
                stack.extend(self.modules[d]["deps"])
            self._below[name] = seen
        return self._below[name]

    def cycles(self):
        """Strongly connected components of more than one module (Tarjan)."""
        index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

        def visit(v):
            index[v] = low[v] = counter[0]
            counter[0] += 1
            stack.append(v)
            on.add(v)
            for w in self.modules[v]["deps"]:
                if w not in self.modules:
                    continue
                if w not in index:
                    visit(w)
                    low[v] = min(low[v], low[w])
                elif w in on:
                    low[v] = min(low[v], index[w])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1 or v in self.modules[v]["deps"]:
                    out.append(sorted(comp))

        sys.setrecursionlimit(10000)
        for v in sorted(self.modules):
            if v not in index:
                visit(v)
        return out


def unconfigured_module_folder(root, graph, rel, owner):
    """Whether `rel` lies in a folder below its owner's that declares a module
    of its own (a dstrain_module call in its CMakeLists.txt) which this build
    did not configure: common/rpc in an engine-only build."""
    owner_dir = graph.modules[owner]["dir"].rstrip("/")
    d = os.path.dirname(rel)
    while d and d != owner_dir:
        cml = os.path.join(root, d, "CMakeLists.txt")
        if os.path.exists(cml):
            with open(cml, errors="replace") as f:
                if "dstrain_module(" in f.read():
                    return True
        d = os.path.dirname(d)
    return False


def check(root, graph, unbuilt, partial=False):
    problems = []
    for comp in graph.cycles():
        problems.append("module graph: cycle between " + " <-> ".join(comp))
    for rel in source_files(root):
        if unbuilt and rel.endswith(".cc") and rel not in graph.built:
            problems.append(f"{rel}:1: no target compiles this file (dead code, or a "
                            "CMakeLists.txt that forgot it)")
        if is_test_like(rel):
            continue
        me = graph.owner(rel)
        if partial and (me is None or unconfigured_module_folder(root, graph, rel, me)):
            continue  # a module this build does not configure
        if me is None:
            problems.append(f"{rel}:1: lies in no module's folder (add it to a "
                            "dstrain_module in cmake)")
            continue
        allowed = graph.below(me) | {me}
        with open(os.path.join(root, rel), errors="replace") as f:
            for lineno, line in enumerate(f, 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                inc = m.group(1)
                if inc in GENERATED:
                    target = GENERATED[inc]
                elif "/" in inc and os.path.exists(os.path.join(root, inc)):
                    target = graph.owner(os.path.normpath(inc))
                    if target is None:
                        if is_test_like(inc):
                            problems.append(f"{rel}:{lineno}: includes test code {inc}")
                        continue
                else:
                    continue  # a system header, or one next to the file
                if target not in allowed:
                    problems.append(
                        f"{rel}:{lineno}: includes {inc} of {target}, which is not "
                        f"below {me} (it depends on: "
                        f"{', '.join(sorted(graph.below(me))) or 'nothing'})")
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", required=True, help="the source tree")
    ap.add_argument("--graph", required=True, help="module_graph.json from the build folder")
    ap.add_argument("--unbuilt", action="store_true",
                    help="also report .cc files that no target compiles")
    ap.add_argument("--partial", action="store_true",
                    help="the build configures some modules only "
                         "(DSTRAIN_ENGINE_ONLY): files outside them are skipped")
    args = ap.parse_args()
    with open(args.graph) as f:
        graph = Graph(json.load(f))
    problems = check(args.root, graph, args.unbuilt, args.partial)
    for p in problems:
        print(p)
    if problems:
        print(f"check_layers: {len(problems)} problem(s); the layers are drawn in "
              "docs/architecture.md", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
