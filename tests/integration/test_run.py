#!/usr/bin/python3
"""`handoff run`, the embedded default: the supervisor of the broker and one of each worker.

Asserts:
- `run --demo --once` (fixed seed and clock, ipc endpoint, temporary data dir) exits 0, its
  import lines equal the generator's manifest, it prints `workbook: PATH` last, and the
  workbook opens in openpyxl with the seven sheets whose Summary numbers equal an independent
  SQL count over the SQLite file the store worker wrote; every child process is gone after;
- a worker killed with SIGKILL is restarted by the supervisor and registers again;
- the store receives the supervisor's clock ticks;
- Ctrl-C (SIGINT to the whole process group, as a terminal sends it) and SIGTERM to the
  supervisor alone both stop every child cleanly: exit 0, nothing had to be SIGKILLed;
- usage errors exit 2 (--scorers 0 is valid now: see test_run_parts.py), a missing config file exits 1 naming the file, --help exits 0.

Run: HO_BIN=build/handoff /usr/bin/python3 tests/integration/test_run.py
"""
import calendar
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time
import unittest

import openpyxl

HO_BIN = os.environ.get("HO_BIN", os.path.join(os.getcwd(), "handoff"))
DEADLINE = 60.0
SHEETS = ["Summary", "Funnel", "Sources", "Lost reasons", "Lost and rejected", "Reps",
          "Calibration", "Learnings", "Handoffs", "Data quality", "Definitions"]
WORKERS = ["ingest", "store", "score", "route", "feedback", "report", "outbox"]


def wait_for(what, fn, deadline=DEADLINE):
    end = time.time() + deadline
    last = None
    while time.time() < end:
        last = fn()
        if last:
            return last
        time.sleep(0.1)
    raise AssertionError("timed out waiting for %s (last: %r)" % (what, last))


