#!/usr/bin/python3
"""The scoring loop through real processes: `handoff broker` + the store and score workers (a
test model named by workers.score.model, half-life 1 day so decay shows within the store's
re-score window), messages sent by a Majordomo client, state read back from SQLite.

1. lead.normalized (a VP: fit 30) -> store -> score.request -> score -> lead.scored: nurture,
   stays ML.
2. activity.normalized demo_request at T0 -> re-scored as of T0: interest 40, mql_now ->
   the store moves the lead ML -> MQL stamped T0, recording model version and score.
3. tick now = T0 + 3 days -> the store asks for a re-score (reason rescore, as_of = tick) ->
   interest 40 x 0.5^3 = 5 -> nurture, not MQL -> the unowned lead drops MQL -> RECYCLED
   (score_decayed). The stored explanation shows the decay (raw 40, factor 0.125, 3 days old).
4. A second lead assigned to a rep before the tick is not re-scored: it keeps its stage,
   score and owner.

Run: HO_BIN=build/handoff /usr/bin/python3 tests/integration/test_scorers_decay.py
"""
import json
import os
import shutil
import sys
import tempfile
import unittest

import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

DEADLINE = 30.0
T0 = 1795165200000  # 2026-11-20T09:00:00Z
DAY = 86400000

MODEL = """version: "decay-test-1"
fit:
  rules:
    - {name: vp, field: title, match: '\\bvp\\b', points: 30}
interest:
  window_days: 30
  decay: {half_life_days: 1}
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


class Decay(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ho-scoredecay-")
        self.pipe = harness.Pipeline(self.dir, deadline=DEADLINE, interval=0.05)
        self.ctx = zmq.Context()
        self.sock = None

    def tearDown(self):
        self.pipe.close()
        if self.sock is not None:
            self.sock.close(linger=0)
        self.ctx.term()
        shutil.rmtree(self.dir, ignore_errors=True)

    def send(self, service, type_, id_, payload, ts):
        harness.mdp_request(self.sock, service, type_, id_, payload, ts, DEADLINE)

    def query(self, sql, args=()):
        return self.pipe.query(sql, args)

    def lead(self, email):
        rows = self.query("SELECT id, stage, fit, interest, grade, quadrant, model_version, "
                          "scored_at, owner_rep_id FROM leads WHERE email = ?", (email,))
        return rows[0] if rows else None

    def add_lead(self, email, at):
        self.send("store", "lead.normalized", "ln-" + email, {
            "source": "test", "source_ref": {"file": "t.csv", "line": 2}, "email": email,
            "fields": {"email": email, "domain": email.split("@")[1], "title": "VP Data",
                       "company": "Acme"}, "observed_at": at}, at)

    def add_demo(self, email, at):
        self.send("store", "activity.normalized", "act-" + email, {
            "source": "web", "source_ref": {"file": "a.csv", "line": 2}, "email": email,
            "activity_id": "a-" + email, "type": "demo_request", "occurred_at": at,
            "url": "https://acme.example/demo", "path": "/demo", "source_system": "web",
            "attributes": {}}, at)

    def test_mql_then_decay_drops_unowned_lead(self):
        with open(os.path.join(self.dir, "decay-scoring.yaml"), "w") as f:
            f.write(MODEL)
        # no route worker: route.request has no route here and is dropped
        self.pipe.write_config("routes:\n  score.request: score\n  lead.scored: store\n"
                               "  quarantine: store\n"
                               "workers:\n  score:\n    model: decay-scoring.yaml\n")
        self.pipe.start("store", "score")
        self.sock = harness.dealer(self.ctx, self.pipe.endpoint)

        a, b = "ada@acme.test", "bob@acme.test"
        for email in (a, b):
            self.add_lead(email, T0 - DAY)
        wait_for("both leads scored once", lambda: all(
            (self.lead(e) or [None] * 8)[7] == T0 - DAY for e in (a, b)))
        lid, stage, fit, interest, grade, quadrant, version, _, _ = self.lead(a)
        self.assertEqual((stage, fit, interest, grade, quadrant, version),
                         ("ML", 30, 0, "A4", "nurture", "decay-test-1"))

        for email in (a, b):
            self.add_demo(email, T0)
        wait_for("both leads MQL", lambda: all(
            (self.lead(e) or [None, None])[1] == "MQL" for e in (a, b)))
        self.assertEqual(self.lead(a)[2:8], (30, 40, "A1", "mql_now", "decay-test-1", T0))
        hist = self.query("SELECT from_stage, to_stage, at, actor, score, fit, interest "
                          "FROM stage_history WHERE lead_id = ? AND kind = 'transition' "
                          "ORDER BY id", (lid,))
        self.assertEqual(hist[-1], ("ML", "MQL", T0, "score", 70, 30, 40))

        # bob is handed to a rep before the tick: he keeps stage and owner
        bob = self.lead(b)[0]
        self.send("store", "lead.assigned", "asg-bob", {
            "lead_id": bob, "email": b, "rep_id": "R1", "rep_name": "Rita Rep",
            "rep_email": "rita@vendor.test", "queue": None, "rule": "test",
            "reason": "test", "assigned_at": T0 + 3600000, "sla_due": T0 + 5 * DAY,
            "reassign_due": T0 + 6 * DAY, "reassigned_from": None}, T0 + 3600000)
        wait_for("bob owned", lambda: self.lead(b)[8] == "R1")

        # three days later: 40 x 0.5^3 = 5 < high_interest 10
        now = T0 + 3 * DAY
        self.send("store", "tick", "tick-1", {"now": now}, now)
        wait_for("ada re-scored as of the tick", lambda: self.lead(a)[7] == now)
        self.assertEqual(self.lead(a)[1:6], ("RECYCLED", 30, 5, "A3", "nurture"))
        hist = self.query("SELECT from_stage, to_stage, at, actor, reason FROM stage_history "
                          "WHERE lead_id = ? AND kind = 'transition' ORDER BY id", (lid,))
        self.assertEqual(hist[-1], ("MQL", "RECYCLED", now, "score", "score_decayed"))
        ex = json.loads(self.query("SELECT explanation_json FROM scores WHERE lead_id = ? "
                                   "AND at = ?", (lid, now))[0][0])
        demo = [e for e in ex if e["rule"] == "demo"]
        self.assertEqual(len(demo), 1)
        # compact explanation: 1 firing of 40 points, decayed to 5, the activity at T0
        self.assertEqual((demo[0]["raw"], demo[0]["points"], demo[0]["n"], demo[0]["last"]),
                         (40, 5, 1, T0))
        self.assertEqual(sum(e["points"] for e in ex), 35)
        # owned: the store does not re-score a lead sales holds (the same tick re-scored
        # ada), so bob keeps his stage, score and owner
        self.assertEqual(self.lead(b)[1:4], ("MQL", 30, 40))
        self.assertEqual(self.lead(b)[7:9], (T0, "R1"))


if __name__ == "__main__":
    unittest.main()
