#!/usr/bin/python3
"""CURVE on the broker (E9): with broker.curve.enabled, only peers whose public certificate is
in broker.curve.allowed_keys get in, on tcp and ipc alike. Certificates are written in czmq's
zcert format (pyzmq's zmq.auth.create_certificates writes the same ZPL files as
`handoff keygen`: NAME.key / NAME.key_secret here)."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import zmq
import zmq.auth

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_broker import (DEADLINE, MDPC, Broker, Worker, pack,  # noqa: E402
                         write_config)


class TestCurve(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ho-curve-")
        keys = os.path.join(self.tmp, "keys")
        allowed = os.path.join(keys, "allowed")
        os.makedirs(allowed)
        self.server_pub, self.server_sec = zmq.auth.create_certificates(keys, "broker")
        self.client_pub, self.client_sec = zmq.auth.create_certificates(keys, "client")
        self.worker_pub, self.worker_sec = zmq.auth.create_certificates(keys, "worker")
        _, self.stranger_sec = zmq.auth.create_certificates(keys, "stranger")
        shutil.copy(self.client_pub, allowed)
        shutil.copy(self.worker_pub, allowed)
        extra = ("  curve:\n    enabled: true\n    server_cert: keys/broker.key_secret\n"
                 "    allowed_keys: keys/allowed\n")
        self.cfg = write_config(self.tmp, extra=extra)
        self.ctx = zmq.Context()
        self.socks = []

    def tearDown(self):
        for s in self.socks:
            s.close()
        self.ctx.term()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def secure(self, sock, secret_file):
        pub, sec = zmq.auth.load_certificate(secret_file)
        server_pub, _ = zmq.auth.load_certificate(self.server_pub)
        sock.curve_publickey, sock.curve_secretkey = pub, sec
        sock.curve_serverkey = server_pub
        return sock

    def test_only_allowed_keys_get_in(self):
        ipc = "ipc://" + os.path.join(self.tmp, "b.ipc")
        broker = Broker(self.tmp, self.cfg, ["tcp://127.0.0.1:*", ipc])
        try:
            tcp = broker.endpoints[0]
            # a worker with an allowed key, over ipc
            w = Worker.__new__(Worker)
            w.sock = self.secure(self.ctx.socket(zmq.DEALER), self.worker_sec)
            w.sock.linger = 0
            self.socks.append(w.sock)
            w.sock.connect(ipc)
            w.name, w.mode, w.got, w.disconnected = "sw", "echo", [], False
            w.next_hb = 0
            w.sock.send_multipart([b"", b"MDPW01", b"\x01", b"echo"])
            # an allowed client over tcp gets its answer
            good = self.secure(self.ctx.socket(zmq.DEALER), self.client_sec)
            good.linger = 0
            self.socks.append(good)
            good.connect(tcp)
            body = pack("test.echo", {"secure": True})
            good.send_multipart([b"", MDPC, b"echo", body])
            got = None
            for _ in range(int(DEADLINE * 100)):
                w.pump()
                if good.poll(10):
                    got = good.recv_multipart()
                    break
            self.assertEqual(got, [b"", MDPC, b"echo", body, b"sw"])
            # a client with a key that is not allowed, and a plain-text client: nothing
            bad = self.secure(self.ctx.socket(zmq.DEALER), self.stranger_sec)
            plain = self.ctx.socket(zmq.DEALER)
            for s in (bad, plain):
                s.linger = 0
                self.socks.append(s)
                s.connect(tcp)
                s.send_multipart([b"", MDPC, b"echo", body])
            for _ in range(50):
                w.pump()
                self.assertFalse(bad.poll(5) or plain.poll(5))
            self.assertEqual(len(w.got), 1)  # the refused requests never reached the worker
            self.assertTrue(broker.alive())
        finally:
            self.assertEqual(broker.stop(), 0)

    def test_missing_server_cert_is_a_clear_error(self):
        os.remove(self.server_sec)
        out = subprocess.run([os.environ["HO_BIN"], "broker", "-c", self.cfg, "--bind",
                              "tcp://127.0.0.1:*"], capture_output=True, timeout=DEADLINE)
        self.assertEqual(out.returncode, 1)
        self.assertIn(b"broker.curve.server_cert", out.stderr)


if __name__ == "__main__":
    if "HO_BIN" not in os.environ:
        sys.exit("set HO_BIN to the handoff binary")
    unittest.main(verbosity=2)
