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
import socket
import subprocess
import tempfile
import time
import unittest

import msgpack
import zmq

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


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


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
        self.procs = {}
        self.logs = []
        self.ctx = zmq.Context()
        with open(os.path.join(self.dir, "team.csv"), "w") as f:
            f.write(REPS)
        with open(os.path.join(self.dir, "routing.yaml"), "w") as f:
            f.write(RULES)
        self.endpoint = "tcp://127.0.0.1:%d" % free_port()
        self.data = os.path.join(self.dir, "data")
        self.config = os.path.join(self.dir, "handoff.yaml")
        with open(self.config, "w") as f:
            f.write("broker:\n  endpoint: %s\n  heartbeat_ms: 250\n  liveness: 3\n"
                    "data_dir: %s\nroutes:\n  route.request: route\n  sla.breach: route\n"
                    "workers:\n  route:\n    rules: routing.yaml\n"
                    % (self.endpoint, self.data))
        self.client = self.ctx.socket(zmq.DEALER)
        self.client.setsockopt(zmq.LINGER, 0)
        self.client.connect(self.endpoint)

    def tearDown(self):
        for p in self.procs.values():
            if p.poll() is None:
                p.kill()
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        for f in self.logs:
            f.close()
        self.client.close(linger=0)
        self.ctx.term()
        shutil.rmtree(self.dir, ignore_errors=True)

    def stop_clean(self, name, proc):
        """SIGTERM: the worker must exit 0 (a sanitizer build exits non-zero on a leak)."""
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            raise AssertionError("%s did not stop on SIGTERM" % name)
        with open(os.path.join(self.dir, name + ".log")) as f:
            log = f.read()
        self.assertEqual(rc, 0, log[-3000:])
        self.assertNotIn("Sanitizer", log)

    def spawn(self, name, args, ready=None):
        log = open(os.path.join(self.dir, name + ".log"), "w+")
        self.logs.append(log)
        p = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        self.procs[name] = p
        end = time.time() + DEADLINE
        while ready:
            with open(os.path.join(self.dir, name + ".log")) as f:
                if ready in f.read():
                    break
            if p.poll() is not None or time.time() > end:
                with open(os.path.join(self.dir, name + ".log")) as f:
                    raise AssertionError("%s did not start: %s" % (name, f.read()))
            time.sleep(0.05)
        return p

    def start_worker(self, name):
        return self.spawn(name, [os.environ["HO_BIN"], "worker", "route", "-c", self.config,
                                 "--connect", self.endpoint, "--data-dir", self.data],
                          ready="worker ready")

    def call(self, type_, event_id, payload):
        env = {"v": 1, "type": type_, "id": event_id, "ts": int(time.time() * 1000),
               "origin": "test", "payload": payload}
        self.client.send_multipart([b"", b"MDPC01", b"route", msgpack.packb(env)])
        if not self.client.poll(int(DEADLINE * 1000)):
            raise AssertionError("no reply to %s %s" % (type_, event_id))
        frames = self.client.recv_multipart()
        self.assertEqual(frames[1], b"MDPC01")
        out = []
        for frame in frames[3:]:
            doc = msgpack.unpackb(frame, raw=False)
            out.extend(doc if isinstance(doc, list) else [doc])
        return out

    def test_route_restart_remind_reassign(self):
        hb = os.environ["HO_BIN"]
        self.spawn("broker", [hb, "broker", "-c", self.config, "--bind", self.endpoint,
                              "--data-dir", self.data], ready="broker ready")
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
        self.procs["worker"].send_signal(signal.SIGKILL)
        self.procs["worker"].wait(timeout=5)
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
        self.stop_clean("worker2", self.procs["worker2"])


if __name__ == "__main__":
    unittest.main()
