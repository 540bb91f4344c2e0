#!/usr/bin/python3
"""Sales feedback by its three ways in, through real processes (`handoff broker`, the
feedback and store workers, `handoff webhook`) and the store's real SQLite file:

- CSV: `handoff import` of a feedback log written here -> validated outcomes wait in the
  store for their leads (pending_outcomes), owners and amounts from the row; a loss without a
  reason waits as `unspecified`, an unknown reason is kept as given and flagged (issue 12:
  reasons never cost an outcome); only an unknown outcome lands in the quarantine (stage
  feedback) with file, line and code;
- HTTP: POST /feedback of a row the CSV already had is the same lead.outcome event (same id,
  no second row); a new row arrives;
- ZeroMQ: a plain Majordomo client (pyzmq + msgpack, no handoff code) sends feedback.raw to
  service `feedback` and gets the lead.outcome back; it reaches the store too.

Run: HO_BIN=build/handoff /usr/bin/python3 tests/integration/test_feedback_paths.py
"""
import json
import subprocess
import os
import sys
import time
import unittest

import msgpack
import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_webhook import SECRETS, Pipeline, wait_for  # noqa: E402

CSV = (
    "feedback_id,lead_email,rep_id,outcome,reason,occurred_at,notes,amount\n"
    "FBT-1,Ana@Paths.example,R01,accepted,,2026-10-01T10:00:00Z,\"Good fit, call booked\",\n"
    "FBT-2,ana@paths.example,R01,lost,,2026-10-05T10:00:00Z,Went dark,\n"
    "FBT-3,ben@paths.example,R02,rejected,student_or_intern,2026-10-02T10:00:00Z,"
    "\"Thesis project, pointed to the docs\",\n"
    "FBT-4,cy@paths.example,R02,lost,weather,2026-10-03T10:00:00Z,,\n"
    "FBT-5,dee@paths.example,R02,on_hold,,2026-10-03T10:00:00Z,,\n"
    "FBT-6,eve@paths.example,R03,won,,2026-10-04T10:00:00Z,Signed,\"$12,500\"\n"
)


class FeedbackPaths(unittest.TestCase):
    def setUp(self):
        self.p = Pipeline()

    def tearDown(self):
        rc, log = self.p.close()
        if rc != 0 or "Sanitizer" in log:
            raise AssertionError("webhook server exit %r:\n%s" % (rc, log[-3000:]))

    def pending(self):
        """{feedback_id: (event_id, payload)} of the outcomes waiting for their leads"""
        rows = self.p.query("SELECT event_id, body FROM pending_outcomes") or []
        out = {}
        for event_id, body in rows:
            env = json.loads(body)
            payload = env.get("payload", env)
            out[payload["feedback_id"]] = (event_id, payload)
        return out

    def test_three_ways(self):
        path = os.path.join(self.p.dir, "feedback_log.csv")
        with open(path, "w") as f:
            f.write(CSV)
        r = subprocess.run(
            [self.p.bin, "import", path, "--source", "feedback", "-c", self.p.config],
            capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        pend = wait_for("5 pending outcomes", lambda: len(self.pending()) == 5 and self.pending())
        self.assertEqual(sorted(pend), ["FBT-1", "FBT-2", "FBT-3", "FBT-4", "FBT-6"])
        self.assertEqual(pend["FBT-2"][1]["reason"], "unspecified")
        self.assertEqual((pend["FBT-4"][1]["reason"], pend["FBT-4"][1]["flags"]),
                         ("weather", ["reason_outside_taxonomy"]))
        self.assertEqual(pend["FBT-1"][1]["email"], "ana@paths.example")
        self.assertEqual(pend["FBT-1"][1]["notes"], "Good fit, call booked")
        self.assertIsNone(pend["FBT-1"][1]["reason"])
        self.assertEqual((pend["FBT-3"][1]["reason"], pend["FBT-3"][1]["reason_owner"],
                          pend["FBT-3"][1]["disposition"]),
                         ("student_or_intern", "marketing", "disqualify"))
        self.assertEqual(pend["FBT-6"][1]["amount"], 12500)
        q = wait_for("1 quarantined row", lambda: len(self.p.query(
            "SELECT code FROM quarantine WHERE stage = 'feedback'") or []) == 1 and self.p.query(
            "SELECT code, field, file, line FROM quarantine WHERE stage = 'feedback'"
            " ORDER BY line"))
        self.assertEqual(q, [("unknown_outcome", "fields.outcome", path, 6)])

        # HTTP: the same row again is the same event; a new one arrives
        headers = {"Authorization": "Bearer " + SECRETS["feedback_token"],
                   "Content-Type": "application/json"}
        same = {"feedback_id": "FBT-3", "email": "ben@paths.example", "rep_id": "R02",
                "outcome": "rejected", "reason": "student_or_intern",
                "occurred_at": "2026-10-02T10:00:00Z", "notes": "Thesis project, pointed to the docs"}
        status, body = self.p.request("POST", "/feedback", json.dumps(same).encode(), headers)
        self.assertEqual(status, 202, body)
        self.assertEqual(body["outcome_ids"], [pend["FBT-3"][0]])
        new = dict(same, feedback_id="FBT-7", email="fay@paths.example", outcome="accepted",
                   reason="")
        status, body = self.p.request("POST", "/feedback", json.dumps(new).encode(), headers)
        self.assertEqual(status, 202, body)
        pend = wait_for("FBT-7", lambda: "FBT-7" in self.pending() and self.pending())
        self.assertEqual(pend["FBT-7"][0], body["outcome_ids"][0])
        self.assertEqual(len(pend), 6)

        # ZeroMQ: any Majordomo client
        ctx = zmq.Context()
        sock = ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        try:
            sock.connect(self.p.endpoint)
            env = {"v": 1, "type": "feedback.raw", "id": "zmq-fb-8", "ts": int(time.time() * 1000),
                   "origin": "crm-bridge", "payload": {
                       "source": "crm", "source_ref": {"crm": "opportunity/88"},
                       "fields": {"feedback_id": "FBT-8", "email": "gus@paths.example",
                                  "rep_id": "R04", "outcome": "lost", "reason": "competitor",
                                  "occurred_at": "2026-10-09T08:00:00Z",
                                  "notes": "Stayed with the incumbent"}}}
            sock.send_multipart([b"", b"MDPC01", b"feedback",
                                 msgpack.packb(env, use_bin_type=True)])
            self.assertTrue(sock.poll(20000), "no reply from service feedback")
            frames = sock.recv_multipart()
            self.assertEqual(frames[:3], [b"", b"MDPC01", b"feedback"])
            got = []
            for frame in frames[3:]:
                doc = msgpack.unpackb(frame, raw=False)
                got.extend(doc if isinstance(doc, list) else [doc])
            outcomes = [e for e in got if e["type"] == "lead.outcome"]
            self.assertEqual(len(outcomes), 1, got)
            o = outcomes[0]["payload"]
            self.assertEqual((o["outcome"], o["reason"], o["reason_owner"], o["email"]),
                             ("lost", "competitor", "sales", "gus@paths.example"))
        finally:
            sock.close()
            ctx.term()
        pend = wait_for("FBT-8", lambda: "FBT-8" in self.pending() and self.pending())
        self.assertEqual(pend["FBT-8"][0], outcomes[0]["id"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
