#!/usr/bin/python3
"""`handoff worker NAME --help` prints the worker's config map from its descriptor, and the
shipped deploy/handoff.yaml sets no key a worker does not declare (each workers.NAME key is in
that worker's --help), so the file's comment "see `handoff worker NAME --help`" stays true.

Run: HO_BIN=build/handoff /usr/bin/python3 tests/integration/test_worker_help.py
"""
import os
import re
import sys
import unittest

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def settings(name):
    r = harness.run(["worker", name, "--help"])
    assert r.returncode == 0, r.stderr
    text = r.stdout.split("Settings of %s (workers.%s in handoff.yaml):\n" % (name, name))
    assert len(text) == 2, r.stdout
    rows = {}
    for line in text[1].splitlines():
        m = re.match(r"^  (\S+)\s+(string|integer|number|bool)\s+default (\S+)\s+(.+)$", line)
        if m:
            rows[m.group(1)] = (m.group(2), m.group(3), m.group(4))
    return rows, text[1]


class WorkerHelp(unittest.TestCase):
    def test_outbox_map(self):
        rows, _ = settings("outbox")
        self.assertEqual(rows["max_attempts"][:2], ("integer", "8"))
        self.assertEqual(rows["webhook_url"][:2], ("string", '""'))
        self.assertIn("data_dir", rows["dir"][2])

    def test_a_worker_without_settings_says_so(self):
        _, text = settings("ingest")
        self.assertIn("(none)", text)

    def test_every_shipped_setting_is_declared(self):
        with open(os.path.join(harness.source_dir(), "deploy", "handoff.yaml")) as f:
            conf = yaml.safe_load(f)
        listed = harness.run(["worker", "--list"]).stdout.split()
        for name, keys in (conf.get("workers") or {}).items():
            self.assertIn(name, listed)
            rows, _ = settings(name)
            for key in keys or {}:
                self.assertIn(key, rows, "workers.%s.%s is not in its --help" % (name, key))

    def test_help_of_an_unknown_worker_is_the_usage(self):
        r = harness.run(["worker", "nosuch", "--help"])
        self.assertEqual(r.returncode, 0)
        self.assertIn("usage: handoff worker", r.stdout)
        self.assertNotIn("Settings of", r.stdout)


if __name__ == "__main__":
    unittest.main()
