#!/usr/bin/env python3
"""check_docs.py finds what it promises in a small tree, and nothing in a
clean one."""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CHECK = os.path.join(HERE, 'check_docs.py')


def run(files):
    with tempfile.TemporaryDirectory() as root:
        for path, text in files.items():
            full = os.path.join(root, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, 'w', encoding='utf-8') as f:
                f.write(text)
        r = subprocess.run([sys.executable, CHECK, root], capture_output=True,
                           text=True)
        return r.returncode, r.stdout


def main():
    failures = []
    rc, out = run({'docs/a.md': 'See [b](b.md).\n', 'docs/b.md': 'ok\n',
                   'x/y.h': '// Loads a job file (configs/README.md).\n'})
    if rc != 0:
        failures.append(f'a clean tree was refused: {out}')
    for path, text, want in [
        ('x/y.h', '// The job file (DESIGN §4).\n', 'numbered section'),
        ('x/y.cc', '// see DESIGN.md\n', 'design document'),
        ('docs/a.md', 'Fixed in issue 19.\n', 'issue number'),
        ('docs/a.md', 'See [gone](gone.md).\n', 'does not exist'),
    ]:
        rc, out = run({path: text})
        if rc != 1 or want not in out or f'{path}:1:' not in out:
            failures.append(f'{path} with {text!r}: rc {rc}, output {out!r}')
    for f in failures:
        print(f)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
