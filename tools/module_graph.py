#!/usr/bin/env python3
"""Draws the module graph CMake wrote (<build>/module_graph.json) as a
Mermaid flowchart, with the layers from the bottom up and only the edges
that are not implied by others (the transitive reduction), for
docs/architecture.md:

    python3 tools/module_graph.py build/module_graph.json

With --check FILE it prints nothing and exits 1 unless FILE holds exactly
this drawing (the test that keeps docs/architecture.md true).
"""
import json
import sys


def main():
    args = sys.argv[1:]
    check = None
    if "--check" in args:
        i = args.index("--check")
        check = args[i + 1]
        del args[i:i + 2]
    path = args[0] if args else "build/module_graph.json"
    lines = draw(path)
    if check is None:
        print("\n".join(lines))
        return 0
    with open(check) as f:
        if "\n".join(lines) + "\n" in f.read():
            return 0
    print(f"{check} does not hold the current module graph; redraw it with "
          f"python3 tools/module_graph.py {path}", file=sys.stderr)
    return 1


def draw(path):
    out = []
    print = out.append
    with open(path) as f:
        modules = json.load(f)["modules"]
    deps = {m: set(d for d in v["deps"] if d in modules) for m, v in modules.items()}

    closure = {}

    def below(m):
        if m not in closure:
            out = set()
            for d in deps[m]:
                out |= {d} | below(d)
            closure[m] = out
        return closure[m]

    # Layer = length of the longest path down to a module with no deps.
    layer = {}

    def depth(m):
        if m not in layer:
            layer[m] = 1 + max((depth(d) for d in deps[m]), default=-1)
        return layer[m]

    for m in modules:
        depth(m)
    short = lambda m: m[len("dstrain_"):] if m.startswith("dstrain_") else m
    print("```mermaid")
    print("flowchart BT")
    for level in sorted(set(layer.values())):
        names = sorted(m for m in modules if layer[m] == level)
        print(f"  subgraph L{level}[\"layer {level}\"]")
        for m in names:
            print(f"    {short(m)}[\"{short(m)}<br/><small>{modules[m]['dir']}</small>\"]")
        print("  end")
    for m in sorted(modules):
        for d in sorted(deps[m]):
            # Keep d only if no other dependency already reaches it.
            if any(d in below(o) for o in deps[m] if o != d):
                continue
            print(f"  {short(m)} --> {short(d)}")
    print("```")
    return out


if __name__ == "__main__":
    sys.exit(main())
