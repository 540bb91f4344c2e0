#!/usr/bin/python3
"""Three `handoff worker score` processes behind a real `handoff broker` share the scoring load.

A client (pyzmq, Majordomo client dialogue) sends 3000 score.request envelopes in 30 batches of
100, all at once. Every lead must be scored exactly once: each batch answered once, 3000
lead.scored with 3000 distinct event ids, one per lead, each with the fit and interest the test
model gives that lead (worked out here from the two rules). The load must be shared: the
lead.scored origins name three different processes, each with a nonzero share, and mmi.status
counts handled requests on each of the three workers. The scorers read the model named by
workers.score.model, relative to the config folder.

Run: HO_BIN=build/handoff /usr/bin/python3 tests/integration/test_scorers.py
"""
import collections
import os
import shutil
import signal
import sys
import tempfile
import unittest

import msgpack
import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

DEADLINE = 60.0
MDPC = b"MDPC01"
T0 = 1795165200000  # 2026-11-20T09:00:00Z
DAY = 86400000
LEADS = 3000
BATCH = 100

MODEL = """version: "scorers-test-1"
fit:
  rules:
    - {name: vp, field: title, match: '\\bvp\\b', points: 30}
interest:
  decay: {half_life_days: 10}
  rules:
    - {name: demo, type: demo_request, points: 40}
grades:
  fit_bands: {A: 30, B: 20, C: 10}
  interest_bands: {"1": 30, "2": 10, "3": 5}
quadrants: {good_fit: 20, high_interest: 10}
mql: {quadrants: [mql_now]}
"""


def wait_for(what, fn, deadline=DEADLINE):
    return harness.wait_for(what, fn, deadline, interval=0.05)


def request(i):
    """score.request for lead i, and the (fit, interest) the model gives it."""
    vp = i % 2 == 0
    demo = i % 3 == 0
    acts = []
    if demo:
        # 10 days old: 40 x 0.5 = 20
        acts.append({"type": "demo_request", "path": "/demo", "url": None,
                     "occurred_at": T0 - 10 * DAY, "campaign": None})
    acts.append({"type": "email_open", "path": None, "url": None, "occurred_at": T0 - DAY,
                 "campaign": None})
    lead = {"lead_id": i, "email": "lead%d@acme%d.test" % (i, i % 7), "stage": "ML",
            "owner": None, "fields": {"title": "VP Data" if vp else "Data Analyst",
                                      "company": "Acme %d" % (i % 7)},
            "activities": acts}
    env = {"v": 1, "type": "score.request", "id": "sr-test-%d" % i, "ts": T0, "origin": "test",
           "payload": {"as_of": T0, "reason": "new", "lead": lead}}
    return env, (30 if vp else 0, 20 if demo else 0)


