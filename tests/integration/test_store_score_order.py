#!/usr/bin/python3
"""Scores are ordered by the snapshot they were computed from (bench/README.md "Soak", run 2:
200 MQLs were demoted to RECYCLED by a lead.scored with interest 0 that was computed from a
snapshot read before their demo request arrived, but carried a later as_of, and arrived
223-266 ms after the MQL score).

`handoff broker` + `handoff worker store` on a real SQLite file, driven by a plain Majordomo
client; score.request is left out of the routes, so the broker returns the store's requests to
the client, which answers them itself as a scorer would (the scorer copies the request's seq
into lead.scored). Every score.request carries a strictly increasing seq; the two replies are
applied in the reverse of their request order, the older one with the later as_of: the lead
keeps the newer snapshot's score and stage (MQL), and the late one is kept in the score
history only.

Run: HO_BIN=build/handoff /usr/bin/python3 tests/integration/test_store_score_order.py
"""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

DEADLINE = 60.0
H = 3600000
T0 = 1795000000000


class ScoreOrder(unittest.TestCase):
    def setUp(self):
        self.pipe = harness.Pipeline(harness.temp_dir(self, "ho-score-order-"),
                                     deadline=DEADLINE)
        self.addCleanup(self.pipe.close)
        self.ctx = harness.zmq_context(self)
        self.pipe.write_config("routes:\n  quarantine: store\n")
        self.pipe.start("store")

    def call(self, type_, id_, payload, ts):
        """One envelope to service store; the reply's envelopes."""
        env = harness.envelope(type_, payload, id_, ts)
        body = harness.mdp_call(self.ctx, self.pipe.endpoint, "store", [harness.packb(env)],
                                DEADLINE)
        out = []
        for frame in body:
            doc = harness.unpackb(frame)
            out.extend(doc if isinstance(doc, list) else [doc])
        return out

    def requests(self, reply):
        got = [e["payload"] for e in reply if e["type"] == "score.request"]
        self.assertEqual(len(got), 1, reply)
        return got[0]

    def scored(self, req, as_of, interest, mql, id_):
        p = {"lead_id": self.lead_id,
             "as_of": as_of, "seq": req["seq"], "model_version": "m1", "fit": 60,
             "interest": interest, "score": 60 + interest,
             "grade": "A1" if mql else "A4", "quadrant": "mql_now" if mql else "nurture",
             "mql": mql, "explanation": []}
        return self.call("lead.scored", id_, p, as_of)

    def test_older_snapshot_applied_last_does_not_win(self):
        email = "late@order.example"
        lead = {"source": "hubspot", "email": email, "observed_at": T0,
                "fields": {"email": email, "title": "VP Data"}}
        older = self.requests(self.call("lead.normalized", "l-1", lead, T0))
        self.lead_id = self.pipe.one("SELECT id FROM leads")[0]
        act = {"source": "web", "email": email, "type": "demo_request",
               "occurred_at": T0 + H, "path": "/demo"}
        newer = self.requests(self.call("activity.normalized", "a-1", act, T0 + H))
        self.assertIsInstance(older["seq"], int)
        self.assertGreater(newer["seq"], older["seq"])  # strictly increasing per request
        self.assertEqual(len(newer["lead"]["activities"]), 1)
        self.assertEqual(len(older["lead"].get("activities", [])), 0)

        # the newer snapshot's reply first: MQL
        self.scored(newer, T0 + H, 40, True, "s-new")
        self.assertEqual(self.pipe.one("SELECT stage, interest FROM leads"), ("MQL", 40))
        # then the older snapshot's, computed "as of" later (a re-score whose snapshot was
        # read before the activity): kept in the history, but it must not move the lead
        self.scored(older, T0 + 2 * H, 0, False, "s-old")
        self.assertEqual(self.pipe.one("SELECT stage, interest, score_seq FROM leads"),
                         ("MQL", 40, newer["seq"]))
        self.assertEqual(self.pipe.count("SELECT count(*) FROM scores"), 2)

        # a newer request after both is applied again as usual (the lead is not stuck)
        act2 = {"source": "web", "email": email, "type": "page_view",
                "occurred_at": T0 + 3 * H, "path": "/pricing"}
        third = self.requests(self.call("activity.normalized", "a-2", act2, T0 + 3 * H))
        self.assertGreater(third["seq"], newer["seq"])
        self.scored(third, T0 + 3 * H, 45, True, "s-third")
        self.assertEqual(self.pipe.one("SELECT stage, interest, score_seq FROM leads"),
                         ("MQL", 45, third["seq"]))


if __name__ == "__main__":
    unittest.main(verbosity=2)
