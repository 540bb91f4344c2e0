#!/usr/bin/python3
"""Issue 14 item 1 through real processes: `handoff broker` + `handoff worker store` on a real
SQLite file, driven by a plain Majordomo client (pyzmq + msgpack). The store's downstream
types (score.request, route.request, handoff.ready) are left out of the routes, so the broker
returns them to the client that asked: what a worker emits for a request is visible.

A request whose reply was lost comes back (the broker, the store or the `run` parent died
after the store committed): the same envelopes again. The store must not write anything
twice, and must emit the same downstream messages, with the same ids, as the first time
(idempotent means "the same effects again", not silence).

Run: HO_BIN=build/handoff /usr/bin/python3 tests/integration/test_store_redelivery.py
"""
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

DEADLINE = 60.0
H = 3600000
T0 = 1795000000000


class Redelivery(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ho-redeliver-")
        self.pipe = harness.Pipeline(self.dir, deadline=DEADLINE, interval=0.2)
        self.ctx = harness.zmq_context(self)

    def tearDown(self):
        self.pipe.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def call(self, type_, id_, payload, ts):
        """One envelope to service store; {type: [ids]} of the reply's envelopes."""
        env = harness.envelope(type_, payload, id_, ts)
        body = harness.mdp_call(self.ctx, self.pipe.endpoint, "store", [harness.packb(env)],
                                DEADLINE)
        out = {}
        for frame in body:
            doc = harness.unpackb(frame)
            for e in doc if isinstance(doc, list) else [doc]:
                out.setdefault(e["type"], []).append(e["id"])
        return out

    def twice(self, type_, id_, payload, ts, want):
        first = self.call(type_, id_, payload, ts)
        self.assertIn(want, first, first)
        rows = self.pipe.query("SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM "
                               "assignments), (SELECT count(*) FROM scores), (SELECT count(*) "
                               "FROM lead_sources)")
        again = self.call(type_, id_, payload, ts)
        self.assertEqual(again.get(want), first[want], (first, again))
        self.assertEqual(self.pipe.query(
            "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM assignments), "
            "(SELECT count(*) FROM scores), (SELECT count(*) FROM lead_sources)"), rows)
        return first[want]

    def test_same_effects_again(self):
        self.pipe.write_config("routes:\n  quarantine: store\n")
        self.pipe.start("store")
        lead = {"source": "hubspot", "email": "jo@redeliver.example", "observed_at": T0,
                "fields": {"email": "jo@redeliver.example", "title": "VP Data"}}
        self.twice("lead.normalized", "l-1", lead, T0, "score.request")
        act = {"source": "web", "email": "jo@redeliver.example", "type": "demo_request",
               "occurred_at": T0 + H, "path": "/demo"}
        self.twice("activity.normalized", "a-1", act, T0 + H, "score.request")
        lead_id = self.pipe.one("SELECT id FROM leads")[0]
        scored = {"lead_id": lead_id, "as_of": T0 + H, "model_version": "m1", "fit": 60,
                  "interest": 40, "score": 100, "grade": "A1", "quadrant": "mql_now",
                  "mql": True, "explanation": []}
        self.twice("lead.scored", "s-1", scored, T0 + H, "route.request")
        assigned = {"lead_id": lead_id, "rep_id": "R1", "rep_name": "Rita", "rule": "east",
                    "assigned_at": T0 + 2 * H, "sla_due": T0 + 6 * H}
        self.twice("lead.assigned", "as-1", assigned, T0 + 2 * H, "handoff.ready")
        self.assertEqual(self.pipe.one("SELECT stage, owner_rep_id FROM leads"), ("MQL", "R1"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
