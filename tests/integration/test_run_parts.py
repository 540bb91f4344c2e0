#!/usr/bin/python3
"""`handoff run --only / --without / --scorers 0`: one supervisor runs any subset of the pipeline.

Asserts (real processes on one ipc endpoint, the broker's own mmi.status read with
`handoff status --json`):
- `run --only broker,store,report` starts the broker and just those two workers; a second
  `run --only score --scorers 2` on the same endpoint (no broker of its own) adds two score
  workers to that broker, says broker=remote, and its SIGTERM stops only its own children
  (the broker and the first host's workers stay registered);
- `run --without score` and `run --scorers 0` start every worker except the scorer;
- `run --webhook` prints the webhook server's URL from webhook.yaml;
- usage errors exit 2 with a reason: unknown part (with did-you-mean), --only with --without,
  --scorers N for a host without score, nothing left to run, a misspelt option.

Run: HO_BIN=build/handoff /usr/bin/python3 tests/integration/test_run_parts.py
"""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

HO_BIN = os.environ.get("HO_BIN", os.path.join(os.getcwd(), "handoff"))
DEADLINE = 60.0
WORKERS = ["ingest", "store", "score", "route", "feedback", "report", "outbox"]


class RunPartsTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ho-parts-")
        self.endpoint = "ipc://%s/broker.ipc" % self.dir
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def start(self, *args, data="data"):
        p = subprocess.Popen([HO_BIN, "run", "--endpoint", self.endpoint, "--data-dir",
                              os.path.join(self.dir, data), "--tick", "0"] + list(args),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.procs.append(p)
        line = p.stdout.readline()
        self.assertTrue(line.startswith("run ready "), line + p.stderr.read() if not line else line)
        return p, dict(kv.split("=", 1) for kv in line.split()[2:])

    def workers(self):
        r = subprocess.run([HO_BIN, "status", "--connect", self.endpoint, "--json",
                            "--data-dir", os.path.join(self.dir, "data")],
                           capture_output=True, text=True, timeout=DEADLINE)
        self.assertEqual(r.returncode, 0, r.stderr)
        st = json.loads(r.stdout)
        return {s["name"]: s["workers"] for s in st["services"] if s["workers"] > 0}

    def wait_workers(self, want):
        end = time.time() + DEADLINE
        while True:
            got = self.workers()
            if got == want or time.time() > end:
                return got
            time.sleep(0.1)

    def stop(self, p):
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=DEADLINE)
        self.assertEqual(p.returncode, 0, err)
        self.assertIn("run stopped signal=TERM", out)
        self.assertIn("killed=0", out)

    def test_broker_host_and_scorer_host(self):
        broker_host, ready = self.start("--only", "broker,store,report")
        self.assertEqual(ready["broker"], "here")
        self.assertEqual(ready["workers"], "2")
        self.assertEqual(self.workers(), {"store": 1, "report": 1})
        scorer_host, ready = self.start("--only", "score", "--scorers", "2", data="data2")
        self.assertEqual(ready["broker"], "remote")
        self.assertEqual((ready["workers"], ready["scorers"]), ("2", "2"))
        self.assertEqual(self.workers(), {"store": 1, "report": 1, "score": 2})
        self.stop(scorer_host)
        self.assertEqual(self.wait_workers({"store": 1, "report": 1}), {"store": 1, "report": 1})
        self.assertIsNone(broker_host.poll())
        self.stop(broker_host)

    def test_without_score_and_scorers_zero(self):
        want = {w: 1 for w in WORKERS if w != "score"}
        for args in (["--without", "score"], ["--scorers", "0"]):
            p, ready = self.start(*args)
            self.assertEqual((ready["workers"], ready["scorers"]), ("6", "0"))
            self.assertEqual(self.workers(), want)
            self.stop(p)

    def test_webhook_url(self):
        conf = os.path.join(self.dir, "conf")
        os.makedirs(conf)
        with open(os.path.join(conf, "handoff.yaml"), "w") as f:
            f.write("broker:\n  endpoint: %s\n" % self.endpoint)
        with open(os.path.join(conf, "webhook.yaml"), "w") as f:
            f.write("listen: 127.0.0.1:0\nallow_unsigned: true\n")
        p, ready = self.start("--only", "broker,ingest", "--webhook", "-c",
                              os.path.join(conf, "handoff.yaml"))
        self.assertEqual(p.stdout.readline().strip(), "run webhook url=http://127.0.0.1:0/")
        self.stop(p)

    def test_usage_errors(self):
        cases = [
            (["--only", "brokr"], "unknown part 'brokr', did you mean broker?"),
            (["--only", "broker", "--without", "score"], "exclude each other"),
            (["--only", "broker", "--scorers", "2"], "score is not run here"),
            (["--without", "broker,ingest,store,score,route,feedback,report,outbox"],
             "nothing left to run"),
            (["--scorrers", "2"], "did you mean --scorers?"),
            (["--scorers", "-1"], "--scorers wants 0..32"),
        ]
        for args, message in cases:
            r = subprocess.run([HO_BIN, "run", "--endpoint", self.endpoint] + args,
                               capture_output=True, text=True, timeout=DEADLINE)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertIn(message, r.stderr, args)
            self.assertNotIn("run ready", r.stdout)


if __name__ == "__main__":
    unittest.main()
