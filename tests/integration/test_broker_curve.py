#!/usr/bin/python3
"""CURVE on the broker (E9): with broker.curve.enabled, only peers whose public certificate is
in broker.curve.allowed_keys get in, on tcp and ipc alike. Certificates are written in czmq's
zcert format (pyzmq's zmq.auth.create_certificates writes the same ZPL files as
`handoff keygen`: NAME.key / NAME.key_secret here)."""
import os
import shutil
import sys
import unittest

import zmq
import zmq.auth

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import DEADLINE, MDPC, MdpClient, MdpWorker  # noqa: E402
from test_broker import HB_MS, pack, write_config  # noqa: E402


class TestCurve(unittest.TestCase):
    def setUp(self):
        self.procs = harness.procs_for(self, "ho-curve-")
        self.tmp = self.procs.dir
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

    def curve(self, secret_file):
        """(public, secret, server public) keys of a CURVE client with that certificate."""
        pub, sec = zmq.auth.load_certificate(secret_file)
        server_pub, _ = zmq.auth.load_certificate(self.server_pub)
        return pub, sec, server_pub

    def test_only_allowed_keys_get_in(self):
        ipc = "ipc://" + os.path.join(self.tmp, "b.ipc")
        tcp = self.procs.spawn_broker(self.cfg, ["tcp://127.0.0.1:*", ipc])[0]
        try:
            # a worker with an allowed key, over ipc
            w = MdpWorker(self.ctx, ipc, "echo", "sw", HB_MS, curve=self.curve(self.worker_sec))
            self.socks.append(w.sock)
            # an allowed client over tcp gets its answer
            good = MdpClient(self.ctx, tcp, curve=self.curve(self.client_sec))
            self.socks.append(good.sock)
            body = pack("test.echo", {"secure": True})
            good.send("echo", body)
            self.assertEqual(good.recv(pump=[w]), ("echo", [body, b"sw"]))
            # a client with a key that is not allowed, and a plain-text client: nothing
            bad = harness.dealer(self.ctx, tcp, curve=self.curve(self.stranger_sec))
            plain = harness.dealer(self.ctx, tcp)
            for s in (bad, plain):
                self.socks.append(s)
                # Not blocking: a DEALER whose only connection failed its handshake (the
                # broker refused it) has no peer until it reconnects, and a blocking send
                # then waits for ever (CI hung here once). Refused either way.
                try:
                    s.send_multipart([b"", MDPC, b"echo", body], flags=zmq.NOBLOCK)
                except zmq.Again:
                    pass
            for _ in range(50):
                w.pump()
                self.assertFalse(bad.poll(5) or plain.poll(5))
            self.assertEqual(len(w.got), 1)  # the refused requests never reached the worker
            self.assertTrue(self.procs.proc("broker").poll() is None)
        finally:
            self.assertEqual(self.procs.stop("broker"), 0)

    def test_missing_server_cert_is_a_clear_error(self):
        os.remove(self.server_sec)
        out = harness.run(["broker", "-c", self.cfg, "--bind", "tcp://127.0.0.1:*"],
                          timeout=DEADLINE)
        self.assertEqual(out.returncode, 1)
        self.assertIn("broker.curve.server_cert", out.stderr)


if __name__ == "__main__":
    if "HO_BIN" not in os.environ:
        sys.exit("set HO_BIN to the handoff binary")
    unittest.main(verbosity=2)
