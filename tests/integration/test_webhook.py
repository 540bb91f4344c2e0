#!/usr/bin/python3
"""`handoff webhook` end to end: real processes (`handoff broker`, the ingest, store and
feedback workers, `handoff webhook`), real HTTP requests with urllib / http.client / raw
sockets, and the store's real SQLite file read back.

Asserts: each form shape (Facebook Lead object and leadgen notification, LinkedIn, HubSpot,
Typeform, plain JSON) is answered 202 with its event id and arrives through ingest in the
store under that id; a redelivery is the same event; the Facebook verify handshake echoes the
challenge and refuses a wrong token (403); bad, missing and wrongly prefixed signatures are
401 and nothing arrives; oversized bodies are 413 (with and without Content-Length);
malformed JSON is 400 with {error, field}; unknown paths 404, wrong methods 405; a lead
without an email and a leadgen notification without answers are 422 and land in the
store's quarantine; /feedback refuses a wrong token (401), takes outcomes, refuses and
quarantines a blank or unknown reason (422); after a burst of garbage the server
still answers; with no broker the answer is 503.

Run: HO_BIN=build/handoff /usr/bin/python3 tests/integration/test_webhook.py
"""
import base64
import hashlib
import hmac
import http.client
import json
import os
import random
import shutil
import socket
import sys
import tempfile
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import wait_for  # noqa: E402

SECRETS = {
    "facebook_app_secret": "fb-app-secret-1234",
    "facebook_verify_token": "verify-me-please",
    "linkedin_secret": "li-client-secret",
    "hubspot_secret": "hs-shared-secret",
    "typeform_secret": "tf-webhook-secret",
    "form_secret": "own-form-secret",
    "feedback_token": "feedback-bearer-token",
}
BODY_LIMIT = 65536


def src_dir():
    return harness.source_dir()


def fixture(name):
    with open(os.path.join(src_dir(), "tests", "fixtures", "webhooks", name), "rb") as f:
        return f.read()


def hex_sig(secret, body):
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def b64_sig(secret, body):
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


class Pipeline(harness.Pipeline):
    """broker + ingest + store + feedback workers + handoff webhook, in one temp dir"""

    def __init__(self, with_broker=True):
        super().__init__(tempfile.mkdtemp(prefix="ho-webhook-"))
        self.write_config("routes:\n  lead.raw: ingest\n  lead.normalized: store\n"
                          "  feedback.raw: feedback\n  lead.outcome: store\n"
                          "  quarantine: store\n")
        with open(os.path.join(self.dir, "webhook.yaml"), "w") as f:
            f.write("listen: 127.0.0.1:0\nbody_limit: %d\nbroker_timeout_ms: %d\n"
                    % (BODY_LIMIT, 5000 if with_broker else 1000))
            for k, v in SECRETS.items():
                f.write("%s: %s\n" % (k, json.dumps(v)))
        shutil.copy(os.path.join(src_dir(), "tests", "fixtures", "webhooks",
                                 "linkedin_lead_forms.json"), self.dir)
        try:
            if with_broker:
                self.start("ingest", "store", "feedback")
            self.webhook = self.spawn("webhook", [self.bin, "webhook", "-c", self.config],
                                      "webhook listening=")
            line = [x for x in self.log("webhook").splitlines()
                    if x.startswith("webhook listening=")][0]
            self.port = int(line.split()[1].rsplit(":", 1)[1])
        except Exception:
            self.close()
            raise

    def close(self):
        """Stop everything; returns (exit code, log text) of the webhook server."""
        super().close(timeout=10)
        result = (None, "")
        if getattr(self, "webhook", None):
            result = (self.webhook.returncode, self.log("webhook"))
        shutil.rmtree(self.dir, ignore_errors=True)
        return result

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def request(self, method, path, body=None, headers=None):
        """(status, parsed JSON body or text)"""
        req = urllib.request.Request(self.url(path), data=body, method=method,
                                     headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=20) as r:
                status, raw, ctype = r.status, r.read(), r.headers.get("Content-Type", "")
        except urllib.error.HTTPError as e:
            status, raw, ctype = e.code, e.read(), e.headers.get("Content-Type", "")
        if ctype.startswith("application/json"):
            return status, json.loads(raw.decode())
        return status, raw.decode()


