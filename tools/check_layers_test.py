#!/usr/bin/env python3
"""Tests of tools/check_layers.py: it passes a tree whose includes go down
the module graph, and fails, naming file, line and modules, on an upward
include, a cycle in the graph, a file outside every module and a source
file nothing builds. Run: python3 tools/check_layers_test.py
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
CHECK = os.path.join(HERE, "check_layers.py")

GRAPH = {
    "modules": {
        "dstrain_base": {"dir": "common", "deps": []},
        "dstrain_comm": {"dir": "worker/comm", "deps": ["dstrain_base"]},
        "dstrain_zero": {"dir": "worker/zero", "deps": ["dstrain_comm"]},
        "dstrain_engine": {"dir": "worker/engine", "deps": ["dstrain_zero"]},
    },
    "built": ["common/status.cc", "worker/comm/comm.cc",
              "worker/zero/zero.cc", "worker/zero/zero_test.cc",
              "worker/engine/trainer.cc"],
}

FILES = {
    "common/status.h": "#pragma once\n",
    "common/status.cc": '#include "common/status.h"\n',
    "worker/comm/comm.h": '#pragma once\n#include "common/status.h"\n',
    "worker/comm/comm.cc": '#include "worker/comm/comm.h"\n',
    "worker/zero/zero.h": '#pragma once\n#include "worker/comm/comm.h"\n',
    "worker/zero/zero.cc": '#include "worker/zero/zero.h"\n#include <vector>\n',
    "worker/zero/zero_test.cc": '#include "worker/engine/trainer.h"\n',
    "worker/engine/trainer.h": '#pragma once\n#include "worker/zero/zero.h"\n',
    "worker/engine/trainer.cc": '#include "worker/engine/trainer.h"\n',
}


class CheckLayersTest(unittest.TestCase):
    def run_check(self, files, graph, *flags):
        with tempfile.TemporaryDirectory() as root:
            for rel, text in files.items():
                path = os.path.join(root, rel)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w") as f:
                    f.write(text)
            graph_path = os.path.join(root, "graph.json")
            with open(graph_path, "w") as f:
                json.dump(graph, f)
            p = subprocess.run(
                [sys.executable, CHECK, "--root", root, "--graph", graph_path, *flags],
                capture_output=True, text=True)
            return p.returncode, p.stdout

    def test_includes_that_go_down_pass(self):
        rc, out = self.run_check(FILES, GRAPH, "--unbuilt")
        self.assertEqual(rc, 0, out)
        self.assertEqual(out, "")

    def test_an_upward_include_fails_naming_the_place(self):
        files = dict(FILES)
        files["worker/zero/zero.cc"] = ('#include "worker/zero/zero.h"\n'
                                        '#include "worker/engine/trainer.h"\n')
        rc, out = self.run_check(files, GRAPH)
        self.assertEqual(rc, 1)
        self.assertIn("worker/zero/zero.cc:2: includes worker/engine/trainer.h of "
                      "dstrain_engine, which is not below dstrain_zero", out)

    def test_a_cycle_in_the_graph_fails(self):
        graph = json.loads(json.dumps(GRAPH))
        graph["modules"]["dstrain_comm"]["deps"].append("dstrain_engine")
        rc, out = self.run_check(FILES, graph)
        self.assertEqual(rc, 1)
        self.assertIn("module graph: cycle between dstrain_comm <-> dstrain_engine "
                      "<-> dstrain_zero", out)

    def test_a_file_outside_every_module_fails(self):
        files = dict(FILES)
        files["worker/stray.h"] = "#pragma once\n"
        rc, out = self.run_check(files, GRAPH)
        self.assertEqual(rc, 1)
        self.assertIn("worker/stray.h:1: lies in no module's folder", out)

    def test_a_partial_build_skips_files_outside_its_modules(self):
        files = dict(FILES)
        files["stray/lost.cc"] = '#include "base/status.h"\n'
        rc, out = self.run_check(files, GRAPH, "--partial")
        self.assertEqual(rc, 0, out)

    def test_a_source_nothing_builds_fails_with_unbuilt(self):
        files = dict(FILES)
        files["worker/comm/dead.cc"] = '#include "worker/comm/comm.h"\n'
        rc, _ = self.run_check(files, GRAPH)
        self.assertEqual(rc, 0)
        rc, out = self.run_check(files, GRAPH, "--unbuilt")
        self.assertEqual(rc, 1)
        self.assertIn("worker/comm/dead.cc:1: no target compiles this file", out)


if __name__ == "__main__":
    unittest.main()