class Scorers(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ho-scorers-")
        self.pipe = harness.Pipeline(self.dir, deadline=DEADLINE, interval=0.05)
        self.ctx = zmq.Context()
        self.sock = None
        self.bin = os.environ["HO_BIN"]

    def tearDown(self):
        self.pipe.close()
        if self.sock is not None:
            self.sock.close(linger=0)
        self.ctx.term()
        shutil.rmtree(self.dir, ignore_errors=True)

    def recv(self):
        if not self.sock.poll(int(DEADLINE * 1000)):
            raise AssertionError("no reply within %.0f s" % DEADLINE)
        msg = self.sock.recv_multipart()
        self.assertEqual(msg[:2], [b"", MDPC])
        return msg[2].decode(), msg[3:]

    def status(self):
        self.sock.send_multipart([b"", MDPC, b"mmi.status", b""])
        service, body = self.recv()
        self.assertEqual(service, "mmi.status")
        return msgpack.unpackb(body[0], raw=False)["payload"]

    def test_three_scorers_share_the_load_and_score_each_lead_once(self):
        endpoint, config = self.pipe.endpoint, self.pipe.config
        with open(os.path.join(self.dir, "test-scoring.yaml"), "w") as f:
            f.write(MODEL)
        # lead.scored has no route here: the replies come back to this client only
        self.pipe.write_config("routes:\n  score.request: score\n"
                               "workers:\n  score:\n    model: test-scoring.yaml\n")
        self.pipe.start_broker()
        scorers = [self.pipe.spawn("score%d" % k, [self.bin, "worker", "score", "-c", config,
                                                   "--connect", endpoint, "--credit", "2"],
                                   "worker ready") for k in range(3)]
        self.sock = harness.dealer(self.ctx, endpoint)
        wait_for("3 score workers registered", lambda: len(
            [w for w in self.status()["workers"] if w["service"] == "score"]) == 3)

        expected = {}
        batches = []
        for b in range(LEADS // BATCH):
            envs = []
            for i in range(b * BATCH, (b + 1) * BATCH):
                env, want = request(i)
                envs.append(env)
                expected[i] = want
            batches.append(msgpack.packb(envs, use_bin_type=True))
        for frame in batches:
            self.sock.send_multipart([b"", MDPC, b"score", frame])

        answered = collections.Counter()  # batch number -> replies
        scored = collections.Counter()    # lead id -> lead.scored count
        ids = set()
        origins = collections.Counter()
        while sum(answered.values()) < len(batches):
            service, body = self.recv()
            self.assertEqual(service, "score")
            self.assertEqual(len(body), 1)  # one output type: one batch frame
            out = msgpack.unpackb(body[0], raw=False)
            self.assertIsInstance(out, list)
            self.assertEqual(len(out), BATCH)
            batch_no = {env["payload"]["lead_id"] // BATCH for env in out}
            self.assertEqual(len(batch_no), 1, "a reply mixes batches")
            answered[batch_no.pop()] += 1
            for env in out:
                self.assertEqual(env["type"], "lead.scored", env)
                p = env["payload"]
                lead = p["lead_id"]
                scored[lead] += 1
                ids.add(env["id"])
                origins[env["origin"]] += 1
                self.assertEqual(p["model_version"], "scorers-test-1")
                self.assertEqual((p["fit"], p["interest"]), expected[lead], lead)
                self.assertEqual(p["score"], sum(expected[lead]))
                self.assertEqual(p["email"], "lead%d@acme%d.test" % (lead, lead % 7))
                self.assertEqual(p["as_of"], T0)
                self.assertEqual(p["mql"], expected[lead] == (30, 20))
        self.assertEqual(set(answered.values()), {1})
        self.assertEqual(len(answered), len(batches))
        self.assertEqual(set(scored), set(range(LEADS)))
        self.assertEqual(set(scored.values()), {1})
        self.assertEqual(len(ids), LEADS)
        self.assertFalse(self.sock.poll(200))  # nothing answered twice

        # shared: three processes, each a nonzero share, by origin and by the broker's count
        self.assertEqual(len(origins), 3, origins)
        self.assertTrue(all(n > 0 for n in origins.values()), origins)
        self.assertTrue(all(o.startswith("score@") for o in origins), origins)
        pids = {o.rsplit(":", 1)[1] for o in origins}
        self.assertEqual(pids, {str(p.pid) for p in scorers})
        workers = [w for w in self.status()["workers"] if w["service"] == "score"]
        self.assertEqual(len(workers), 3)
        handled = [w["handled"] for w in workers]
        self.assertTrue(all(h > 0 for h in handled), workers)
        self.assertEqual(sum(handled), len(batches))
        sizes = sorted(n // BATCH for n in origins.values())
        self.assertEqual(sorted(handled), sizes)

        # stateless workers stop cleanly on SIGTERM (exit 0, no sanitizer report)
        for k in range(len(scorers)):
            self.assertEqual(self.pipe.stop("score%d" % k, signal.SIGTERM, timeout=10), 0)
            log = self.pipe.log("score%d" % k)
            self.assertNotIn("Sanitizer", log)
            self.assertIn("stopped requests=", log)


if __name__ == "__main__":
    unittest.main()
