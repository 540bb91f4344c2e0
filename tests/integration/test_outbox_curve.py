#!/usr/bin/python3
"""The outbox PUB socket follows broker.curve (issue 14 item 4): with CURVE on, the packets
(lead and rep emails) reach only subscribers whose public key is in broker.curve.allowed_keys;
a plain SUB, or a SUB with a key that is not allowed, receives nothing."""
import os
import random
import shutil
import subprocess
import sys
import time
import unittest

import msgpack
import zmq
import zmq.auth

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import DEADLINE  # noqa: E402


class OutboxCurve(unittest.TestCase):
    def setUp(self):
        self.pipe = harness.Pipeline(harness.temp_dir(self, "ho-outbox-curve-"), "tcp",
                                     interval=0.05)
        self.addCleanup(self.pipe.close)
        d = self.pipe.dir
        keys = os.path.join(d, "keys")
        allowed = os.path.join(keys, "allowed")
        os.makedirs(allowed)
        self.server_pub, _ = zmq.auth.create_certificates(keys, "broker")
        client_pub, self.client_sec = zmq.auth.create_certificates(keys, "client")
        sub_pub, self.sub_sec = zmq.auth.create_certificates(keys, "sub")
        _, self.stranger_sec = zmq.auth.create_certificates(keys, "stranger")
        shutil.copy(client_pub, allowed)
        shutil.copy(sub_pub, allowed)
        self.pub = "tcp://127.0.0.1:%d" % harness.free_port()
        curve = ("  curve:\n    enabled: true\n    server_cert: keys/broker.key_secret\n"
                 "    allowed_keys: keys/allowed\n    client_cert: keys/client.key_secret\n"
                 "    server_public: keys/broker.key\n")
        self.pipe.write_config("routes:\n  handoff.ready: outbox\n"
                               "workers:\n  outbox:\n    dir: outbox\n"
                               "    pub_endpoint: \"%s\"\n" % self.pub, broker=curve)
        self.ctx = zmq.Context()
        self.addCleanup(self.ctx.term)
        self.socks = []
        self.addCleanup(lambda: [s.close(linger=0) for s in self.socks])

    def sub(self, secret=None):
        s = self.ctx.socket(zmq.SUB)
        self.socks.append(s)
        if secret:
            pub, sec = zmq.auth.load_certificate(secret)
            server, _ = zmq.auth.load_certificate(self.server_pub)
            s.curve_publickey, s.curve_secretkey, s.curve_serverkey = pub, sec, server
        s.setsockopt(zmq.SUBSCRIBE, b"handoff.")
        s.connect(self.pub)
        return s

    def test_pub_admits_only_allowed_keys(self):
        self.pipe.start("outbox")
        plain = self.sub()
        stranger = self.sub(self.stranger_sec)
        allowed = self.sub(self.sub_sec)
        client = self.ctx.socket(zmq.DEALER)
        self.socks.append(client)
        pub, sec = zmq.auth.load_certificate(self.client_sec)
        server, _ = zmq.auth.load_certificate(self.server_pub)
        client.curve_publickey, client.curve_secretkey, client.curve_serverkey = pub, sec, server
        client.connect(self.pipe.endpoint)
        base = "it-curve-%016x" % random.getrandbits(64)
        got = []
        leaked = []
        end = time.time() + DEADLINE
        n = 0
        # PUB drops what it sends before a subscriber joined: send until the allowed one has
        # five packets; every packet goes to every connected subscriber at the same time
        while len(got) < 5 and not leaked and time.time() < end:
            n += 1
            packet = {"v": 1, "type": "handoff.ready", "id": "%s-%d" % (base, n),
                      "ts": int(time.time() * 1000), "origin": "test",
                      "payload": {"lead_id": n, "email": "jane%d@acme.test" % n,
                                  "rep": {"rep_id": "R01", "email": "ann@x.test"}}}
            client.send_multipart([b"", b"MDPC01", b"outbox", msgpack.packb(packet)])
            if allowed.poll(200):
                got.append(allowed.recv_multipart())
            for s in (plain, stranger):
                while s.poll(0):
                    leaked.append(s.recv_multipart())
        time.sleep(0.5)  # anything still on its way to the strangers
        for s in (plain, stranger):
            while s.poll(100):
                leaked.append(s.recv_multipart())
        self.assertEqual(leaked[:1], [], "a subscriber without an allowed key got packets")
        self.assertEqual(len(got), 5, "the allowed subscriber got no packets")
        self.assertEqual(got[0][0], b"handoff.rep.R01.")
        self.pipe.stop_clean("outbox", timeout=DEADLINE)

    def test_missing_server_cert_is_a_clear_error(self):
        os.remove(os.path.join(self.pipe.dir, "keys", "broker.key_secret"))
        out = subprocess.run(self.pipe.worker_args("outbox"), capture_output=True, text=True,
                             timeout=DEADLINE)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("broker.curve.server_cert", out.stdout + out.stderr)


if __name__ == "__main__":
    unittest.main()
