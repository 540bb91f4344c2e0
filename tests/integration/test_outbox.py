#!/usr/bin/python3
"""Integration test of the outbox worker as real processes: `handoff broker` + `handoff worker
outbox`, a CRM webhook played by a Python http.server CHILD PROCESS that answers 503 to the
first attempts, and a ZeroMQ SUB socket on the worker's PUB endpoint.

Asserts: the packet POST arrives exactly once with the packet body after two refusals; the
attempts and their backoff are recorded in outbox.db; the retry queue survives a SIGKILL of
the worker (a new worker process delivers it); the JSON file is written under
data/outbox/<rep>/<lead>-<event>.json; the subscriber of topic handoff.rep.<rep>. receives it.
And the operator's side: `handoff outbox list|show|retry` on a delivery the worker gave up on,
which is then delivered by the running worker.

Run: HO_BIN=build/handoff /usr/bin/python3 tests/integration/test_outbox.py
The file doubles as the webhook server: test_outbox.py --http-server DIR FAIL_FIRST.
"""
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest

import msgpack
import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

DEADLINE = 15.0  # seconds any single wait may take


def http_server_main(folder, fail_first):
    """The CRM webhook: 503 for the first fail_first POSTs, then 200. Logs every request."""
    import http.server

    log_path = os.path.join(folder, "http.log")
    state = {"n": 0}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            state["n"] += 1
            status = 503 if state["n"] <= fail_first else 200
            with open(log_path, "a") as f:
                f.write(json.dumps({"n": state["n"], "status": status, "path": self.path,
                                    "event": self.headers.get("X-Handoff-Event"),
                                    "type": self.headers.get("Content-Type"),
                                    "body": body.decode("utf-8")}) + "\n")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"ok": %s}' % (b"true" if status == 200 else b"false"))

        def log_message(self, *args):
            pass

    srv = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    tmp = os.path.join(folder, "http.port.tmp")
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, os.path.join(folder, "http.port"))
    srv.serve_forever()


def wait_for(what, fn, deadline=DEADLINE):
    return harness.wait_for(what, fn, deadline, interval=0.05)


