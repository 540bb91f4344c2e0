#!/usr/bin/python3
"""The webhook server stays available to others under hostile peers (issue 14 item 6).

Real processes: `handoff broker`, ingest and store workers, `handoff webhook`.
  * slowloris: 300 connections from one client (source address 127.0.0.2, the loopback) that
    send half a request line and then a byte now and then. While they are open, GET /healthz
    and a signed POST from 127.0.0.1 are answered (202: the lead is stored). Before, the 256
    connection slots of the one polling thread were all taken and both timed out.
  * stalled broker: a ZeroMQ ROUTER in this test takes the broker's endpoint and never
    answers; one POST waits on it (broker_timeout_ms 60 s) while GET /healthz is answered,
    with `threads: 1`: the POST holds a sender thread, never the HTTP thread. Before, the HTTP
    thread that had the POST's connection waited inside the POST, and a /healthz connection
    that thread had accepted waited behind it (with the default 4 threads, now and then).
No timed assertions: a generous client timeout (30 s) is the failure signal.
"""
import json
import os
import socket
import sys
import threading
import time
import unittest
import urllib.error
import urllib.request

import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import DEADLINE, wait_for  # noqa: E402

SECRET = "own-form-secret"
SLOW = 300
CLIENT_TIMEOUT = 30


class Server(harness.Pipeline):
    def __init__(self, folder, broker_timeout_ms=5000, threads=None):
        super().__init__(folder)
        self.write_config("routes:\n  lead.raw: ingest\n  lead.normalized: store\n"
                          "  quarantine: store\n")
        with open(os.path.join(self.dir, "webhook.yaml"), "w") as f:
            f.write("listen: 127.0.0.1:0\nbroker_timeout_ms: %d\nform_secret: %s\n"
                    "max_backlog: 0\n" % (broker_timeout_ms, json.dumps(SECRET)))
            if threads:
                f.write("threads: %d\n" % threads)

    def start_webhook(self):
        self.spawn("webhook", [self.bin, "webhook", "-c", self.config], "webhook listening=")
        line = [x for x in self.log("webhook").splitlines()
                if x.startswith("webhook listening=")][0]
        self.port = int(line.split()[1].rsplit(":", 1)[1])

    def request(self, method, path, body=None, headers=None):
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.port, path), data=body,
                                     method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=CLIENT_TIMEOUT) as r:
                return r.status, json.loads(r.read().decode() or "null")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def post_lead(self, email):
        body = json.dumps({"email": email, "first_name": "Dee", "last_name": "Oss",
                           "company": "Slow Corp"}).encode()
        return self.request("POST", "/webhooks/form", body,
                            {"Content-Type": "application/json", "X-Handoff-Secret": SECRET})


class WebhookDos(unittest.TestCase):
    def setUp(self):
        self.socks = []
        self.addCleanup(self.close_socks)

    def close_socks(self):
        for s in self.socks:
            try:
                s.close()
            except OSError:
                pass

    def test_slowloris_from_one_client(self):
        srv = Server(harness.temp_dir(self, "ho-wh-dos-"))
        self.addCleanup(srv.close)
        srv.start("ingest", "store")
        srv.start_webhook()
        opened = 0
        for _ in range(SLOW):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.settimeout(5)
            try:
                s.bind(("127.0.0.2", 0))
                s.connect(("127.0.0.1", srv.port))
                s.sendall(b"POST /webhooks/form HTTP/1.1\r\nHost: x\r\n")
                opened += 1
            except OSError:
                pass  # refused at once: the server protects itself
            self.socks.append(s)
        self.assertGreater(opened, 0)
        stop = threading.Event()

        def drip():  # keep every connection alive: a header byte now and then
            while not stop.is_set():
                for s in self.socks:
                    try:
                        s.send(b"X")
                    except OSError:
                        pass
                stop.wait(1.0)
        t = threading.Thread(target=drip, daemon=True)
        t.start()
        self.addCleanup(t.join)
        self.addCleanup(stop.set)
        try:
            status, body = srv.request("GET", "/healthz")
            self.assertEqual(status, 200)
            self.assertEqual(body["status"], "ok")
            status, body = srv.post_lead("dee.oss@slowloris.example")
            self.assertEqual(status, 202, body)
        except (socket.timeout, urllib.error.URLError, ConnectionError) as e:
            self.fail("the server did not answer while %d slow connections were open: %r"
                      % (opened, e))
        wait_for("the posted lead stored", lambda: srv.count(
            "SELECT count(*) FROM leads WHERE email = 'dee.oss@slowloris.example'") == 1)
        self.assertIsNone(srv.proc("webhook").poll())
        stop.set()
        srv.stop_clean("webhook", timeout=DEADLINE)  # exit 0, no sanitizer report

    def test_healthz_while_a_post_waits_on_a_stalled_broker(self):
        srv = Server(harness.temp_dir(self, "ho-wh-stall-"), broker_timeout_ms=60000, threads=1)
        self.addCleanup(srv.close)
        ctx = zmq.Context()
        self.addCleanup(ctx.term)
        router = ctx.socket(zmq.ROUTER)  # takes requests, answers nothing
        router.linger = 0
        self.addCleanup(router.close)
        router.bind(srv.endpoint)
        srv.start_webhook()
        result = {}

        def post():
            try:
                result["post"] = srv.post_lead("stalled@broker.example")
            except Exception as e:  # noqa: BLE001 - the timeout is expected here
                result["post"] = e
        t = threading.Thread(target=post, daemon=True)
        t.start()

        def post_at_broker():  # its lead.raw for ingest; the metrics feed's mmi.status also comes
            while router.poll(50):
                if router.recv_multipart()[3:4] == [b"ingest"]:
                    return True
            return False
        wait_for("the POST to reach the broker", post_at_broker)
        try:
            status, body = srv.request("GET", "/healthz")
        except (socket.timeout, urllib.error.URLError, ConnectionError) as e:
            self.fail("/healthz waited behind a POST on a stalled broker: %r" % (e,))
        self.assertEqual(status, 200)
        self.assertEqual(body["status"], "ok")
        # answered while the POST still waits on the broker: it has not given up on it yet
        # (which it logs before its 503 goes out)
        self.assertNotIn("broker did not take it", srv.log("webhook"))
        self.assertNotIn("post", result)
        srv.stop_clean("webhook", timeout=DEADLINE)  # also with a POST in flight
        t.join(timeout=DEADLINE)


if __name__ == "__main__":
    unittest.main()
