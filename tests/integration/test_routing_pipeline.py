#!/usr/bin/python3
"""End to end through real processes: `handoff broker` + the store, route and outbox workers
with the SHIPPED routing.yaml and reps.csv (built-in copies), and the controllable clock
(`tick` messages with a chosen `now`).

A scored MQL from New York with 5000 employees goes store -> route (rule us-east-enterprise,
rep HE1, weight 2) -> store -> handoff.ready -> outbox file data/outbox/HE1/<lead>-<event>.json
holding the packet (contact, location, score, sla_due 4 h after the MQL). A tick past sla_due
makes the store send sla.breach remind -> route -> rep.reminder file for HE1; a tick past
reassign_due makes it send sla.breach reassign -> route picks HE2 (never HE1) -> a new
handoff packet for HE2.

Run: HO_BIN=build/handoff /usr/bin/python3 tests/integration/test_routing_pipeline.py
"""
import glob
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time
import unittest

import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

DEADLINE = 20.0
T0 = 1795165200000  # 2026-11-20T09:00:00Z, a Friday
HOUR = 3600000


def wait_for(what, fn, deadline=DEADLINE):
    return harness.wait_for(what, fn, deadline, interval=0.05)


class Pipeline(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ho-route-pipe-")
        self.pipe = harness.Pipeline(self.dir, deadline=DEADLINE, interval=0.05)
        self.ctx = zmq.Context()
        self.client = None

    def tearDown(self):
        self.pipe.close()
        if self.client is not None:
            self.client.close(linger=0)
        self.ctx.term()
        shutil.rmtree(self.dir, ignore_errors=True)

    def send(self, service, type_, id_, payload, ts=None):
        harness.mdp_request(self.client, service, type_, id_, payload,
                            ts or int(time.time() * 1000), DEADLINE)

    def packets(self, rep, type_):
        out = []
        for path in glob.glob(os.path.join(self.data, "outbox", rep, "*.json")):
            with open(path) as f:
                doc = json.load(f)
            if doc["type"] == type_:
                out.append(doc)
        return out

    def test_mql_to_packet_then_sla_remind_and_reassign(self):
        self.data = self.pipe.data
        self.pipe.write_config(
            "routes:\n  route.request: route\n  lead.assigned: store\n"
            "  handoff.ready: outbox\n  sla.breach: route\n  rep.reminder: outbox\n"
            "  quarantine: store\n"
            "workers:\n  route:\n    rules: routing.yaml\n  outbox:\n    dir: outbox\n",
            liveness=3)
        self.pipe.start("store", "route", "outbox")
        self.client = harness.dealer(self.ctx, self.pipe.endpoint)

        email = "dana.whitlock@bigbank.example"
        fields = {"email": email, "first_name": "Dana", "last_name": "Whitlock",
                  "title": "VP Data", "company": "Big Bank Corp", "domain": "bigbank.example",
                  "industry": "Banking", "industry_group": "finance", "employees": 5000,
                  "employees_label": "5000", "country": "US", "state": "NY",
                  "city": "New York", "lifecycle_stage": "Lead", "original_source": "Paid Search",
                  "source_channel": "paid_search", "campaign": "q4-pipelines",
                  "created_at": T0 - 48 * HOUR}
        self.send("store", "lead.normalized", "it-pipe-lead-1",
                  {"source": "hubspot", "source_ref": {"file": "contacts.csv", "line": 2},
                   "email": email, "fields": fields, "observed_at": T0 - 48 * HOUR},
                  ts=T0 - 48 * HOUR)
        self.send("store", "lead.scored", "it-pipe-score-1",
                  {"email": email, "as_of": T0, "model_version": "test-1", "fit": 70,
                   "interest": 55, "score": 125, "grade": "B1", "quadrant": "mql_now",
                   "mql": True,
                   "explanation": [{"rule": "enterprise", "kind": "fit", "points": 30,
                                    "detail": "5000 employees"}]}, ts=T0)

        ho = wait_for("handoff packet for HE1", lambda: self.packets("HE1", "handoff.ready"))
        p = ho[0]["payload"]
        self.assertEqual(p["rep"]["rep_id"], "HE1")
        self.assertEqual(p["rep"]["name"], "Odalys Brennick")
        self.assertEqual(p["contact"]["company"], "Big Bank Corp")
        self.assertEqual(p["location"]["state"], "NY")
        self.assertEqual(p["sla_due"], T0 + 4 * HOUR)  # Enterprise: 4 h (routing.yaml)
        lead_id = p["lead_id"]
        name = os.path.basename(glob.glob(os.path.join(self.data, "outbox", "HE1", "*.json"))[0])
        self.assertTrue(name.startswith("%d-" % lead_id), name)

        # the clock passes sla_due: a reminder to HE1
        self.send("store", "tick", "it-pipe-tick-1", {"now": T0 + 4 * HOUR + 60000})
        rem = wait_for("reminder for HE1", lambda: self.packets("HE1", "rep.reminder"))
        self.assertEqual(rem[0]["payload"]["lead_id"], lead_id)
        self.assertEqual(rem[0]["payload"]["rep_email"], "odalys.brennick@handoff.example")
        self.assertEqual(rem[0]["payload"]["reassign_due"], T0 + 6 * HOUR)

        # the clock passes reassign_due: someone else of the team, never HE1 again
        self.send("store", "tick", "it-pipe-tick-2", {"now": T0 + 6 * HOUR + 60000})
        ho2 = wait_for("handoff packet for HE2", lambda: self.packets("HE2", "handoff.ready"))
        self.assertEqual(ho2[0]["payload"]["lead_id"], lead_id)
        self.assertEqual(len(self.packets("HE1", "handoff.ready")), 1)

        # every step is in the lead's history, in order, stamped by the controllable clock
        def history():
            db = sqlite3.connect(os.path.join(self.data, "handoff.db"), timeout=5)
            try:
                return db.execute("SELECT kind, at, reason FROM stage_history"
                                  " WHERE lead_id = ? AND kind <> 'transition' ORDER BY id",
                                  (lead_id,)).fetchall()
            finally:
                db.close()
        steps = wait_for("the reassignment in the history",
                         lambda: [r for r in history() if r[0] == "assigned"][1:] and history())
        self.assertEqual([r[0] for r in steps],
                         ["assigned", "sla_remind", "sla_reassign", "assigned"], steps)
        self.assertEqual([r[1] for r in steps],
                         [T0, T0 + 4 * HOUR + 60000, T0 + 6 * HOUR + 60000,
                          T0 + 6 * HOUR + 60000])
        self.assertIn("HE1", steps[1][2])
        self.assertIn("reassigned from HE1", steps[3][2])


if __name__ == "__main__":
    unittest.main()
