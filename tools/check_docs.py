#!/usr/bin/env python3
"""Fails when a file of the repository points its reader at something the
repository does not hold: a design document's sections (`§3.2`,
`DESIGN.md`), issue numbers (`issue 12`, `#123` of this project), or a
Markdown link to a file that does not exist.

Usage: check_docs.py [ROOT]   (default: the repository holding this file)
Prints one line per finding, `path:line: what`, and exits 1 if any.
"""
import os
import re
import sys

CHECKED = ('.md', '.h', '.cc', '.py', '.txt', '.cmake', '.sh', '.yaml',
           '.proto')
SKIP_DIRS = {'.git', 'build', 'runs', '.cache', 'third_party'}

PATTERNS = [
    (re.compile(r'§\s*\d'), 'cites a numbered section of a document'),
    (re.compile(r'DESIGN\.md|design doc(ument)?\b', re.I),
     'cites a design document that is not in the repository'),
    (re.compile(r'\b[Ii]ssue\s+#?\d+\b'), 'cites an issue number'),
]
LINK = re.compile(r'\]\(([^)#\s]+)(#[^)\s]*)?\)')


def findings(root):
    me = os.path.relpath(os.path.abspath(__file__), root)
    for d, dirs, files in os.walk(root):
        # Hidden folders (.git, .gpu-deps) and build folders (build,
        # build-gpu) hold what the repository does not.
        dirs[:] = [x for x in dirs if x not in SKIP_DIRS
                   and not x.startswith(('.', 'build'))]
        for name in files:
            if not name.endswith(CHECKED) and name != 'CMakeLists.txt':
                continue
            path = os.path.join(d, name)
            rel = os.path.relpath(path, root)
            if rel == me or rel.startswith('tools/check_docs_test'):
                continue
            try:
                text = open(path, encoding='utf-8').read()
            except (UnicodeDecodeError, OSError):
                continue
            for n, line in enumerate(text.splitlines(), 1):
                for pattern, what in PATTERNS:
                    if pattern.search(line):
                        yield f'{rel}:{n}: {what}: {line.strip()[:100]}'
                if name.endswith('.md'):
                    for m in LINK.finditer(line):
                        target = m.group(1)
                        if re.match(r'[a-z]+:', target):
                            continue  # a URL
                        if not os.path.exists(os.path.join(d, target)):
                            yield f'{rel}:{n}: links to {target}, which does not exist'


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(
        os.path.dirname(os.path.abspath(__file__)))
    found = list(findings(root))
    for f in found:
        print(f)
    return 1 if found else 0


if __name__ == '__main__':
    sys.exit(main())
