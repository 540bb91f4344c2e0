#!/usr/bin/python3
"""The CLI an operator expects (issue 16), against a real pipeline's data dir.

Asserts:
- `handoff imprt` exits 2 with "did you mean import?"; misspelt options of run, status and
  outbox name the option meant; a word far from every command gets the plain usage;
- `handoff --version` names the version, the git revision and the linked libraries; the
  SQLite version is the one Python's sqlite3 module loads from the same system library;
- `handoff config check` passes the shipped configs (one 'config ok' per file) and, on a copy
  with a bad value, a bad profile and a bad webhook.yaml, exits 1 with one error per file
  naming file:line and key, while the good files still report ok;
- bash completion (generated from --help) completes commands, options and subcommands; the
  man page of `run` renders with `man -l` and documents --only;
- on the data dir of `run --demo --once`: `outbox list` counts the packet files in
  data/outbox (no CRM webhook configured, so no deliveries), `--files` names each one;
  `lead` shows an SLA-breach reason's deadline as an ISO time, never epoch milliseconds;
  `report --week` of a future week warns, of a past week does not;
- `dlq replay` and `forget` fail with a hint naming the endpoint when no broker answers, and
  name the missing `store` worker when the broker runs without one.

Run: HO_BIN=build/handoff /usr/bin/python3 tests/integration/test_cli_ops.py
"""
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

HO_BIN = os.environ["HO_BIN"]
SRC = harness.source_dir()
BUILD = os.path.dirname(os.path.abspath(HO_BIN))


def ho(*args, timeout=120, **kw):
    return subprocess.run([HO_BIN] + list(args), capture_output=True, text=True,
                          timeout=timeout, **kw)


class CliOpsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="ho-cliops-")
        cls.data = os.path.join(cls.dir, "data")
        r = ho("run", "--demo", "--once", "--leads", "80", "--endpoint",
               "ipc://%s/broker.ipc" % cls.dir, "--data-dir", cls.data, timeout=600)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "workbook: " in r.stdout

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_did_you_mean(self):
        r = ho("imprt", "x.csv")
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown command 'imprt', did you mean import?", r.stderr)
        r = ho("frobnicate")
        self.assertEqual(r.returncode, 2)
        self.assertNotIn("did you mean", r.stderr)
        self.assertIn("usage: handoff COMMAND", r.stderr)
        for args, hint in ((["run", "--scorrers", "2"], "did you mean --scorers?"),
                           (["status", "--jsn"], "did you mean --json?"),
                           (["outbox", "lst"], "did you mean list?"),
                           (["outbox", "list", "--fils"], "did you mean --files?")):
            r = ho(*args)
            self.assertEqual(r.returncode, 2, args)
            self.assertIn(hint, r.stderr, args)

    def test_version(self):
        r = ho("--version")
        self.assertEqual(r.returncode, 0)
        lines = r.stdout.splitlines()
        self.assertRegex(lines[0], r"^handoff \d+\.\d+\.\d+ \(git [\w.-]+\)$")
        libs = dict(l.split(" ", 1) for l in lines[1:])
        for name in ("libzmq", "czmq", "sqlite", "msgpack-c", "libxlsxwriter"):
            self.assertRegex(libs[name], r"^\d+\.\d+(\.\d+)*$", name)
        self.assertEqual(libs["sqlite"], sqlite3.sqlite_version)

    def test_config_check(self):
        r = ho("config", "check", "-c", os.path.join(SRC, "deploy", "handoff.yaml"))
        self.assertEqual(r.returncode, 0, r.stderr)
        ok = re.findall(r"^config ok file=(\S+)$", r.stdout, re.M)
        for name in ("scoring.yaml", "routing.yaml", "reasons.yaml", "lifecycle.yaml",
                     "store.yaml", "webhook.yaml", "profiles/hubspot.yaml"):
            self.assertIn(name, ok)
        self.assertIn("errors=0", r.stdout)

        conf = os.path.join(self.dir, "conf")
        shutil.copytree(os.path.join(SRC, "deploy"), conf)
        path = os.path.join(conf, "scoring.yaml")
        with open(path) as f:
            lines = f.read().split("\n")
        i = next(i for i, l in enumerate(lines) if re.match(r"^  floor: \d+", l))
        lines[i] = "  floor: ten"
        with open(path, "w") as f:
            f.write("\n".join(lines))
        with open(os.path.join(conf, "profiles", "broken.yaml"), "w") as f:
            f.write("name: broken\nkind: lead\ncolumns: [\n")
        with open(os.path.join(conf, "webhook.yaml"), "a") as f:
            f.write("listen: [1, 2]\n")
        r = ho("config", "check", "-c", os.path.join(conf, "handoff.yaml"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("config error file=scoring.yaml: %s:%d: fit.floor:" % (path, i + 1),
                      r.stderr)
        self.assertRegex(r.stderr, r"config error file=profiles/broken.yaml: \S+broken.yaml:\d+:")
        self.assertRegex(r.stderr, r"config error file=webhook.yaml: \S+webhook.yaml:\d+: listen")
        self.assertIn("config ok file=routing.yaml", r.stdout)
        self.assertIn("errors=3", r.stdout)

    def complete(self, *words):
        script = ('source %s; COMP_WORDS=(%s); COMP_CWORD=%d; _handoff; echo "${COMPREPLY[@]}"'
                  % (os.path.join(BUILD, "completion", "handoff.bash"),
                     " ".join(words), len(words) - 1))
        return subprocess.run(["bash", "-c", script], capture_output=True,
                              text=True).stdout.split()

    def test_completion_and_man(self):
        self.assertEqual(self.complete("handoff", "imp"), ["import"])
        self.assertIn("--scorers", self.complete("handoff", "run", "--sc"))
        self.assertEqual(self.complete("handoff", "dlq", "re"), ["replay"])
        self.assertEqual(self.complete("handoff", "worker", "sc"), ["score"])
        with open(os.path.join(BUILD, "completion", "_handoff")) as f:
            self.assertTrue(f.read().startswith("#compdef handoff"))
        r = subprocess.run(["man", "-l", os.path.join(BUILD, "man", "handoff-run.1")],
                           capture_output=True, text=True, env=dict(os.environ, MANWIDTH="100"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("--only LIST", r.stdout)

    def test_outbox_list_counts_packet_files(self):
        packets = [os.path.join(d, f) for d, _, fs in os.walk(os.path.join(self.data, "outbox"))
                   for f in fs if f.endswith(".json")]
        self.assertGreater(len(packets), 0)
        r = ho("outbox", "list", "--data-dir", self.data)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("outbox deliveries=0", r.stdout)
        m = re.search(r"^outbox packets dir=\S+ count=(\d+) reps=(\d+)", r.stdout, re.M)
        self.assertEqual(int(m.group(1)), len(packets))
        reps = {os.path.basename(os.path.dirname(p)) for p in packets} - {"_reports"}
        self.assertEqual(int(m.group(2)), len(reps))
        r = ho("outbox", "list", "--files", "--limit", "100000", "--data-dir", self.data)
        listed = re.findall(r"^packet folder=\S+ written=\S+ file=(\S+)$", r.stdout, re.M)
        self.assertEqual(sorted(listed), sorted(packets))

    def test_lead_sla_deadline_is_iso(self):
        db = os.path.join(self.data, "handoff.db")
        emails = [r[0] for r in harness.query(
            db, "SELECT DISTINCT l.email FROM leads l JOIN sla_breaches b ON b.lead_id = l.id")]
        self.assertTrue(emails)
        seen = 0
        for email in emails:
            r = ho("lead", email, "--data-dir", self.data)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertNotRegex(r.stdout, r"(due |sla_due=)\d{12,}")
            seen += len(re.findall(r"\(due \d{4}-\d\d-\d\dT\d\d:\d\dZ\)", r.stdout))
        self.assertGreater(seen, 0)

    def test_report_future_week_warns(self):
        out = os.path.join(self.dir, "w.xlsx")
        r = ho("report", "--week", "2099-W10", "--data-dir", self.data, "-o", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("warning: 2099-W10 is in the future", r.stderr)
        self.assertIn("leads=0", r.stdout)
        r = ho("report", "--week", "2020-W10", "--data-dir", self.data, "-o", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("warning", r.stderr)

    def test_replay_and_forget_fail_fast_without_broker(self):
        nowhere = "ipc://%s/nobody.ipc" % self.dir
        for args in (["dlq", "replay", "1"], ["forget", "ada@example.com"]):
            r = ho(*(args + ["--connect", nowhere]))
            self.assertEqual(r.returncode, 1, args)
            self.assertIn("the broker at %s did not answer within 3000 ms" % nowhere, r.stderr)
            self.assertIn("handoff run", r.stderr)
        # a broker without a store worker: named at once instead of a request that waits
        procs = harness.procs_for(self, "ho-cliops-b-")
        config = harness.broker_config(procs.dir, 200)
        endpoint = procs.spawn_broker(config)[0]
        for args in (["dlq", "replay", "1"], ["forget", "ada@example.com"]):
            r = ho(*(args + ["--connect", endpoint, "-c", config]))
            self.assertEqual(r.returncode, 1, args)
            self.assertIn("has no `store` worker", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
