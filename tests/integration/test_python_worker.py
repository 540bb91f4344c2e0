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
import random
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import msgpack
import zmq

DEADLINE = 10.0
HB_MS = 100
SRC = os.environ.get("HO_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
WORKER = os.path.join(SRC, "examples", "python_worker.py")


def envelope(type_, payload, id_=None):
    return {"v": 1, "type": type_, "id": id_ or "t-%016x" % random.getrandbits(64),
            "ts": int(time.time() * 1000), "origin": "test@pytest:1", "payload": payload}


def pack(obj):
    return msgpack.packb(obj, use_bin_type=True)


class Proc:
    def __init__(self, folder, name, argv, ready):
        self.log_path = os.path.join(folder, name + ".log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.log)
        self.out = b""
        self.stopped = False
        end = time.time() + DEADLINE
        while ready.encode() not in self.out:
            if self.proc.poll() is not None or time.time() > end:
                raise AssertionError("%s did not start: %r %s" % (name, self.out, self.stderr()))
            r, _, _ = select.select([self.proc.stdout], [], [], 0.1)
            if r:
                self.out += os.read(self.proc.stdout.fileno(), 4096)

    def stderr(self):
        with open(self.log_path) as f:
            return f.read()

    def stop(self, sig=signal.SIGTERM):
        if self.stopped:
            return self.proc.returncode
        self.stopped = True
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(DEADLINE)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.log.close()
        return self.proc.returncode


class PythonWorkerTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ho-pyworker-")
        self.ctx = zmq.Context()
        self.procs = []
        self.config = os.path.join(self.dir, "handoff.yaml")
        with open(self.config, "w") as f:
            f.write("broker:\n  endpoint: tcp://127.0.0.1:5570\n  heartbeat_ms: %d\n"
                    "  liveness: 3\n  max_queue: 100\n  max_attempts: 3\n"
                    "data_dir: %s\nroutes:\n  lead.raw: enrich\n" % (HB_MS, self.dir))
        self.broker = self.start("broker", [os.environ["HO_BIN"], "broker", "-c", self.config,
                                            "--bind", "tcp://127.0.0.1:*"], "broker ready")
        self.endpoint = [l.split("=", 1)[1] for l in self.broker.out.decode().splitlines()
                         if l.startswith("bound endpoint=")][0]
        self.record = os.path.join(self.dir, "handled.jsonl")
        self.py = self.start("python_worker", [
            sys.executable, WORKER, "--connect", self.endpoint, "--service", "enrich",
            "--heartbeat-ms", str(HB_MS), "--credit", "4", "--record", self.record],
            "python worker ready")

    def tearDown(self):
        for p in reversed(self.procs):
            p.stop(signal.SIGKILL)
        self.ctx.destroy(linger=0)
        shutil.rmtree(self.dir, ignore_errors=True)

    def start(self, name, argv, ready):
        p = Proc(self.dir, name, argv, ready)
        self.procs.append(p)
        return p

    def request(self, service, frames):
        s = self.ctx.socket(zmq.DEALER)
        s.linger = 0
        s.connect(self.endpoint)
        try:
            s.send_multipart([b"", b"MDPC01", service.encode()] + frames)
            self.assertTrue(s.poll(int(DEADLINE * 1000)), "no reply from %s" % service)
            msg = s.recv_multipart()
            self.assertEqual(msg[:3], [b"", b"MDPC01", service.encode()])
            return msg[3:]
        finally:
            s.close()

    def status(self):
        r = subprocess.run([os.environ["HO_BIN"], "status", "-c", self.config, "--connect",
                            self.endpoint, "--json"], capture_output=True, text=True,
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
        out = msgpack.unpackb(frames[0], raw=False)
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
            batch = msgpack.unpackb(f, raw=False)
            self.assertEqual(len({e["type"] for e in batch}), 1)  # one type per frame
            by_type[batch[0]["type"]] = batch
        self.assertEqual([e["id"] for e in by_type["lead.enriched"]], [leads[0]["id"], good["id"]])
        q = {e["payload"]["code"]: e["payload"] for e in by_type["quarantine"]}
        self.assertEqual(q["unknown_version"]["field"], "frame[0][1].v")
        self.assertEqual(q["unknown_version"]["raw"]["element"], 1)
        # the quarantined bytes are exactly the element that was sent
        self.assertEqual(msgpack.unpackb(base64.b64decode(
            q["unknown_version"]["raw"]["base64"]), raw=False), bad)
        self.assertEqual(q["bad_frame"]["field"], "frame[1]")

    def test_routing_table_delivers_to_python_worker(self):
        # lead.raw is routed to "enrich": the echo worker's reply (a lead.raw batch) is
        # forwarded to the client AND enqueued for the Python worker by the broker (E2)
        echo = self.start("echo", [os.environ["HO_BIN"], "worker", "echo", "-c", self.config,
                                   "--connect", self.endpoint], "worker ready")
        self.wait_status(lambda s: self.service(s, "echo")["workers"] == 1 and
                         self.service(s, "enrich")["workers"] == 1, "workers not registered")
        lead = envelope("lead.raw", {"source": "webhook", "fields": {"email": "e@example.org"}})
        frames = self.request("echo", [pack(lead)])
        self.assertEqual(msgpack.unpackb(frames[0], raw=False), [lead])
        st = self.wait_status(lambda s: self.service(s, "enrich")["replies"] >= 1,
                              "routed request never answered by the python worker")
        self.assertGreaterEqual(self.service(st, "enrich")["routed_in"], 1)
        with open(self.record) as f:
            handled = [json.loads(l) for l in f if l.strip()]
        self.assertIn({"id": lead["id"], "type": "lead.raw"}, handled)
        echo.stop()

    def test_sigterm_disconnects(self):
        self.wait_status(lambda s: self.service(s, "enrich")["workers"] == 1,
                         "python worker not registered")
        self.assertEqual(self.py.stop(), 0)
        self.assertIn("stopped handled=", self.py.stderr())
        self.wait_status(lambda s: self.service(s, "enrich")["workers"] == 0,
                         "broker still lists the python worker")


if __name__ == "__main__":
    unittest.main(verbosity=2)
