#!/usr/bin/python3
"""The webhook server over HTTPS (webhook.yaml tls_cert/tls_key), with a self-signed
certificate made by openssl in the test, in front of a real broker and ingest worker.

Asserts:
- a form POSTed over HTTPS, verified against the test's CA file and host name, is answered
  202 with its event id (it went through the broker to ingest); plain HTTP to the same port
  gets no HTTP answer;
- SIGHUP after the files were replaced: the next TLS handshake presents the new certificate
  (its SHA-256 equals the new file's), the old one is gone; a reload with a broken file keeps
  the previous certificate and logs why;
- tls_cert without tls_key, and a missing certificate file, stop the server at start with
  exit 1 and a message naming the key or file.

Run: HO_BIN=build/handoff /usr/bin/python3 tests/integration/test_webhook_tls.py
"""
import hashlib
import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

HO_BIN = os.environ["HO_BIN"]


def make_cert(folder, name):
    cert, key = os.path.join(folder, name + ".crt"), os.path.join(folder, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


def der_sha256(pem_path):
    with open(pem_path) as f:
        return hashlib.sha256(ssl.PEM_cert_to_DER_cert(f.read())).hexdigest()


class WebhookTlsTest(unittest.TestCase):
    def setUp(self):
        self.procs = harness.procs_for(self, "ho-tls-")
        self.dir = self.procs.dir
        self.port = harness.free_port()
        self.endpoint = "ipc://%s/broker.ipc" % self.dir
        self.config = os.path.join(self.dir, "handoff.yaml")
        with open(self.config, "w") as f:
            f.write("broker:\n  endpoint: %s\ndata_dir: %s/data\n" % (self.endpoint, self.dir))

    def write_webhook(self, extra):
        with open(os.path.join(self.dir, "webhook.yaml"), "w") as f:
            f.write("listen: 127.0.0.1:%d\nallow_unsigned: true\n%s" % (self.port, extra))

    def context(self, cafile):
        ctx = ssl.create_default_context(cafile=cafile)
        ctx.check_hostname = True
        return ctx

    def served_cert_sha256(self, cafile):
        with socket.create_connection(("127.0.0.1", self.port), timeout=30) as raw:
            with self.context(cafile).wrap_socket(raw, server_hostname="localhost") as s:
                return hashlib.sha256(s.getpeercert(binary_form=True)).hexdigest()

    def test_https_post_and_reload_on_sighup(self):
        cert, key = make_cert(self.dir, "one")
        os.rename(cert, os.path.join(self.dir, "server.crt"))
        os.rename(key, os.path.join(self.dir, "server.key"))
        first_ca = os.path.join(self.dir, "first-ca.pem")
        with open(os.path.join(self.dir, "server.crt")) as f, open(first_ca, "w") as g:
            g.write(f.read())
        self.write_webhook("tls_cert: server.crt\ntls_key: server.key\n")
        self.procs.spawn("run", [HO_BIN, "run", "-c", self.config, "--only", "broker,ingest",
                                 "--tick", "0"], "run ready")
        wh = self.procs.spawn("webhook", [HO_BIN, "webhook", "-c", self.config],
                              "webhook listening=", out=True)

        conn = http.client.HTTPSConnection("localhost", self.port, timeout=60,
                                           context=self.context(first_ca))
        body = json.dumps({"email": "tls@secure.example", "first_name": "Tess"})
        conn.request("POST", "/webhooks/form", body, {"Content-Type": "application/json"})
        r = conn.getresponse()
        reply = json.loads(r.read())
        conn.close()
        self.assertEqual(r.status, 202, reply)
        self.assertEqual(reply["status"], "accepted")
        self.assertTrue(reply["event_id"])

        plain = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        with self.assertRaises((http.client.HTTPException, ConnectionError, OSError)):
            plain.request("GET", "/healthz")
            plain.getresponse().read()
        plain.close()

        # new pair in place, SIGHUP: a handshake after it shows the new certificate (the
        # reload happens at the first handshake after the signal arrived)
        self.assertEqual(self.served_cert_sha256(first_ca), der_sha256(first_ca))
        cert2, key2 = make_cert(self.dir, "two")
        second_ca = os.path.join(self.dir, "second-ca.pem")
        with open(cert2) as f, open(second_ca, "w") as g:
            g.write(f.read())
        os.replace(cert2, os.path.join(self.dir, "server.crt"))
        os.replace(key2, os.path.join(self.dir, "server.key"))
        wh.send_signal(signal.SIGHUP)

        def served_second():
            try:
                return self.served_cert_sha256(second_ca)
            except ssl.SSLCertVerificationError:
                return None  # still the first certificate: the signal is not in yet
        got = harness.wait_for("the new certificate", served_second)
        self.assertEqual(got, der_sha256(second_ca))
        self.assertNotEqual(got, der_sha256(first_ca))
        self.assertIn("tls: reloaded certificate", self.procs.log("webhook"))

        # a broken file: the reload fails, the current certificate stays
        with open(os.path.join(self.dir, "server.crt"), "w") as f:
            f.write("not a certificate\n")
        wh.send_signal(signal.SIGHUP)

        def failed_reload_seen():
            self.assertEqual(self.served_cert_sha256(second_ca), der_sha256(second_ca))
            return "reload failed, keeping the previous certificate" in self.procs.log("webhook")
        harness.wait_for("the failed reload", failed_reload_seen)
        self.assertEqual(self.procs.stop("webhook"), 0)

    def test_bad_tls_settings_stop_the_server(self):
        cert, _ = make_cert(self.dir, "lonely")
        for extra, message in (("tls_cert: %s\n" % cert, "tls_key"),
                               ("tls_cert: missing.crt\ntls_key: missing.key\n", "missing.crt")):
            self.write_webhook(extra)
            r = subprocess.run([HO_BIN, "webhook", "-c", self.config], capture_output=True,
                               text=True, timeout=60)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn(message, r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
