#!/usr/bin/python3
"""`handoff import` never hangs on a dead broker and stops at once on SIGINT/SIGTERM (issue 14
item 5).

Real `handoff broker` and `handoff worker ingest` processes; lead.normalized goes to a raw MDP
"sink" worker in this test that holds every request, so the import soon waits for the
backlog (--max-backlog 4). Then:
  * the broker is killed with SIGKILL: the import exits 1, naming the broker, within its
    documented liveness bound (15 s without any answer); before the fix it kept waiting for
    minutes. The failure signal is a generous wait (DEADLINE_DEAD), not a timed assertion;
  * SIGTERM / SIGINT while it waits: exit 143 / 130 and a summary of what was sent.
"""
import os
import re
import shutil
import signal
import sys
import tempfile
import unittest

import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from test_import_backlog import Sink, Status, wait_for  # noqa: E402

LEADS, BATCH, WINDOW, MAX_BACKLOG = 3000, 50, 2, 4
DEADLINE_DEAD = 90  # far above the 15 s bound, far below the minutes it used to wait


class ImportLiveness(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ho-import-live-")
        self.ctx = zmq.Context()
        self.socks = []
        self.csv = os.path.join(self.dir, "leads.csv")
        with open(self.csv, "w") as f:
            f.write("email,first_name,last_name,company\n")
            for i in range(LEADS):
                f.write("person%d@example-live.com,P%d,Q,Live Inc\n" % (i, i))
        self.pipe = harness.Pipeline(self.dir, "ipc", interval=0.02)
        self.pipe.write_config("routes:\n  lead.raw: ingest\n  lead.normalized: sink\n",
                               liveness=8)
        self.pipe.start("ingest")
        self.sink = Sink(self.ctx, self.pipe.endpoint)
        self.status = Status(self.ctx, self.pipe.endpoint)
        self.socks += [self.sink.sock, self.status.sock]
        wait_for("sink registered", lambda: self.status.services(self.sink.pump)
                 .get("sink", {}).get("workers") == 1, self.sink.pump)

    def tearDown(self):
        self.pipe.close()
        for sock in self.socks:
            sock.close(linger=0)
        self.ctx.term()
        shutil.rmtree(self.dir, ignore_errors=True)

    def start_import(self):
        p = self.pipe.spawn("import", [
            self.pipe.bin, "import", "-c", self.pipe.config, "--source", "csv", "--batch",
            str(BATCH), "--window", str(WINDOW), "--max-backlog", str(MAX_BACKLOG), self.csv])
        log = self.pipe.log_path("import")

        def paused():
            with open(log) as f:
                return "pipeline backlog" in f.read()
        wait_for("the import to wait for the backlog", paused, self.sink.pump)
        self.assertIsNone(p.poll())
        return p

    def test_broker_killed_while_waiting_for_backlog(self):
        imp = self.start_import()
        broker = self.pipe.proc("broker")
        broker.send_signal(signal.SIGKILL)
        broker.wait(timeout=10)
        try:
            code = imp.wait(timeout=DEADLINE_DEAD)
        except Exception:
            imp.kill()
            raise AssertionError("the import still waits %d s after the broker died:\n%s"
                                 % (DEADLINE_DEAD, self.pipe.log("import")[-2000:]))
        text = self.pipe.log("import")
        self.assertEqual(code, 1, text[-2000:])
        self.assertIn("broker answered nothing", text)
        self.assertNotIn(harness.SANITIZER, text)

    def check_signal(self, sig, code):
        imp = self.start_import()
        imp.send_signal(sig)
        try:
            got = imp.wait(timeout=30)
        except Exception:
            imp.kill()
            raise AssertionError("the import ignored signal %d:\n%s"
                                 % (sig, self.pipe.log("import")[-2000:]))
        text = self.pipe.log("import")
        self.assertEqual(got, code, text[-2000:])
        self.assertNotIn(harness.SANITIZER, text)
        m = re.search(r"^import interrupted signal=(\w+) file=\S+ read=(\d+) sent=(\d+) "
                      r"accepted=(\d+) unanswered=(\d+)$", text, re.M)
        self.assertIsNotNone(m, text[-2000:])
        self.assertEqual(m.group(1), "TERM" if sig == signal.SIGTERM else "INT")
        read, sent, accepted = int(m.group(2)), int(m.group(3)), int(m.group(4))
        self.assertGreater(sent, 0)
        self.assertLess(sent, LEADS)  # it stopped sending: not the whole file
        self.assertLessEqual(accepted, sent)
        self.assertLessEqual(sent, read)
        # the broker is alive and the pipeline keeps what was sent
        self.assertIsNone(self.pipe.proc("broker").poll())

    def test_sigterm_while_waiting_for_backlog(self):
        self.check_signal(signal.SIGTERM, 143)

    def test_sigint_while_waiting_for_backlog(self):
        self.check_signal(signal.SIGINT, 130)


if __name__ == "__main__":
    unittest.main()
