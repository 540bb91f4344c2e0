#!/usr/bin/python3
"""store.yaml / workers.store `durability` and `cache_mb` reach SQLite in a real store worker
process.

`handoff worker store` opens its database and logs the PRAGMA synchronous it reads back
from its own connection (another connection has its own setting, so only the store can say):
  - no setting: durability normal, synchronous=1 (NORMAL);
  - workers.store durability: full in handoff.yaml: synchronous=2 (FULL);
  - durability: full in the config folder's store.yaml: synchronous=2;
  - a value other than normal|full: the worker does not start, the error names the file,
    line and key;
  - cache_mb: 64 MB by default, what workers.store or store.yaml says otherwise (PRAGMA
    cache_size read back, on the same line), 0 refused naming file, line and key.
The worker needs no broker to open its database; it is stopped with SIGTERM (its own pid).

Run: HO_BIN=build/handoff /usr/bin/python3 tests/integration/test_store_durability.py
"""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

HO_BIN = os.environ.get("HO_BIN", os.path.join(os.getcwd(), "handoff"))


class StoreDurabilityTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ho-durab-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def config(self, store_settings="", store_yaml=None):
        conf = os.path.join(self.dir, "conf")
        os.makedirs(conf, exist_ok=True)
        with open(os.path.join(conf, "handoff.yaml"), "w") as fh:
            fh.write("data_dir: %s/data\nbroker:\n  endpoint: ipc://%s/b.ipc\n"
                     % (self.dir, self.dir))
            if store_settings:
                fh.write("workers:\n  store:\n%s" % store_settings)
        if store_yaml is not None:
            with open(os.path.join(conf, "store.yaml"), "w") as fh:
                fh.write(store_yaml)
        return os.path.join(conf, "handoff.yaml")

    def synchronous(self, conf, cache=False):
        """Start the store worker, read its durability line, stop it."""
        proc = subprocess.Popen([HO_BIN, "worker", "store", "-c", conf],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=dict(os.environ, HO_LOG_LEVEL="info"))
        try:
            line = ""
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                line = proc.stderr.readline()
                if not line or "durability" in line:
                    break
            m = re.search(r"store: \S+/data/handoff\.db durability (\w+) \(synchronous=(\d)\)"
                          r" cache_mb=(\d+)", line)
            self.assertIsNotNone(m, line)
            if cache:
                return int(m.group(3))
            return m.group(1), int(m.group(2))
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            try:
                proc.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()

    def test_default_is_normal(self):
        self.assertEqual(self.synchronous(self.config()), ("normal", 1))

    def test_full_from_handoff_yaml(self):
        self.assertEqual(self.synchronous(self.config("    durability: full\n")), ("full", 2))

    def test_full_from_store_yaml(self):
        conf = self.config(store_yaml="plus_addressing: keep\ndurability: full\n")
        self.assertEqual(self.synchronous(conf), ("full", 2))

    def refused(self, conf):
        """The store worker does not start with this config: its stderr."""
        r = subprocess.run([HO_BIN, "worker", "store", "-c", conf], capture_output=True,
                           text=True, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        return r.stderr

    def test_bad_value_refused_with_file_line_key(self):
        self.assertRegex(self.refused(self.config("    durability: sometimes\n")),
                         r"handoff\.yaml:6: (workers\.store\.)?durability: "
                         r"expected normal or full")

    def test_cache_mb(self):
        self.assertEqual(self.synchronous(self.config(), cache=True), 64)
        self.assertEqual(self.synchronous(self.config("    cache_mb: 200\n"), cache=True), 200)
        conf = self.config(store_yaml="plus_addressing: keep\ncache_mb: 96\n")
        self.assertEqual(self.synchronous(conf, cache=True), 96)

    def test_cache_mb_out_of_range_refused(self):
        self.assertRegex(self.refused(self.config("    cache_mb: 0\n")),
                         r"handoff\.yaml:6: (workers\.store\.)?cache_mb: expected 1-16384")


if __name__ == "__main__":
    unittest.main()
