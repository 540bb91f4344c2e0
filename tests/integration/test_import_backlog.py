#!/usr/bin/python3
"""`handoff import` does not let a slow downstream worker pile the file up in the broker.

The import's window bounds its own requests to `ingest`, but the broker turns every ingest
reply into a new request for the next service (the store), and it never refuses those. With
a store slower than ingest, a large file would end up queued in the broker's memory. The
import therefore reads the broker's queues (mmi.status) after each batch and waits while more
than --max-backlog requests are queued for services with workers.

Real `handoff broker` and `handoff worker ingest` processes; the next service ("sink", where
lead.normalized is routed) is a raw MDP worker in this test that holds every request until
released. Asserts, from the broker's own status:
  * --max-backlog 4 --window 2: while the sink holds, the queue stops growing at a bound of
    max_backlog + window + 1 requests and the import waits (still running, says why on
    stderr); released, everything arrives and the import ends with exit 0 and all records;
  * --max-backlog 0 (off), same file and sink: the import finishes while the whole file waits
    in the broker's queue (the behaviour the option prevents; also shows the bound can fail).

Run: HO_BIN=build/handoff /usr/bin/python3 tests/integration/test_import_backlog.py
"""
import os
import re
import shutil
import sys
import tempfile
import time
import unittest

import msgpack
import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

DEADLINE = 30.0
MDPC, MDPW = b"MDPC01", b"MDPW01"
READY, REQUEST, REPLY, HEARTBEAT = b"\x01", b"\x02", b"\x03", b"\x04"
LEADS, BATCH, WINDOW, MAX_BACKLOG = 1500, 50, 2, 4


class Sink:
    """A raw MDP worker for service "sink" with credit 1: holds requests until released."""

    def __init__(self, ctx, endpoint):
        self.sock = ctx.socket(zmq.DEALER)
        self.sock.linger = 0
        self.sock.connect(endpoint)
        self.sock.send_multipart([b"", MDPW, READY, b"sink", b"1"])
        self.held, self.requests, self.release = [], 0, False
        self.next_hb = 0

    def pump(self):
        while self.sock.poll(0):
            msg = self.sock.recv_multipart()
            if msg[2] == REQUEST:
                self.requests += 1
                self.held.append(msg[3])
        if self.release:
            for token in self.held:
                self.sock.send_multipart([b"", MDPW, REPLY, token, b""])
            self.held = []
        if time.time() >= self.next_hb:
            self.sock.send_multipart([b"", MDPW, HEARTBEAT])
            self.next_hb = time.time() + 0.2


class Status:
    """mmi.status through a plain MDP client."""

    def __init__(self, ctx, endpoint):
        self.sock = ctx.socket(zmq.DEALER)
        self.sock.linger = 0
        self.sock.connect(endpoint)

    def services(self, pump):
        self.sock.send_multipart([b"", MDPC, b"mmi.status", b""])
        end = time.time() + DEADLINE
        while time.time() < end:
            pump()
            if self.sock.poll(10):
                msg = self.sock.recv_multipart()
                for frame in msg[3:]:
                    env = msgpack.unpackb(frame, raw=False)
                    envs = env if isinstance(env, list) and env and isinstance(env[0], dict) \
                        else [env]
                    for e in envs:
                        if isinstance(e, dict) and e.get("type") == "status":
                            return {s["name"]: s for s in e["payload"]["services"]}
        raise AssertionError("no mmi.status answer")


def wait_for(what, fn, pump, deadline=DEADLINE):
    """fn()'s first truthy value, pumping the raw MDP peers before each try."""
    def step():
        pump()
        return fn()
    return harness.wait_for(what, step, deadline, interval=0.02)


