#!/usr/bin/python3
"""A full disk is a transient fault, not a fact about the records (bench/README.md "Soak": the
records that reached the store while the disk was full were quarantined as
`retries_exhausted` after the import had exited 0).

`handoff broker` + `handoff worker ingest` + `handoff worker store` with their data dir on a
real 16 MB tmpfs (mounted by the test: run as root). A first import is stored; then the tmpfs
is filled to the last byte (ENOSPC -> SQLITE_FULL in the store), a second import of 300 new
leads is sent (the broker takes it: exit 0), the store is seen refusing the work (its log says
it keeps the request and retries), the filler is removed, and then every lead of both imports
is in handoff.db exactly once and nothing is in the quarantine (no `retries_exhausted`, no
`worker_error`).

Run (root): HO_BIN=build/handoff /usr/bin/python3 tests/integration/test_store_disk_full.py
"""
import csv
import errno
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import wait_for  # noqa: E402

DEADLINE = 120.0
TMPFS_MB = 16


def write_leads(path, tag, n):
    emails = []
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["email", "first_name", "last_name", "company", "title", "country"])
        for i in range(n):
            email = "%s-%04d@full%02d.example" % (tag, i, i % 50)
            w.writerow([email, "Pat%d" % i, tag.title(), "Full Co %02d" % (i % 50),
                        "VP Data Engineering", "US"])
            emails.append(email)
    return emails


def fill(folder):
    """Write a filler file until the file system says ENOSPC; its path."""
    path = os.path.join(folder, "filler")
    chunk = b"\0" * 65536
    with open(path, "wb", buffering=0) as f:
        while True:
            try:
                f.write(chunk)
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
                break
        # the last bytes too: a smaller write may still fit
        for size in (4096, 512, 1):
            while True:
                try:
                    f.write(b"\0" * size)
                except OSError as e:
                    if e.errno != errno.ENOSPC:
                        raise
                    break
    return path


@unittest.skipUnless(os.geteuid() == 0, "mounts a tmpfs: needs root (SKIPPED, not passed)")
class DiskFull(unittest.TestCase):
    def setUp(self):
        self.dir = harness.temp_dir(self, "ho-disk-full-")
        self.pipe = harness.Pipeline(self.dir, deadline=DEADLINE)
        os.makedirs(self.pipe.data)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%dm" % TMPFS_MB, "tmpfs",
                        self.pipe.data], check=True)
        self.addCleanup(subprocess.run, ["umount", "-l", self.pipe.data])
        self.addCleanup(self.pipe.close)
        self.config = self.pipe.write_config(
            "routes:\n  lead.raw: ingest\n  lead.normalized: store\n  quarantine: store\n")
        self.pipe.start("ingest", "store")

    def imp(self, path):
        return self.pipe.run(["import", "-c", self.config, "--source", "csv", "--no-wait",
                              path])

    def test_full_disk_keeps_the_work_until_there_is_space(self):
        first = write_leads(os.path.join(self.dir, "first.csv"), "first", 50)
        r = self.imp(os.path.join(self.dir, "first.csv"))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        wait_for("the first 50 leads", lambda: self.pipe.count(
            "SELECT count(*) FROM leads") == 50, DEADLINE)

        filler = fill(self.pipe.data)
        second = write_leads(os.path.join(self.dir, "second.csv"), "second", 300)
        # the broker's journal is on the full disk too: it routes the records but withholds
        # the import's acknowledgement until a commit succeeds, so the import runs meanwhile
        imp = subprocess.Popen([os.environ["HO_BIN"], "import", "-c", self.config, "--source",
                                "csv", "--no-wait", os.path.join(self.dir, "second.csv")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: imp.poll() is None and imp.kill())
        # the store cannot write: it keeps the request and retries (it does not answer it,
        # so the broker keeps it too)
        # (before: "quarantining the input" with retries_exhausted after 4 attempts)
        log = wait_for("the store failing on the full disk", lambda: any(
            s in self.pipe.log("store") for s in ("keeping it and retrying",
                                                  "quarantining the input")) and
            self.pipe.log("store"), DEADLINE)
        self.assertNotIn("quarantining the input", log)

        os.unlink(filler)  # space again
        out, err = imp.communicate(timeout=DEADLINE)
        self.assertEqual(imp.returncode, 0, out + err)
        wait_for("all 350 leads stored", lambda: self.pipe.count(
            "SELECT count(*) FROM leads") == 350, DEADLINE)
        rows = self.pipe.query("SELECT email, count(*) FROM leads GROUP BY email")
        self.assertEqual(sorted(e for e, _ in rows), sorted(first + second))
        self.assertTrue(all(n == 1 for _, n in rows))
        self.assertEqual(self.pipe.query("SELECT code, count(*) FROM quarantine GROUP BY code"),
                         [])
        self.assertIsNone(self.pipe.proc("store").poll(), self.pipe.log("store"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
