#!/usr/bin/python3
"""Integration test of the route worker as real processes: `handoff broker` + `handoff worker
route` with the test's own routing.yaml and reps CSV, a raw MDP client (pyzmq).

Asserts: route.request -> lead.assigned in round robin; a redelivered request gets the same
assignment; the rotation survives a SIGKILL + restart of the worker (router.db); sla.breach
remind -> rep.reminder; sla.breach reassign -> another rep with reassigned_from.

Run: HO_BIN=build/handoff /usr/bin/python3 tests/integration/test_routing.py
"""
import os
import shutil
import signal
import sys
import tempfile
import time
import unittest

import msgpack
import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

DEADLINE = 15.0
T0 = 1795165200000  # 2026-11-20T09:00:00Z
HOUR = 3600000

REPS = """rep_id,name,email,region,countries,us_states,segments,employee_min,employee_max,\
weekly_capacity,timezone,out_of_office,ooo_start,ooo_end,backup_rep_id,weight,active
R1,Ann Abbot,ann@x.test,US,US,,All,,,,America/New_York,FALSE,,,,1,TRUE
R2,Ben Bright,ben@x.test,US,US,,All,,,,America/New_York,FALSE,,,,1,TRUE
"""

RULES = """reps: team.csv
rules:
  - name: us
    when: {country: [US]}
    team: territory
sla:
  deadline: 24h
  reassign_after: 2h
  rules:
    - when: {grade: [A]}
      deadline: 2h
"""


def lead(lead_id, grade="B1"):
    return {"lead_id": lead_id, "email": "p%d@acme.test" % lead_id, "stage": "MQL",
            "owner": None,
            "fields": {"email": "p%d@acme.test" % lead_id, "country": "US", "state": "NY",
                       "employees": 300},
            "score": {"fit": 60, "interest": 50, "grade": grade, "quadrant": "mql_now"}}


def route_request(lead_id, grade="B1"):
    return {"lead": lead(lead_id, grade), "as_of": T0, "account_owner": None, "exclude": [],
            "reason": "mql"}


def breach(lead_id, rep, step, now):
    p = route_request(lead_id, "A1")
    p.update({"lead_id": lead_id, "email": "p%d@acme.test" % lead_id, "rep_id": rep,
              "assigned_at": T0, "sla_due": T0 + 2 * HOUR, "now": now, "step": step,
              "exclude": [rep], "reason": "sla_breach", "as_of": now})
    return p


class RouteProcesses(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ho-route-it-")
        self.ctx = zmq.Context()
        with open(os.path.join(self.dir, "team.csv"), "w") as f:
            f.write(REPS)
        with open(os.path.join(self.dir, "routing.yaml"), "w") as f:
            f.write(RULES)
        self.pipe = harness.Pipeline(self.dir, deadline=DEADLINE, interval=0.05)
        self.endpoint, self.data = self.pipe.endpoint, self.pipe.data
        self.config = self.pipe.write_config(
            "routes:\n  route.request: route\n  sla.breach: route\n"
            "workers:\n  route:\n    rules: routing.yaml\n", liveness=3)
        self.client = harness.dealer(self.ctx, self.endpoint)

    def tearDown(self):
        self.pipe.close(sig=signal.SIGKILL)
        self.client.close(linger=0)
        self.ctx.term()
        shutil.rmtree(self.dir, ignore_errors=True)

    def start_worker(self, name):
        return self.pipe.start_worker("route", name=name)

    def call(self, type_, event_id, payload):
        frames = harness.mdp_request(self.client, "route", type_, event_id, payload,
                                     int(time.time() * 1000), DEADLINE)
        self.assertEqual(frames[1], b"MDPC01")
        out = []
        for frame in frames[3:]:
            doc = msgpack.unpackb(frame, raw=False)
            out.extend(doc if isinstance(doc, list) else [doc])
        return out

    def test_route_restart_remind_reassign(self):
        self.pipe.start_broker()
        self.start_worker("worker")

        got = []
        first_id = None
        for i in (1, 2, 3):
            out = self.call("route.request", "it-rr-%d" % i, route_request(i))
            self.assertEqual(len(out), 1, out)
            self.assertEqual(out[0]["type"], "lead.assigned")
            self.assertEqual(out[0]["payload"]["lead_id"], i)
            got.append(out[0]["payload"]["rep_id"])
            first_id = first_id or out[0]["id"]
        self.assertEqual(got, ["R1", "R2", "R1"])

        # redelivery: the same decision, the same event id
        out = self.call("route.request", "it-rr-1", route_request(1))
        self.assertEqual(out[0]["payload"]["rep_id"], "R1")
        self.assertEqual(out[0]["id"], first_id)

        # kill the worker; a new process continues the rotation from router.db
        self.pipe.proc("worker").send_signal(signal.SIGKILL)
        self.pipe.proc("worker").wait(timeout=5)
        self.start_worker("worker2")
        out = self.call("route.request", "it-rr-4", route_request(4))
        self.assertEqual(out[0]["payload"]["rep_id"], "R2")
        self.assertTrue(os.path.exists(os.path.join(self.data, "router.db")))

        # SLA: remind the rep, then reassign to someone else
        out = self.call("sla.breach", "it-br-1-remind", breach(1, "R1", "remind",
                                                                T0 + 2 * HOUR + 1))
        self.assertEqual(out[0]["type"], "rep.reminder")
        self.assertEqual(out[0]["payload"]["rep_email"], "ann@x.test")
        self.assertEqual(out[0]["payload"]["reassign_due"], T0 + 4 * HOUR)
        out = self.call("sla.breach", "it-br-1-reassign", breach(1, "R1", "reassign",
                                                                  T0 + 4 * HOUR + 1))
        self.assertEqual(out[0]["type"], "lead.assigned")
        self.assertEqual(out[0]["payload"]["rep_id"], "R2")
        self.assertEqual(out[0]["payload"]["reassigned_from"], "R1")
        self.assertEqual(out[0]["payload"]["assigned_at"], T0 + 4 * HOUR + 1)
        self.pipe.stop_clean("worker2", timeout=DEADLINE)


if __name__ == "__main__":
    unittest.main()