class ImportBacklog(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ho-backlog-")
        self.pipes = []
        self.ctx = zmq.Context()
        self.socks = []
        self.csv = os.path.join(self.dir, "leads.csv")
        with open(self.csv, "w") as f:
            f.write("email,first_name,last_name,company\n")
            for i in range(LEADS):
                f.write("person%d@example-backlog.com,P%d,Q,Backlog Inc\n" % (i, i))

    def tearDown(self):
        for pipe in self.pipes:
            pipe.close()
        for sock in self.socks:
            sock.close(linger=0)
        self.ctx.term()
        shutil.rmtree(self.dir, ignore_errors=True)

    def pipeline(self, tag):
        pipe = harness.Pipeline(self.dir, "ipc", tag=tag, interval=0.02)
        self.pipes.append(pipe)
        pipe.write_config("routes:\n  lead.raw: ingest\n  lead.normalized: sink\n", liveness=8)
        pipe.start("ingest")
        sink = Sink(self.ctx, pipe.endpoint)
        status = Status(self.ctx, pipe.endpoint)
        self.socks += [sink.sock, status.sock]
        wait_for("sink registered", lambda: status.services(sink.pump).get("sink", {})
                 .get("workers") == 1, sink.pump)
        return pipe, sink, status

    def run_import(self, pipe, max_backlog):
        name = pipe.name("import")
        p = pipe.spawn(name, [
            pipe.bin, "import", "-c", pipe.config, "--source", "csv", "--batch", str(BATCH),
            "--window", str(WINDOW), "--max-backlog", str(max_backlog), self.csv])
        return p, pipe.log_path(name)

    def sink_queue(self, status, sink):
        s = status.services(sink.pump)["sink"]
        return s["queued"] + s["in_flight"]

    def test_import_waits_for_a_slow_downstream_worker(self):
        pipe, sink, status = self.pipeline("on")
        imp, log = self.run_import(pipe, MAX_BACKLOG)
        bound = MAX_BACKLOG + WINDOW + 1 + 1  # + the one request the sink holds (credit 1)
        most = [0]

        def paused():
            most[0] = max(most[0], self.sink_queue(status, sink))
            with open(log) as f:
                return "pipeline backlog" in f.read()
        wait_for("the import to pause", paused, sink.pump)
        # it stays paused while the sink holds: sample the queue for a while (no timing
        # assertion: the bound must hold at every sample, however long this takes)
        for _ in range(20):
            most[0] = max(most[0], self.sink_queue(status, sink))
            self.assertIsNone(imp.poll(), "the import finished although the sink held")
        self.assertLessEqual(most[0], bound)
        self.assertLess(most[0] * BATCH, LEADS)  # far from the whole file

        sink.release = True

        def done():
            most[0] = max(most[0], self.sink_queue(status, sink))
            return imp.poll() is not None
        wait_for("the import to finish", done, sink.pump, deadline=120)
        self.assertEqual(imp.returncode, 0)
        with open(log) as f:
            text = f.read()
        m = re.search(r"^import file=\S+ source=csv kind=lead read=(\d+) accepted=(\d+) "
                      r"skipped=0 quarantined=0 .*check=ok$", text, re.M)
        self.assertIsNotNone(m, text)
        self.assertEqual((int(m.group(1)), int(m.group(2))), (LEADS, LEADS))
        self.assertLessEqual(most[0], bound)
        wait_for("every batch at the sink", lambda: sink.requests >= LEADS // BATCH, sink.pump)

    def test_without_the_bound_the_file_waits_in_the_broker(self):
        pipe, sink, status = self.pipeline("off")
        imp, log = self.run_import(pipe, 0)
        wait_for("the import to finish", lambda: imp.poll() is not None, sink.pump, deadline=120)
        self.assertEqual(imp.returncode, 0)
        # every batch is now waiting in the broker for the held sink
        wait_for("the whole file queued", lambda: self.sink_queue(status, sink) ==
                 LEADS // BATCH, sink.pump)
        self.assertGreater(LEADS // BATCH, MAX_BACKLOG + WINDOW + 2)
        sink.release = True
        wait_for("the queue drained", lambda: self.sink_queue(status, sink) == 0, sink.pump)


if __name__ == "__main__":
    unittest.main()