def procs_with(marker):
    """pid -> argv of every live process whose command line contains marker."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                argv = [a.decode("utf-8", "replace") for a in f.read().split(b"\0") if a]
            with open("/proc/%s/stat" % d) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and any(marker in a for a in argv):
            out[int(d)] = argv
    return out


def ms(text):
    return calendar.timegm(time.strptime(text, "%Y-%m-%d")) * 1000


class RunTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ho-run-")
        self.endpoint = "ipc://%s/broker.ipc" % self.dir
        self.data = os.path.join(self.dir, "data")
        self.proc = None

    def tearDown(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for pid in procs_with(self.dir):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)

    def start(self, *args):
        self.proc = subprocess.Popen(
            [HO_BIN, "run", "--endpoint", self.endpoint, "--data-dir", self.data] + list(args),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        line = self.proc.stdout.readline()
        self.assertTrue(line.startswith("run ready "), repr(line))
        return line

    def status(self):
        r = subprocess.run([HO_BIN, "status", "--connect", self.endpoint, "--json",
                            "--timeout", "20000", "--data-dir", self.data],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def service(self, st, name):
        for s in st["services"]:
            if s["name"] == name:
                return s
        return {}

    def children(self):
        return {pid: argv for pid, argv in procs_with(self.dir).items() if pid != self.proc.pid}

    def finish(self, sig, to_group):
        if to_group:
            os.killpg(self.proc.pid, sig)
        else:
            self.proc.send_signal(sig)
        out, err = self.proc.communicate(timeout=DEADLINE)
        return out, err

    def test_demo_once_writes_the_workbook_from_the_database(self):
        r = subprocess.run([HO_BIN, "run", "--demo", "--once", "--seed", "7", "--leads", "240",
                            "--now", "2026-11-23T00:00:00Z", "--endpoint", self.endpoint,
                            "--data-dir", self.data], capture_output=True, text=True,
                           timeout=600)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        lines = r.stdout.strip().splitlines()
        self.assertTrue(lines[0].startswith("run ready endpoint=%s " % self.endpoint), lines[0])
        self.assertRegex(lines[-1], r"^run stopped restarts=0 killed=0$")
        m = re.search(r"^workbook: (\S+)$", r.stdout, re.M)
        self.assertIsNotNone(m, r.stdout)
        path = m.group(1)
        self.assertEqual(path, os.path.join(os.path.realpath(self.data), "reports",
                                            "handoff-2026-W47.xlsx"))
        self.assertRegex(r.stdout, r"(?m)^run report week=2026-W47 leads=\d+ path=%s$" %
                         re.escape(path))

        # the import summary of the lead files equals what the generator says it wrote
        with open(os.path.join(self.data, "demo", "manifest.json")) as f:
            man = json.load(f)
        want = man["import_all_leads"]
        m = re.search(r"^import total files=4 read=(\d+) accepted=(\d+) skipped=0 "
                      r"quarantined=(\d+) new=(\d+) merged=(\d+) check=ok$", r.stdout, re.M)
        self.assertIsNotNone(m, r.stdout)
        self.assertEqual([int(x) for x in m.groups()],
                         [want["read"], want["accepted"], want["quarantined"],
                          want["accepted"] - want["duplicates"], want["duplicates"]])

        db = sqlite3.connect("file:%s/handoff.db?mode=ro" % self.data, uri=True)
        q = lambda sql, *a: db.execute(sql, a).fetchone()[0]
        self.assertEqual(q("SELECT count(*) FROM leads"),
                         man["people_in_lead_files"]["distinct_emails"])
        self.assertGreater(q("SELECT count(*) FROM activities"), 0)
        self.assertGreater(q("SELECT count(*) FROM outcomes"), 0)

        # the workbook: seven sheets, Summary numbers recomputed in SQL (reports/README.md)
        wb = openpyxl.load_workbook(path)
        self.assertEqual(wb.sheetnames, SHEETS)
        ws = wb["Summary"]
        rows = {row[0]: row for row in ws.iter_rows(values_only=True) if row and row[0]}
        self.assertEqual(rows["Metric"][1:3], ("2026-W47", "2026-W46"))
        start, end = ms("2026-11-16"), ms("2026-11-23")
        prev = start - 7 * 86400000
        for metric, t0, t1, col in (("Leads", start, end, 1), ("Leads", prev, start, 2)):
            self.assertEqual(rows[metric][col],
                             q("SELECT count(*) FROM leads WHERE created_at >= ? AND "
                               "created_at < ?", t0, t1), metric)
        for metric, stage in (("MQLs", "MQL"), ("SALs", "SAL"), ("SQLs", "SQL"),
                              ("Won", "WON")):
            self.assertEqual(rows[metric][1],
                             q("SELECT count(DISTINCT lead_id) FROM stage_history WHERE "
                               "kind = 'transition' AND to_stage = ? AND at >= ? AND at < ?",
                               stage, start, end), metric)
        self.assertGreater(rows["Leads"][1], 0)
        db.close()

        # nothing of the run is left behind
        self.assertEqual(procs_with(self.dir), {})

    def test_restarts_a_killed_worker_ticks_and_stops_on_ctrl_c(self):
        self.start("--tick", "1", "--scorers", "2")
        kids = wait_for("7 workers + 2nd scorer + broker", lambda: len(self.children()) == 9
                        and self.children())
        st = self.status()
        for name in WORKERS:
            self.assertEqual(self.service(st, name).get("workers"),
                             2 if name == "score" else 1, name)
        # the store gets ticks from the supervisor's clock
        wait_for("two ticks at the store",
                 lambda: self.service(self.status(), "store").get("requests", 0) >= 2,
                 deadline=30)

        victim = [pid for pid, argv in kids.items() if argv[1:3] == ["worker", "route"]]
        self.assertEqual(len(victim), 1, kids)
        os.kill(victim[0], signal.SIGKILL)
        line = self.proc.stdout.readline()
        self.assertRegex(line, r"^run restarted worker\.route pid=(\d+) restarts=1$")
        new_pid = int(re.search(r"pid=(\d+)", line).group(1))
        self.assertNotEqual(new_pid, victim[0])
        # (right after fork, and while it execs, /proc shows a child's command line briefly
        # as the parent's or empty: wait for it to read as the route worker)
        wait_for("the new route worker process", lambda: self.children().get(
            new_pid, [None])[1:3] == ["worker", "route"], deadline=30)
        wait_for("route registered again", lambda: any(
            w["service"] == "route" for w in self.status()["workers"]) and True, deadline=30)

        out, err = self.finish(signal.SIGINT, to_group=True)
        self.assertEqual(self.proc.returncode, 0, out + err)
        self.assertRegex(out, r"(?m)^run stopped signal=INT restarts=1 killed=0$")
        self.assertNotIn("SIGKILL", err)
        self.assertEqual(procs_with(self.dir), {})

    def test_sigterm_to_the_supervisor_alone_stops_every_child(self):
        self.start("--tick", "0")
        wait_for("broker + 7 workers", lambda: len(self.children()) == 8)
        out, err = self.finish(signal.SIGTERM, to_group=False)
        self.assertEqual(self.proc.returncode, 0, out + err)
        self.assertRegex(out, r"(?m)^run stopped signal=TERM restarts=0 killed=0$")
        self.assertEqual(procs_with(self.dir), {})

    def test_a_worker_that_cannot_start_is_named_and_the_run_ends(self):
        src = os.environ.get("HO_SOURCE_DIR",
                             os.path.join(os.path.dirname(__file__), "..", ".."))
        conf = os.path.join(self.dir, "conf")
        shutil.copytree(os.path.join(src, "deploy"), conf)
        with open(os.path.join(conf, "scoring.yaml"), "a") as f:
            f.write("\nnot_a_model_key: 1\n")
        r = subprocess.run([HO_BIN, "run", "-c", os.path.join(conf, "handoff.yaml"),
                            "--endpoint", self.endpoint, "--data-dir", self.data,
                            "--ready-timeout", "3", "--tick", "0"],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("missing: score (their errors are above)", r.stderr)
        self.assertIn(os.path.join(conf, "scoring.yaml"), r.stderr)  # the worker's own error
        self.assertIn("not_a_model_key", r.stderr)
        self.assertRegex(r.stdout, r"(?m)^run stopped restarts=[1-9]\d* killed=0$")
        self.assertNotIn("run ready", r.stdout)
        self.assertEqual(procs_with(self.dir), {})

    def test_usage_and_config_errors(self):
        r = subprocess.run([HO_BIN, "run", "--help"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0)
        self.assertIn("usage: handoff run", r.stdout)
        for bad in (["--bogus"], ["--seed", "5"], ["--scorers", "33"], ["--tick", "x"],
                    ["extra"], ["--demo", "--now", "yesterday"]):
            r = subprocess.run([HO_BIN, "run"] + bad, capture_output=True, text=True,
                               timeout=30)
            self.assertEqual(r.returncode, 2, (bad, r.stderr))
            self.assertTrue(r.stderr.strip(), bad)
            self.assertEqual(r.stdout, "", bad)
        missing = os.path.join(self.dir, "nope.yaml")
        r = subprocess.run([HO_BIN, "run", "-c", missing, "--data-dir", self.data],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertIn(missing, r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
