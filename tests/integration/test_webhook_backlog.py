#!/usr/bin/python3
"""`handoff webhook` answers 503 with Retry-After while the pipeline is backed up, and never
loses a submission it answered 2xx.

Real processes: `handoff broker`, `handoff worker ingest`, `handoff worker store` (credit 1)
and `handoff webhook`, real HTTP posts (http.client), the store's real SQLite file read back.
The store is made slow by SIGSTOP (it stays registered: the broker's liveness is 25 s), so
every accepted submission's lead.normalized waits in the broker's queue for it.

  * --max-backlog 4 (webhook.yaml says 1000: the flag wins): while the store is stopped, a
    burst of posts is answered 202 until the broker holds more than 4 requests, then 503 with
    the configured Retry-After and a body naming the backlog; at most max_backlog + the
    store's one request in flight + 1 were taken; /healthz still answers 200 and says it is
    not accepting; further posts stay 503. SIGCONT: once the queue drains, the refused
    submissions, posted again like a form vendor retrying, are answered 202. Every 2xx
    submission is a lead in SQLite; one refused and never retried is not (a 503 forwarded
    nothing).
  * --max-backlog 0 (off), same stopped store: the whole burst is answered 202 and waits in
    the broker (what the bound prevents; also shows the first test can fail), then arrives.

Run: HO_BIN=build/handoff /usr/bin/python3 tests/integration/test_webhook_backlog.py
"""
import http.client
import json
import os
import shutil
import signal
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import wait_for  # noqa: E402

SECRET = "backlog-form-secret"
MAX_BACKLOG, RETRY_AFTER, STORE_CREDIT = 4, 7, 1


class Backlogged(harness.Pipeline):
    """broker + ingest + store (credit 1) + handoff webhook --max-backlog N"""

    def __init__(self, folder, max_backlog):
        super().__init__(folder, "tcp", interval=0.05)
        # liveness 100 x 250 ms: a stopped store stays registered (its queue keeps counting)
        self.write_config("routes:\n  lead.raw: ingest\n  lead.normalized: store\n"
                          "  quarantine: store\n", liveness=100)
        with open(os.path.join(folder, "webhook.yaml"), "w") as f:
            f.write("listen: 127.0.0.1:0\nbroker_timeout_ms: 5000\nmax_backlog: 1000\n"
                    "retry_after_s: %d\nform_secret: %s\n" % (RETRY_AFTER, json.dumps(SECRET)))
        self.start("ingest")
        self.store = self.spawn("store", self.worker_args("store") + [
            "--credit", str(STORE_CREDIT)], "worker ready")
        self.spawn("webhook", [self.bin, "webhook", "-c", self.config, "--max-backlog",
                               str(max_backlog)], "webhook listening=")
        line = [x for x in self.log("webhook").splitlines()
                if x.startswith("webhook listening=")][0]
        self.port = int(line.split()[1].rsplit(":", 1)[1])

    def request(self, method, path, body=None):
        """(status, headers, parsed JSON body)"""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            headers = {"Content-Type": "application/json", "X-Handoff-Secret": SECRET}
            conn.request(method, path, body=body, headers=headers)
            r = conn.getresponse()
            raw = r.read()
            return r.status, r.headers, json.loads(raw.decode()) if raw else None
        finally:
            conn.close()

    def post_lead(self, n):
        body = json.dumps({"submission_id": "burst-%d" % n, "email": email(n),
                           "first_name": "Burst%d" % n, "company": "Backlog Co"}).encode()
        return self.request("POST", "/webhooks/form", body)

    def stored(self, emails):
        rows = self.query("SELECT email FROM leads") or []
        return set(r[0] for r in rows) & set(emails)


def email(n):
    return "burst%d@backlog-co.example" % n


class WebhookBacklog(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ho-webhook-backlog-")
        self.pipe = None

    def tearDown(self):
        if self.pipe:
            store = self.pipe.store
            if store.poll() is None:
                store.send_signal(signal.SIGCONT)
            self.pipe.close(timeout=10)
            bad = self.pipe.sanitizer_reports()
            webhook = self.pipe.proc("webhook")
        shutil.rmtree(self.dir, ignore_errors=True)
        if self.pipe:
            self.assertEqual(bad, [])
            self.assertEqual(webhook.returncode, 0)

    def start(self, max_backlog):
        self.pipe = Backlogged(self.dir, max_backlog)
        status, _, body = self.pipe.post_lead(0)
        self.assertEqual(status, 202, body)
        wait_for("the first lead stored", lambda: self.pipe.stored([email(0)]))
        return self.pipe

    def test_backlog_answers_503_then_accepts_again(self):
        p = self.start(MAX_BACKLOG)
        p.store.send_signal(signal.SIGSTOP)
        accepted, refused = [0], []
        n = 0
        while len(refused) < 4:
            n += 1
            self.assertLess(n, 100, "no 503 after 100 posts to a stopped store")
            status, headers, body = p.post_lead(n)
            if status == 202:
                # once refusing, it waits for the estimate to fall to max_backlog / 2; with the
                # store stopped the real queue stays above max_backlog - credit - 1 (what the
                # estimate can overcount: requests the store took since the last status read)
                self.assertFalse(refused, "a 202 while the stopped store's queue was full")
                accepted.append(n)
                continue
            self.assertEqual(status, 503, body)
            self.assertEqual(headers.get("Retry-After"), str(RETRY_AFTER))
            self.assertIn("pipeline backlog", body["error"])
            self.assertGreater(body["backlog"], MAX_BACKLOG)
            self.assertEqual(body["retry_after"], RETRY_AFTER)
            refused.append(n)
        # taken while stopped: what the broker counted plus what it could not see yet
        self.assertGreater(len(accepted) - 1, 0)
        self.assertLessEqual(len(accepted) - 1, MAX_BACKLOG + STORE_CREDIT + 1)
        status, _, health = p.request("GET", "/healthz")
        self.assertEqual(status, 200)
        self.assertFalse(health["accepting"], health)
        self.assertGreaterEqual(health["refused_backlog"], len(refused))
        self.assertIn("pipeline backlog", p.log("webhook"))

        p.store.send_signal(signal.SIGCONT)
        never_retried = refused.pop()

        def retried(n):
            def once():
                status, _, body = p.post_lead(n)
                self.assertIn(status, (202, 503), body)
                return status == 202
            return once
        for n in refused:
            wait_for("a retry of burst %d accepted" % n, retried(n), interval=0.1)
            accepted.append(n)
        status, _, health = p.request("GET", "/healthz")
        self.assertTrue(health["accepting"], health)
        self.assertIn("accepting again", p.log("webhook"))

        want = set(email(n) for n in accepted)
        wait_for("every 2xx submission in SQLite", lambda: p.stored(want) == want)
        self.assertEqual(p.stored([email(never_retried)]), set())
        self.assertEqual(p.count("SELECT count(*) FROM lead_sources"), len(accepted))

    def test_without_a_bound_everything_waits_in_the_broker(self):
        p = self.start(0)
        p.store.send_signal(signal.SIGSTOP)
        burst = range(1, 2 * (MAX_BACKLOG + STORE_CREDIT + 2))
        for n in burst:
            status, _, body = p.post_lead(n)
            self.assertEqual(status, 202, body)
        p.store.send_signal(signal.SIGCONT)
        want = set(email(n) for n in burst)
        wait_for("the burst in SQLite", lambda: p.stored(want) == want)


if __name__ == "__main__":
    unittest.main()