class OutboxProcesses(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ho-outbox-it-")
        self.pipe = None
        self.ctx = zmq.Context()
        self.socks = []

    def tearDown(self):
        if self.pipe is not None:
            self.pipe.close(sig=signal.SIGKILL)
        for s in self.socks:
            s.close(linger=0)
        self.ctx.term()
        shutil.rmtree(self.dir, ignore_errors=True)

    def start_http(self, fail_first):
        """The CRM webhook (this file with --http-server) and its port."""
        self.pipe.spawn("http", [sys.executable, os.path.abspath(__file__), "--http-server",
                                 self.dir, str(fail_first)])
        port_file = os.path.join(self.dir, "http.port")
        wait_for("http server port", lambda: os.path.exists(port_file))
        with open(port_file) as f:
            return int(f.read())

    def http_log(self):
        path = os.path.join(self.dir, "http.log")
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]

    def test_webhook_retry_file_and_pub(self):
        # the webhook: a separate Python process, 503 twice, then 200
        self.pipe = harness.Pipeline(self.dir, "tcp", deadline=DEADLINE, interval=0.05)
        http_port = self.start_http(2)

        endpoint, data = self.pipe.endpoint, self.pipe.data
        pub = "ipc://%s/pub.sock" % self.dir
        config = self.pipe.write_config(
            "routes:\n  handoff.ready: outbox\n"
            "workers:\n  outbox:\n    dir: outbox\n"
            "    webhook_url: http://127.0.0.1:%d/crm/hook\n"
            "    backoff_ms: 300\n    max_attempts: 6\n    pub_endpoint: \"%s\"\n"
            % (http_port, pub), liveness=3)
        hb = self.pipe.bin
        self.pipe.start_broker()
        worker = self.pipe.start_worker("outbox", name="worker")

        sub = self.ctx.socket(zmq.SUB)
        self.socks.append(sub)
        sub.setsockopt(zmq.SUBSCRIBE, b"handoff.rep.R01.")
        sub.connect(pub)

        client = self.ctx.socket(zmq.DEALER)
        self.socks.append(client)
        client.setsockopt(zmq.LINGER, 0)
        client.connect(endpoint)
        event_id = "it-ho-%016x" % random.getrandbits(64)
        packet = {"v": 1, "type": "handoff.ready", "id": event_id,
                  "ts": int(time.time() * 1000), "origin": "test",
                  "payload": {"lead_id": 4242, "email": "jane@acme.test",
                              "rep": {"rep_id": "R01", "name": "Ann", "email": "ann@x.test"},
                              "contact": {"company": "Acme Ltd"}, "stage": "MQL"}}
        # the worker may still be registering: the broker queues the request for it
        client.send_multipart([b"", b"MDPC01", b"outbox", msgpack.packb(packet)])

        # attempt 1 at once (503); then the worker is killed before it can retry
        wait_for("first POST", lambda: len(self.http_log()) >= 1)
        # (the server logs before it answers: wait until the worker has recorded the refusal)

        def recorded():
            try:
                db = sqlite3.connect(os.path.join(data, "outbox.db"), timeout=5)
                try:
                    row = db.execute("SELECT attempts FROM deliveries WHERE event_id = ?",
                                     (event_id,)).fetchone()
                finally:
                    db.close()
            except sqlite3.OperationalError:
                return False
            return row is not None and row[0] == 1
        wait_for("attempt 1 in outbox.db", recorded)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=5)
        self.assertEqual(len([r for r in self.http_log() if r["status"] == 200]), 0)

        # the failure is visible to the operator while nobody retries it
        st = subprocess.run([hb, "status", "-c", config, "--data-dir", data],
                            capture_output=True, text=True, timeout=DEADLINE)
        problem = [l for l in st.stdout.splitlines() if l.startswith("outbox.problem")]
        self.assertEqual(len(problem), 1, st.stdout + st.stderr)
        self.assertIn("event_id=%s" % event_id, problem[0])
        self.assertIn("attempts=1", problem[0])
        self.assertIn("last_status=503", problem[0])
        self.assertIn("status=pending", problem[0])

        # a new worker process finds the delivery in outbox.db and retries with backoff
        self.pipe.start_worker("outbox", name="worker2")
        wait_for("delivery", lambda: any(r["status"] == 200 for r in self.http_log()))
        time.sleep(1.5)  # let any (wrong) extra retry happen before counting
        log = self.http_log()
        ok = [r for r in log if r["status"] == 200]
        self.assertEqual(len(ok), 1, log)
        self.assertEqual([r["status"] for r in log], [503, 503, 200])
        self.assertEqual(ok[0]["event"], event_id)
        self.assertEqual(ok[0]["path"], "/crm/hook")
        body = json.loads(ok[0]["body"])
        self.assertEqual(body["id"], event_id)
        self.assertEqual(body["type"], "handoff.ready")
        self.assertEqual(body["payload"]["lead_id"], 4242)
        self.assertEqual(body["payload"]["contact"]["company"], "Acme Ltd")

        db = sqlite3.connect(os.path.join(data, "outbox.db"))
        try:
            rows = db.execute("SELECT n, http_status, backoff_ms FROM attempts a"
                              " JOIN deliveries d ON d.id = a.delivery_id"
                              " WHERE d.event_id = ? ORDER BY a.id", (event_id,)).fetchall()
            status = db.execute("SELECT status, attempts FROM deliveries WHERE event_id = ?",
                                (event_id,)).fetchone()
        finally:
            db.close()
        self.assertEqual(rows, [(1, 503, 300), (2, 503, 600), (3, 200, None)])
        self.assertEqual(status, ("delivered", 3))
        st = subprocess.run([hb, "status", "-c", config, "--data-dir", data],
                            capture_output=True, text=True, timeout=DEADLINE)
        summary = [l for l in st.stdout.splitlines() if l.startswith("outbox ")]
        self.assertEqual(len(summary), 1, st.stdout + st.stderr)
        self.assertIn("delivered=1", summary[0])
        self.assertIn("failed=0", summary[0])
        self.assertNotIn("outbox.problem", st.stdout)

        path = os.path.join(data, "outbox", "R01", "4242-%s.json" % event_id)
        with open(path) as f:
            self.assertEqual(json.load(f)["payload"]["rep"]["rep_id"], "R01")

        # PUB: a packet published after the subscriber joined reaches it under its topic
        got = None
        end = time.time() + DEADLINE
        n = 0
        while got is None and time.time() < end:
            n += 1
            p2 = dict(packet, id="%s-pub-%d" % (event_id, n))
            client.send_multipart([b"", b"MDPC01", b"outbox", msgpack.packb(p2)])
            if sub.poll(300):
                got = sub.recv_multipart()
        self.assertIsNotNone(got, "no packet on topic handoff.rep.R01.")
        self.assertEqual(got[0], b"handoff.rep.R01.")
        self.assertEqual(json.loads(got[1])["payload"]["lead_id"], 4242)
        self.pipe.stop_clean("worker2", timeout=DEADLINE)

    def test_cli_lists_shows_and_retries_a_failed_delivery(self):
        # the CRM refuses 3 times; the worker gives up after 2 attempts
        self.pipe = harness.Pipeline(self.dir, "ipc", deadline=DEADLINE, interval=0.05)
        http_port = self.start_http(3)
        endpoint, data = self.pipe.endpoint, self.pipe.data
        config = self.pipe.write_config(
            "routes:\n  handoff.ready: outbox\n"
            "workers:\n  outbox:\n"
            "    webhook_url: http://127.0.0.1:%d/crm/hook\n"
            "    backoff_ms: 200\n    max_attempts: 2\n" % http_port, liveness=3)
        hb = self.pipe.bin
        self.pipe.start_broker()
        self.pipe.start_worker("outbox", name="worker")
        client = self.ctx.socket(zmq.DEALER)
        self.socks.append(client)
        client.setsockopt(zmq.LINGER, 0)
        client.connect(endpoint)
        event_id = "it-cli-%016x" % random.getrandbits(64)
        packet = {"v": 1, "type": "handoff.ready", "id": event_id,
                  "ts": int(time.time() * 1000), "origin": "test",
                  "payload": {"lead_id": 77, "email": "ann@acme.test",
                              "rep": {"rep_id": "R02", "name": "Bo", "email": "bo@x.test"}}}
        client.send_multipart([b"", b"MDPC01", b"outbox", msgpack.packb(packet)])

        def cli(*args):
            return subprocess.run([hb, "outbox"] + list(args) + ["-c", config, "--data-dir",
                                  data], capture_output=True, text=True, timeout=DEADLINE)

        def failed():
            r = cli("list", "--failed")
            return r.stdout if event_id in r.stdout else None
        out = wait_for("the delivery to fail for good", failed)
        line = [l for l in out.splitlines() if event_id in l][0]
        self.assertIn("status=failed", line)
        self.assertIn("attempts=2", line)
        self.assertIn("last_status=503", line)
        self.assertIn("rep=R02", line)
        self.assertIn('error="HTTP 503 from the webhook"', line)
        # --json and show (every attempt with its status and backoff)
        rows = json.loads(cli("list", "--json").stdout)
        self.assertEqual([r["event_id"] for r in rows], [event_id])
        show = cli("show", event_id)
        self.assertEqual(show.returncode, 0, show.stderr)
        attempts = [l.strip() for l in show.stdout.splitlines() if l.startswith("  attempt=")]
        self.assertEqual(len(attempts), 2, show.stdout)
        self.assertIn("http_status=503 backoff_ms=200", attempts[0])
        self.assertIn("http_status=503 backoff_ms=-", attempts[1])
        # unknown ids and bad usage are clear errors
        r = cli("retry", "no-such-event")
        self.assertEqual(r.returncode, 1)
        self.assertIn("no-such-event: no failed or pending delivery", r.stderr)
        self.assertEqual(cli("show", "no-such-event").returncode, 1)
        self.assertEqual(cli("retry").returncode, 2)
        self.assertEqual(cli("list", "extra").returncode, 2)
        # retry: the worker tries again (503 once more, then 200 after the backoff)
        r = cli("retry", event_id)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), "requeued 1 event=%s" % event_id)
        wait_for("delivery after retry",
                 lambda: any(x["status"] == 200 for x in self.http_log()))
        self.assertEqual([x["status"] for x in self.http_log()], [503, 503, 503, 200])

        def delivered():
            r = cli("list", "--delivered")
            return event_id in r.stdout and "status=delivered" in r.stdout
        wait_for("delivered in outbox.db", delivered)
        # no problems left (list still prints its summary lines: deliveries, packet files)
        listed = cli("list").stdout
        self.assertEqual([l for l in listed.splitlines() if l.startswith("event=")], [])
        self.assertIn("outbox deliveries=0 shown=problems", listed)
        self.pipe.stop_clean("worker", timeout=DEADLINE)


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "--http-server":
        http_server_main(sys.argv[2], int(sys.argv[3]))
        sys.exit(0)
    unittest.main()
