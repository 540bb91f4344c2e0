#!/usr/bin/python3
"""End to end through real processes: `handoff broker` + the store, route and outbox workers
with the SHIPPED routing.yaml and reps.csv (built-in copies), and the controllable clock
(`tick` messages with a chosen `now`).

A scored MQL from New York with 5000 employees goes store -> route (rule us-east-enterprise,
rep HE1, weight 2) -> store -> handoff.ready -> outbox file data/outbox/HE1/<lead>-<event>.json
holding the packet (contact, location, score, sla_due 4 working hours after the MQL: the
MQL comes at 04:00 in New York, the clock starts at HE1's 09:00). A tick past sla_due makes
the store send sla.breach remind -> route -> rep.reminder file for HE1; a tick past
reassign_due makes it send sla.breach reassign -> route picks HE2 (never HE1) -> a new
handoff packet for HE2.

The SLA clock counts working hours only (routing.yaml sla.business_hours, 09:00-18:00
Mon-Fri in the rep's zone): an MQL at 17:55 on a Friday in New York is due on Monday at 12:55
in handoff.db, and a tick on Saturday breaches nothing. A lead reassigned away because its rep
let the SLA lapse leaves that rep's open load: a rep at weekly capacity gets the next lead
again (router.db counts it as released), instead of the overflow queue.

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
T0 = 1795165200000  # 2026-11-20T09:00:00Z, a Friday (04:00 in New York)
HOUR = 3600000
MINUTE = 60000
OPEN = T0 + 5 * HOUR  # 09:00 in New York: HE1's working day starts
MON = T0 + 72 * HOUR  # 2026-11-23T09:00:00Z, the Monday after (04:00 in New York)

SLA_REPS = ("rep_id,name,email,countries,weekly_capacity,timezone\n"
            "A,Ann Ames,ann@handoff.example,US,1,America/New_York\n"
            "B,Ben Berg,ben@handoff.example,US,1,America/New_York\n")
SLA_ROUTING = ("reps: sla-reps.csv\n"
               "capacity: {per_day: 0}\n"
               "rules:\n  - {name: us, team: [A, B], overflow: busy}\n"
               "sla:\n  deadline: 2h\n  reassign_after: 1h\n"
               "  business_hours: \"09:00-18:00 Mon-Fri\"\n")


def wait_for(what, fn, deadline=DEADLINE):
    return harness.wait_for(what, fn, deadline, interval=0.05)


class Pipeline(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ho-route-pipe-")
        self.pipe = harness.Pipeline(self.dir, deadline=DEADLINE, interval=0.05)
        self.data = self.pipe.data
        self.ctx = zmq.Context()
        self.client = None

    def tearDown(self):
        self.pipe.close()
        if self.client is not None:
            self.client.close(linger=0)
        self.ctx.term()
        shutil.rmtree(self.dir, ignore_errors=True)

    def start(self, route_settings="    rules: routing.yaml\n"):
        """store, route and outbox up, routed as in production; route_settings: the route
        worker's lines of the config."""
        self.pipe.write_config(
            "routes:\n  route.request: route\n  lead.assigned: store\n"
            "  handoff.ready: outbox\n  sla.breach: route\n  rep.reminder: outbox\n"
            "  quarantine: store\n"
            "workers:\n  route:\n" + route_settings + "  outbox:\n    dir: outbox\n",
            liveness=3)
        self.pipe.start("store", "route", "outbox")
        self.client = harness.dealer(self.ctx, self.pipe.endpoint)

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
        self.start()

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
        self.assertEqual(p["sla_due"], OPEN + 4 * HOUR)  # Enterprise: 4 working hours
        lead_id = p["lead_id"]
        name = os.path.basename(glob.glob(os.path.join(self.data, "outbox", "HE1", "*.json"))[0])
        self.assertTrue(name.startswith("%d-" % lead_id), name)

        # the clock passes sla_due: a reminder to HE1
        self.send("store", "tick", "it-pipe-tick-1", {"now": OPEN + 4 * HOUR + 60000})
        rem = wait_for("reminder for HE1", lambda: self.packets("HE1", "rep.reminder"))
        self.assertEqual(rem[0]["payload"]["lead_id"], lead_id)
        self.assertEqual(rem[0]["payload"]["rep_email"], "odalys.brennick@handoff.example")
        self.assertEqual(rem[0]["payload"]["reassign_due"], OPEN + 6 * HOUR)

        # the clock passes reassign_due: someone else of the team, never HE1 again
        self.send("store", "tick", "it-pipe-tick-2", {"now": OPEN + 6 * HOUR + 60000})
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
                         [T0, OPEN + 4 * HOUR + 60000, OPEN + 6 * HOUR + 60000,
                          OPEN + 6 * HOUR + 60000])
        self.assertIn("HE1", steps[1][2])
        self.assertIn("reassigned from HE1", steps[3][2])

    def mql(self, n, email, at, state="NY", employees=5000):
        """A scored MQL at `at` (its ML->MQL transition, so route.request.as_of)."""
        fields = {"email": email, "first_name": "Lead", "last_name": str(n),
                  "company": "Company %d" % n, "domain": "company%d.example" % n,
                  "employees": employees, "country": "US", "state": state,
                  "lifecycle_stage": "Lead", "created_at": at - 48 * HOUR}
        self.send("store", "lead.normalized", "it-sla-lead-%d" % n,
                  {"source": "hubspot", "source_ref": {"file": "contacts.csv", "line": n + 1},
                   "email": email, "fields": fields, "observed_at": at - 48 * HOUR},
                  ts=at - 48 * HOUR)
        self.send("store", "lead.scored", "it-sla-score-%d" % n,
                  {"email": email, "as_of": at, "model_version": "test-1", "fit": 70,
                   "interest": 55, "score": 125, "grade": "B1", "quadrant": "mql_now",
                   "mql": True, "explanation": []}, ts=at)

    def assignments(self, email):
        return self.pipe.query(
            "SELECT a.rep_id, a.queue, a.assigned_at, a.sla_due, a.reassign_due, a.status"
            " FROM assignments a JOIN leads l ON l.id = a.lead_id WHERE l.email = ?"
            " ORDER BY a.id", (email,))

    def test_friday_evening_sla_lands_on_monday_working_time(self):
        self.start()
        email = "friday.evening@bigbank.example"
        friday_1755 = T0 + 13 * HOUR + 55 * MINUTE  # 17:55 in New York (EST, UTC-5)
        self.mql(1, email, friday_1755)
        rows = wait_for("the assignment in handoff.db", lambda: self.assignments(email))
        rep, queue, at, due, re_due, status = rows[0]
        self.assertEqual((rep, queue, at, status), ("HE1", None, friday_1755, "open"))
        # 5 minutes on Friday, 3 h 55 on Monday from 09:00: 12:55 in New York (not 21:55 Friday)
        self.assertEqual(due, MON + 5 * HOUR + 3 * HOUR + 55 * MINUTE)
        self.assertEqual(re_due, due + 2 * HOUR)  # reassign_after 2 working hours: 14:55

        # a tick on Saturday (the old clock's deadline long past) breaches nothing; the store
        # handles messages in order, so the breach of the Monday tick is the first one
        self.send("store", "tick", "it-sla-tick-sat", {"now": friday_1755 + 24 * HOUR})
        self.send("store", "tick", "it-sla-tick-mon", {"now": due + MINUTE})
        rem = wait_for("reminder for HE1", lambda: self.packets("HE1", "rep.reminder"))
        self.assertEqual(rem[0]["payload"]["sla_due"], due)
        self.assertEqual(rem[0]["payload"]["reassign_due"], re_due)
        self.assertEqual(self.pipe.query("SELECT step, at FROM sla_breaches"),
                         [("remind", due + MINUTE)])

    def test_ignored_lead_frees_the_reps_capacity(self):
        for name, text in (("sla-reps.csv", SLA_REPS), ("sla-routing.yaml", SLA_ROUTING)):
            with open(os.path.join(self.dir, name), "w") as f:
                f.write(text)
        self.start("    rules: sla-routing.yaml\n    state: router.db\n")
        mon_10 = MON + 6 * HOUR  # Monday 10:00 in New York
        self.mql(1, "first@acme.example", mon_10)
        rows = wait_for("lead 1 assigned", lambda: self.assignments("first@acme.example"))
        self.assertEqual(rows[0][0], "A")  # A is now at its weekly capacity of 1
        self.assertEqual(rows[0][3:5], (mon_10 + 2 * HOUR, mon_10 + 3 * HOUR))

        # A ignores it: past reassign_due one tick reminds and reassigns -> B (B is full now)
        self.send("store", "tick", "it-sla-tick-1", {"now": mon_10 + 3 * HOUR + MINUTE})
        rows = wait_for("lead 1 reassigned to B",
                        lambda: [r for r in self.assignments("first@acme.example")
                                 if r[0] == "B"] and self.assignments("first@acme.example"))
        self.assertEqual([(r[0], r[5]) for r in rows], [("A", "reassigned"), ("B", "open")])

        # the next lead goes to A again, whose open load dropped, not to the overflow queue
        self.mql(2, "second@acme.example", mon_10 + 4 * HOUR)
        rows = wait_for("lead 2 assigned", lambda: self.assignments("second@acme.example"))
        self.assertEqual(rows[0][:2], ("A", None), rows)
        router = os.path.join(self.pipe.data, "router.db")
        self.assertEqual(harness.query(router, "SELECT rep_id, n, released FROM counts"
                                               " ORDER BY rep_id"),
                         [("A", 2, 1), ("B", 1, 0)])
        # both full now: a third lead overflows
        self.mql(3, "third@acme.example", mon_10 + 5 * HOUR)
        rows = wait_for("lead 3 queued", lambda: self.assignments("third@acme.example"))
        self.assertEqual(rows[0][:2], (None, "busy"), rows)


if __name__ == "__main__":
    unittest.main()
