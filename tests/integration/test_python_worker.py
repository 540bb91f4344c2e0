#!/usr/bin/python3
"""Integration test of examples/python_worker.py (written from proto/handoff-protocol.md
alone) against the real broker: the Python worker runs as its own process, registers as
service "enrich", and

  * answers client requests routed to it with proper envelopes (same event ids, canonical
    encoding, one batch frame per type), quarantining a bad batch element by index;
  * receives frames the broker routes to it by the routing table: a temp handoff.yaml routes
    lead.raw -> enrich, and the built-in `echo` worker's reply of lead.raw reaches it (E2);
  * shows up in `handoff status` and leaves cleanly (DISCONNECT) on SIGTERM;
  * passes its own codec self-test against proto/vectors (section 9).

Run: HO_BIN=build/handoff /usr/bin/python3 tests/integration/test_python_worker.py
"""
import base64
import json
import os
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import DEADLINE, packb as pack, unpackb  # noqa: E402

HB_MS = 100
SRC = harness.source_dir()
WORKER = os.path.join(SRC, "examples", "python_worker.py")


def envelope(type_, payload):
    return harness.envelope(type_, payload, origin="test@pytest:1")


class PythonWorkerTest(unittest.TestCase):
    def setUp(self):
        self.ctx = harness.zmq_context(self)
        self.procs = harness.procs_for(self, "ho-pyworker-", signal.SIGKILL)
        self.dir = self.procs.dir
        self.config = harness.broker_config(self.dir, HB_MS, {"lead.raw": "enrich"},
                                            max_queue=100, max_attempts=3, data_dir=self.dir)
        self.endpoint = self.procs.spawn_broker(self.config)[0]
        self.record = os.path.join(self.dir, "handled.jsonl")
        self.procs.spawn("python_worker", [
            sys.executable, WORKER, "--connect", self.endpoint, "--service", "enrich",
            "--heartbeat-ms", str(HB_MS), "--credit", "4", "--record", self.record],
            "python worker ready", out=True)

    def request(self, service, frames):
        return harness.mdp_call(self.ctx, self.endpoint, service, frames)

    def status(self):
        r = harness.run(["status", "-c", self.config, "--connect", self.endpoint, "--json"],
                        timeout=DEADLINE * 2)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def wait_status(self, pred, what):
        end = time.time() + DEADLINE
        st = None
        while time.time() < end:
            st = self.status()
            if pred(st):
                return st
            time.sleep(0.05)
        self.fail("%s; last status %s" % (what, json.dumps(st)))

    @staticmethod
    def service(st, name):
        for s in st["services"]:
            if s["name"] == name:
                return s
        return {"workers": 0, "routed_in": 0, "requests": 0, "replies": 0}

    def test_codec_selftest_against_vectors(self):
        r = subprocess.run([sys.executable, WORKER, "--selftest",
                            os.path.join(SRC, "proto", "vectors")],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"selftest vectors=(\d+) failures=0")
        self.assertGreaterEqual(int(r.stdout.split("vectors=")[1].split()[0]), 40)

    def test_client_request_answered_by_python_worker(self):
        st = self.wait_status(lambda s: self.service(s, "enrich")["workers"] == 1,
                              "python worker not registered")
        worker = [w for w in st["workers"] if w["service"] == "enrich"][0]
        self.assertEqual(worker["credit"], 4)

        leads = [envelope("lead.raw", {"source": "csv", "fields": {
            "email": "Anna.Schmidt@Example-Bank.DE", "employees": "5000"}}),
                 envelope("lead.raw", {"source": "csv", "fields": {
                     "email": "bob@gmail.com", "employees": "12"}})]
        frames = self.request("enrich", [pack(leads)])
        self.assertEqual(len(frames), 1)  # one output type -> one batch frame
        out = unpackb(frames[0])
        self.assertEqual([e["id"] for e in out], [e["id"] for e in leads])
        for got, sent in zip(out, leads):
            self.assertEqual(list(got.keys())[:6], ["v", "type", "id", "ts", "origin", "payload"])
            self.assertEqual(got["v"], 1)
            self.assertEqual(got["type"], "lead.enriched")
            self.assertRegex(got["origin"], r"^enrich@.+:\d+$")
            self.assertEqual(got["payload"]["fields"], sent["payload"]["fields"])
        self.assertEqual(out[0]["payload"]["enrichment"],
                         {"domain": "example-bank.de", "free_mail": False,
                          "size_band": "enterprise", "by": "python_worker"})
        self.assertEqual(out[1]["payload"]["enrichment"]["size_band"], "smb")
        self.assertTrue(out[1]["payload"]["enrichment"]["free_mail"])

        # a batch whose middle element has an unknown version: the others are enriched, the
        # bad one comes back as a quarantine envelope naming frame and element
        bad = envelope("lead.raw", {"fields": {"email": "c@example.com"}})
        bad["v"] = 2
        good = envelope("lead.raw", {"fields": {"email": "d@example.com"}})
        frames = self.request("enrich", [pack([leads[0], bad, good]), b"\xc1"])
        by_type = {}
        for f in frames:
            batch = unpackb(f)
            self.assertEqual(len({e["type"] for e in batch}), 1)  # one type per frame
            by_type[batch[0]["type"]] = batch
        self.assertEqual([e["id"] for e in by_type["lead.enriched"]], [leads[0]["id"], good["id"]])
        q = {e["payload"]["code"]: e["payload"] for e in by_type["quarantine"]}
        self.assertEqual(q["unknown_version"]["field"], "frame[0][1].v")
        self.assertEqual(q["unknown_version"]["raw"]["element"], 1)
        # the quarantined bytes are exactly the element that was sent
        self.assertEqual(unpackb(base64.b64decode(
            q["unknown_version"]["raw"]["base64"])), bad)
        self.assertEqual(q["bad_frame"]["field"], "frame[1]")

    def test_routing_table_delivers_to_python_worker(self):
        # lead.raw is routed to "enrich": the echo worker's reply (a lead.raw batch) is
        # forwarded to the client AND enqueued for the Python worker by the broker (E2)
        self.procs.spawn("echo", [self.procs.bin, "worker", "echo", "-c", self.config,
                                  "--connect", self.endpoint], "worker ready", out=True)
        self.wait_status(lambda s: self.service(s, "echo")["workers"] == 1 and
                         self.service(s, "enrich")["workers"] == 1, "workers not registered")
        lead = envelope("lead.raw", {"source": "webhook", "fields": {"email": "e@example.org"}})
        frames = self.request("echo", [pack(lead)])
        self.assertEqual(unpackb(frames[0]), [lead])
        st = self.wait_status(lambda s: self.service(s, "enrich")["replies"] >= 1,
                              "routed request never answered by the python worker")
        self.assertGreaterEqual(self.service(st, "enrich")["routed_in"], 1)
        with open(self.record) as f:
            handled = [json.loads(l) for l in f if l.strip()]
        self.assertIn({"id": lead["id"], "type": "lead.raw"}, handled)
        self.procs.stop("echo")

    def test_sigterm_disconnects(self):
        self.wait_status(lambda s: self.service(s, "enrich")["workers"] == 1,
                         "python worker not registered")
        self.assertEqual(self.procs.stop("python_worker"), 0)
        self.assertIn("stopped handled=", self.procs.log("python_worker"))
        self.wait_status(lambda s: self.service(s, "enrich")["workers"] == 0,
                         "broker still lists the python worker")


if __name__ == "__main__":
    unittest.main(verbosity=2)
