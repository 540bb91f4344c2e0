#!/usr/bin/python3
"""A corrupt handoff.db is refused at start (issue 14 item 7, store open).

A real pipeline (broker, ingest, store) stores 600 leads; the store is stopped (its WAL is
checkpointed into handoff.db), then the pages of one index are overwritten with noise. The
store worker must refuse to start with an error naming SQLITE_CORRUPT and the file, instead
of starting and failing the writes one by one (they used to end in the quarantine as
retries_exhausted). A file that is not a database at all is named SQLITE_NOTADB. The same
steps with an intact file start the worker (the check does not refuse a good database)."""
import os
import random
import sqlite3
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import DEADLINE  # noqa: E402

LEADS = 600


class StoreCorrupt(unittest.TestCase):
    def setUp(self):
        self.pipe = harness.Pipeline(harness.temp_dir(self, "ho-corrupt-"), "ipc")
        self.addCleanup(self.pipe.close)
        self.pipe.write_config("routes:\n  lead.raw: ingest\n  lead.normalized: store\n")
        self.pipe.start("ingest", "store")
        csv = os.path.join(self.pipe.dir, "leads.csv")
        with open(csv, "w") as f:
            f.write("email,first_name,last_name,company,phone\n")
            for i in range(LEADS):
                f.write("p%d@corrupt-test.example,Pat%d,Quinn,Corrupt Co %d,+1555%07d\n"
                        % (i, i, i, i))
        out = subprocess.run(
            [self.pipe.bin, "import", "-c", self.pipe.config, "--source", "csv", csv],
            capture_output=True, text=True, timeout=DEADLINE * 4)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        harness.wait_for("leads stored", lambda: self.pipe.count(
            "SELECT count(*) FROM leads") == LEADS)
        self.pipe.stop_clean("store", timeout=DEADLINE)
        self.assertFalse(os.path.exists(self.pipe.db + "-wal") and
                         os.path.getsize(self.pipe.db + "-wal") > 0)

    def start_store(self):
        """The store worker's exit code after it opened its database (None: it runs)."""
        p = subprocess.Popen(self.pipe.worker_args("store"), stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
        try:
            text, _ = p.communicate(timeout=8)
        except subprocess.TimeoutExpired:
            p.kill()
            text, _ = p.communicate()
            return None, text
        return p.returncode, text

    def test_corrupt_pages_are_refused_at_start(self):
        # the pages of one index the store does not read when it starts: before the check,
        # it started and only the writes that touch the index failed, one by one
        con = sqlite3.connect(self.pipe.db)
        try:
            pages = [r[0] for r in con.execute(
                "SELECT pageno FROM dbstat WHERE name = 'lead_sources_lead'")]
            size = con.execute("PRAGMA page_size").fetchone()[0]
        finally:
            con.close()
        self.assertTrue(pages)
        rnd = random.Random(14)
        with open(self.pipe.db, "r+b") as f:
            for n in pages:
                f.seek((n - 1) * size)
                f.write(bytes(rnd.getrandbits(8) for _ in range(size)))
        code, text = self.start_store()
        self.assertIsNotNone(code, "the store started on a corrupt database:\n" + text)
        self.assertNotEqual(code, 0, text)
        self.assertIn("SQLITE_CORRUPT", text)
        self.assertIn("handoff.db", text)
        self.assertIn("quick_check", text)

    def test_not_a_database_is_named(self):
        with open(self.pipe.db, "r+b") as f:
            f.write(b"this is no SQLite file, no no")
        code, text = self.start_store()
        self.assertIsNotNone(code, "the store started on a garbage file:\n" + text)
        self.assertNotEqual(code, 0, text)
        self.assertIn("SQLITE_NOTADB", text)

    def test_intact_database_starts(self):
        code, text = self.start_store()
        self.assertIsNone(code, text)


if __name__ == "__main__":
    unittest.main()