def signed(route, body):
    """headers of a correctly signed post to /webhooks/<route>"""
    h = {"Content-Type": "application/json"}
    if route == "facebook":
        h["X-Hub-Signature-256"] = "sha256=" + hex_sig(SECRETS["facebook_app_secret"], body)
    elif route == "linkedin":
        h["X-LI-Signature"] = hex_sig(SECRETS["linkedin_secret"], body)
    elif route == "typeform":
        h["Typeform-Signature"] = "sha256=" + b64_sig(SECRETS["typeform_secret"], body)
    elif route == "hubspot":
        h["X-Handoff-Secret"] = SECRETS["hubspot_secret"]
    elif route == "form":
        h["X-Handoff-Secret"] = SECRETS["form_secret"]
    return h


class Webhook(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.p = Pipeline()

    @classmethod
    def tearDownClass(cls):
        rc, log = cls.p.close()
        # SIGTERM is a clean stop: exit 0, nothing reported by a sanitizer build
        if rc != 0 or "Sanitizer" in log or "runtime error" in log:
            raise AssertionError("webhook server exit %r:\n%s" % (rc, log[-4000:]))

    def post(self, route, body, headers=None):
        return self.p.request("POST", "/webhooks/" + route, body,
                              signed(route, body) if headers is None else headers)

    def arrived(self, event_id):
        """email and source of the lead stored under this lead.raw event id"""
        rows = wait_for("event %s in the store" % event_id, lambda: self.p.query(
            "SELECT l.email, s.source FROM lead_sources s JOIN leads l ON l.id = s.lead_id"
            " WHERE s.event_id = ?", (event_id,)))
        return rows[0]

    def test_each_shape_accepted(self):
        cases = [
            ("facebook", "facebook_lead.json", "marisol.q@tidewaterfreight.example", "facebook"),
            ("facebook", "facebook_change.json", "tobiah.wren@kestrelmills.example", "facebook"),
            ("linkedin", "linkedin_response.json", "ingrid.soderberg@fjordlogistik.example",
             "linkedin"),
            ("hubspot", "hubspot_submission.json", "otto.brandvold@lindqvist-energi.example",
             "hubspot_form"),
            ("typeform", "typeform_response.json", "priyanka@saffronbyte.example", "typeform"),
            ("form", "plain_form.json", "r.achterberg@polderdata.example", "form"),
        ]
        for route, name, email, source in cases:
            with self.subTest(name=name):
                status, body = self.post(route, fixture(name))
                self.assertEqual(status, 202, body)
                self.assertEqual(body["status"], "accepted")
                self.assertTrue(body["event_id"].startswith("lead-%s-" % source), body)
                self.assertEqual(self.arrived(body["event_id"]), (email, source))
        # the LinkedIn answers went through the form definitions: country from question 9005
        rows = self.p.query("SELECT country, company FROM leads WHERE email = ?",
                            ("ingrid.soderberg@fjordlogistik.example",))
        self.assertEqual(rows, [("NO", "Fjord Logistik AS")])

    def test_redelivery_is_the_same_event(self):
        body = json.dumps({"submission_id": "redeliver-1", "email": "twice@redeliver.example",
                           "first_name": "Twice"}).encode()
        s1, b1 = self.post("form", body)
        s2, b2 = self.post("form", body)
        self.assertEqual((s1, s2), (202, 202))
        self.assertEqual(b1["event_id"], b2["event_id"])
        self.arrived(b1["event_id"])
        rows = self.p.query("SELECT count(*) FROM lead_sources s JOIN leads l ON l.id = s.lead_id"
                            " WHERE l.email = ?", ("twice@redeliver.example",))
        self.assertEqual(rows, [(1,)])

    def test_facebook_verify_handshake(self):
        q = "/webhooks/facebook?hub.mode=subscribe&hub.verify_token=%s&hub.challenge=1158201444"
        status, text = self.p.request("GET", q % SECRETS["facebook_verify_token"])
        self.assertEqual((status, text), (200, "1158201444"))
        status, body = self.p.request("GET", q % "not-the-token")
        self.assertEqual(status, 403)
        self.assertEqual(body["field"], "hub.verify_token")
        status, body = self.p.request("GET", "/webhooks/facebook?hub.challenge=1")
        self.assertEqual(status, 400)
        self.assertEqual(body["field"], "hub.mode")

    def test_bad_signatures(self):
        def lead(tag):
            return json.dumps({"id": "sig-%s" % tag, "created_time": "2026-09-14T08:05:11+0000",
                               "field_data": [{"name": "email",
                                               "values": ["%s@forged.example" % tag]}]}).encode()
        good = lead("good")
        cases = {
            "missing": {},
            "wrong": {"X-Hub-Signature-256": "sha256=" + hex_sig("another-secret", good)},
            "other-body": {"X-Hub-Signature-256": "sha256=" + hex_sig(
                SECRETS["facebook_app_secret"], good + b" ")},
            "sha1-prefix": {"X-Hub-Signature-256": "sha1=" + hex_sig(
                SECRETS["facebook_app_secret"], good)},
            "no-prefix": {"X-Hub-Signature-256": hex_sig(SECRETS["facebook_app_secret"], good)},
            "not-hex": {"X-Hub-Signature-256": "sha256=" + "zz" * 32},
        }
        for tag, headers in cases.items():
            with self.subTest(tag=tag):
                status, body = self.post("facebook", good, headers)
                self.assertEqual(status, 401, body)
                self.assertEqual(body["field"], "X-Hub-Signature-256")
        tf = fixture("typeform_response.json")
        status, _ = self.post("typeform", tf, {"Typeform-Signature": "sha256=" + b64_sig(
            "wrong", tf)})
        self.assertEqual(status, 401)
        status, _ = self.post("typeform", tf, {"Typeform-Signature": hex_sig(
            SECRETS["typeform_secret"], tf)})
        self.assertEqual(status, 401)
        li = fixture("linkedin_response.json")
        status, _ = self.post("linkedin", li, {"X-LI-Signature": hex_sig("wrong", li)})
        self.assertEqual(status, 401)
        for route in ("hubspot", "form"):
            status, _ = self.post(route, fixture("plain_form.json"), {"X-Handoff-Secret": "guess"})
            self.assertEqual(status, 401)
        # the correctly signed one goes through; none of the forged ones arrived
        status, body = self.post("facebook", good)
        self.assertEqual(status, 202, body)
        self.arrived(body["event_id"])
        rows = self.p.query("SELECT email FROM leads WHERE email LIKE '%@forged.example'")
        self.assertEqual(rows, [("good@forged.example",)])

    def test_oversized_bodies(self):
        big = json.dumps({"email": "big@body.example", "message": "x" * BODY_LIMIT}).encode()
        status, body = self.post("form", big)
        self.assertEqual(status, 413)
        self.assertEqual(body["field"], "body")
        # chunked: no length up front, refused once the limit is passed
        conn = http.client.HTTPConnection("127.0.0.1", self.p.port, timeout=20)
        chunks = (big[i:i + 8192] for i in range(0, len(big), 8192))
        conn.request("POST", "/webhooks/form", body=chunks, encode_chunked=True,
                     headers=signed("form", big))
        r = conn.getresponse()
        self.assertEqual(r.status, 413)
        self.assertEqual(json.loads(r.read())["field"], "body")
        conn.close()
        # exactly at the limit is fine (a JSON body of BODY_LIMIT bytes)
        pad = BODY_LIMIT - len(json.dumps({"email": "edge@body.example", "message": ""}))
        edge = json.dumps({"email": "edge@body.example", "message": "y" * pad}).encode()
        self.assertEqual(len(edge), BODY_LIMIT)
        status, body = self.post("form", edge)
        self.assertEqual(status, 202, body)
        self.assertEqual(self.p.query("SELECT count(*) FROM leads WHERE email = ?",
                                      ("big@body.example",)), [(0,)])

    def test_malformed_json(self):
        for raw in (b'{"email": "a@b.example", ', b"", b"\xff\xfe{}", b"[1,2", b'{"a":1}{"b":2}'):
            with self.subTest(raw=raw):
                status, body = self.post("form", raw)
                self.assertEqual(status, 400, body)
                self.assertEqual(body["field"], "body")
                self.assertTrue(body["error"])
        # JSON, but not a form of that source
        status, body = self.post("facebook", fixture("typeform_response.json"))
        self.assertEqual(status, 400)
        self.assertIn("expected a facebook payload", body["error"])

    def test_paths_and_methods(self):
        status, body = self.p.request("GET", "/webhooks/unknown")
        self.assertEqual(status, 404)
        self.assertIn("error", body)
        status, _ = self.p.request("POST", "/", b"{}")
        self.assertEqual(status, 404)
        status, _ = self.p.request("GET", "/webhooks/form")
        self.assertEqual(status, 405)
        status, _ = self.p.request("DELETE", "/feedback")
        self.assertEqual(status, 405)
        status, _ = self.p.request("POST", "/healthz", b"{}")
        self.assertEqual(status, 405)
        status, body = self.p.request("GET", "/healthz")
        self.assertEqual((status, body["status"]), (200, "ok"))

    def quarantined(self, input_event_id):
        rows = wait_for("quarantine of %s" % input_event_id, lambda: self.p.query(
            "SELECT stage, code, field FROM quarantine WHERE input_event_id = ?",
            (input_event_id,)))
        return rows[0]

    def test_unmappable_is_422_and_quarantined(self):
        status, body = self.post("facebook", fixture("facebook_no_email.json"))
        self.assertEqual(status, 422, body)
        self.assertEqual((body["code"], body["field"]), ("missing_email", "email"))
        self.assertEqual(self.quarantined(body["event_id"]), ("webhook", "missing_email", "email"))
        status, body = self.post("facebook", fixture("facebook_change_id_only.json"))
        self.assertEqual(status, 422, body)
        self.assertEqual(body["code"], "leadgen_not_fetched")
        self.assertIn("5550001112228888", body["error"])
        self.assertEqual(self.quarantined(body["event_id"])[:2], ("webhook", "leadgen_not_fetched"))
        status, body = self.post("linkedin", fixture("linkedin_unknown_form.json"))
        self.assertEqual(status, 422, body)
        self.assertEqual(body["code"], "unknown_form")

    def feedback(self, obj, token=SECRETS["feedback_token"]):
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = "Bearer " + token
        return self.p.request("POST", "/feedback", json.dumps(obj).encode(), headers)

    def test_feedback(self):
        row = {"feedback_id": "HTTP-1", "email": "Later@Pending.example", "rep_id": "R01",
               "outcome": "lost", "reason": "", "occurred_at": "2026-10-22T09:44:16Z",
               "notes": "Closed lost"}
        self.assertEqual(self.feedback(row, token="wrong")[0], 401)
        self.assertEqual(self.feedback(row, token=None)[0], 401)
        # a loss without a reason is taken as `unspecified` (issue 12: reasons never cost an
        # outcome); the same row with the reason chosen is the same event
        status, body = self.feedback(row)
        self.assertEqual(status, 202, body)
        status, again = self.feedback(dict(row, reason="unspecified"))
        self.assertEqual(status, 202, again)
        self.assertEqual(again["outcome_ids"], body["outcome_ids"])
        # the store has not seen this lead: the outcome waits for it, validated
        rows = wait_for("pending outcome", lambda: self.p.query(
            "SELECT email, body FROM pending_outcomes WHERE email = ?", ("later@pending.example",)))
        outcome = json.loads(rows[0][1])
        payload = outcome.get("payload", outcome)
        self.assertEqual(payload["reason"], "unspecified")
        self.assertEqual(payload["reason_owner"], "sales")
        self.assertEqual(payload["notes"], "Closed lost")
        # an unknown reason code is kept as given and flagged; an unknown outcome is refused
        # and kept
        status, body = self.feedback(dict(row, feedback_id="HTTP-2", reason="weather"))
        self.assertEqual(status, 202, body)
        bad = dict(row, feedback_id="HTTP-5", outcome="on_hold")
        status, body = self.feedback(bad)
        self.assertEqual(status, 422, body)
        self.assertEqual((body["code"], body["field"]), ("unknown_outcome", "fields.outcome"))
        self.assertIn("on_hold", body["error"])
        self.assertEqual(self.quarantined(body["event_id"])[:2], ("webhook", "unknown_outcome"))
        # a batch, and a body that is not an outcome
        status, body = self.feedback([dict(row, feedback_id="HTTP-3", outcome="accepted",
                                           reason=None),
                                      dict(row, feedback_id="HTTP-4", outcome="won", reason=None,
                                           amount=36000)])
        self.assertEqual(status, 202, body)
        self.assertEqual(len(body["event_ids"]), 2)
        self.assertEqual(self.feedback("accepted")[0], 400)

    def test_zz_alive_after_garbage(self):
        rnd = random.Random(20261123)
        paths = ["/webhooks/facebook", "/webhooks/linkedin", "/webhooks/hubspot",
                 "/webhooks/typeform", "/webhooks/form", "/feedback", "/healthz", "/x" * 50]
        statuses = set()
        for i in range(150):
            kind = i % 5
            path = rnd.choice(paths)
            if kind == 0:  # random bytes, correctly signed where a signature is checked
                body = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 2000)))
                route = path.rsplit("/", 1)[1]
                s, _ = self.p.request("POST", path, body, signed(route, body))
            elif kind == 1:  # valid JSON of the wrong shape, signed
                body = json.dumps(rnd.choice([[], 1, "x", None, {"field_data": 5},
                                              {"formResponse": {"answers": [None, 3]}},
                                              {"object": "page", "entry": [{"changes": 1}]},
                                              {"fields": {}, "context": []}])).encode()
                route = path.rsplit("/", 1)[1]
                s, _ = self.p.request("POST", path, body, signed(route, body))
            elif kind == 2:  # a request cut off mid-headers or mid-body
                sock = socket.create_connection(("127.0.0.1", self.p.port), timeout=5)
                sock.sendall(b"POST /webhooks/form HTTP/1.1\r\nHost: x\r\nContent-Length: 500"
                             b"\r\n\r\n{\"email\": \"cut" if i % 2 else b"GET /healthz HT")
                sock.close()
                continue
            elif kind == 3:  # not HTTP at all
                sock = socket.create_connection(("127.0.0.1", self.p.port), timeout=5)
                sock.sendall(bytes(rnd.randrange(256) for _ in range(300)) + b"\r\n\r\n")
                try:
                    sock.recv(4096)
                except OSError:
                    pass
                sock.close()
                continue
            else:  # odd methods and headers
                s, _ = self.p.request(rnd.choice(["PUT", "PATCH", "OPTIONS", "GET"]), path,
                                      None, {"X-Hub-Signature-256": "sha256=" + "0" * 500})
            statuses.add(s)
        self.assertTrue(statuses <= {200, 202, 400, 401, 404, 405, 413, 422}, statuses)
        self.assertIsNone(self.p.webhook.poll())
        status, body = self.p.request("GET", "/healthz")
        self.assertEqual(status, 200)
        status, body = self.post("form", json.dumps({"email": "after@garbage.example"}).encode())
        self.assertEqual(status, 202, body)
        self.arrived(body["event_id"])


class NoBroker(unittest.TestCase):
    def test_broker_unreachable_is_503(self):
        p = Pipeline(with_broker=False)
        try:
            body = json.dumps({"email": "nobody@home.example"}).encode()
            status, reply = p.request("POST", "/webhooks/form", body, signed("form", body))
            self.assertEqual(status, 503, reply)
            self.assertIn("broker", reply["error"])
            status, reply = p.request("POST", "/feedback", json.dumps(
                {"email": "a@b.example", "outcome": "accepted"}).encode(),
                {"Authorization": "Bearer " + SECRETS["feedback_token"]})
            self.assertEqual(status, 503, reply)
            self.assertIsNone(p.webhook.poll())
        finally:
            rc, log = p.close()
        self.assertEqual(rc, 0, log)
        self.assertNotIn("Sanitizer", log)


if __name__ == "__main__":
    unittest.main(verbosity=2)
