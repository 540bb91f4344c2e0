#!/usr/bin/python3
"""Outbox group commit as real processes: `handoff broker` + `handoff worker outbox`, a
client sending requests of 40 handoff.ready each (one group commit per request: the files
of a request become durable together, with one sync). The worker is killed with SIGKILL
right after the last reply (ack): every acknowledged packet must be on disk as its complete
JSON file, and recorded as sent; a new worker given an acknowledged request again writes
nothing twice.

Run: HO_BIN=build/handoff /usr/bin/python3 tests/integration/test_outbox_group.py
"""
import glob
import json
import os
import random
import signal
import sys
import unittest

import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

BATCH = 40
REQUESTS = 6


class OutboxGroupCommit(unittest.TestCase):
    def setUp(self):
        self.dir = harness.temp_dir(self, "ho-outbox-group-")
        self.ctx = harness.zmq_context(self)
        self.pipe = harness.Pipeline(self.dir, "tcp", interval=0.05)
        self.addCleanup(self.pipe.close, sig=signal.SIGKILL)
        self.pipe.write_config("routes:\n  handoff.ready: outbox\n"
                               "workers:\n  outbox:\n    dir: outbox\n")

    def batch(self, r):
        envs = []
        for k in range(BATCH):
            lead = r * BATCH + k
            envs.append(harness.envelope(
                "handoff.ready",
                {"lead_id": lead, "email": "p%d@acme.test" % lead,
                 "rep": {"rep_id": "R%02d" % (lead % 3), "name": "Rep", "email": "r@x.test"},
                 "stage": "MQL"},
                id_="grp-%d-%016x" % (lead, random.getrandbits(64))))
        return envs

    def packets(self):
        out = {}
        for path in glob.glob(os.path.join(self.pipe.data, "outbox", "*", "*.json")):
            with open(path) as f:
                out[path] = json.load(f)  # a half-written file would not parse
        return out

    def test_kill_after_ack_loses_nothing(self):
        self.pipe.start("outbox")
        worker = self.pipe.worker("outbox")
        client = harness.MdpClient(self.ctx, self.pipe.endpoint)
        self.addCleanup(client.close)
        acked = []
        for r in range(REQUESTS):
            envs = self.batch(r)
            service, body = client.request("outbox", harness.packb(envs))
            self.assertEqual(service, "outbox")
            acked.append(envs)
        # the last reply is in: kill at once, no chance to finish anything after the ack
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)

        got = self.packets()
        by_id = {p["id"]: p for p in got.values()}
        for envs in acked:
            for e in envs:
                self.assertIn(e["id"], by_id, "acknowledged packet lost")
                self.assertEqual(by_id[e["id"]]["payload"]["lead_id"], e["payload"]["lead_id"])
        self.assertEqual(len(got), BATCH * REQUESTS)
        leftovers = glob.glob(os.path.join(self.pipe.data, "outbox", "*", ".*.tmp.*"))
        self.assertEqual(leftovers, [])
        sent = harness.query(
            os.path.join(self.pipe.data, "outbox.db"), "SELECT count(*) FROM sent")
        self.assertEqual(sent[0][0], BATCH * REQUESTS)

        # a new worker is handed an acknowledged request again (a redelivery): nothing new
        self.pipe.start_worker("outbox", name="outbox2")
        service, body = client.request("outbox", harness.packb(acked[0]))
        self.assertEqual(service, "outbox")
        self.assertEqual(sorted(self.packets()), sorted(got))
        sent = harness.query(os.path.join(self.pipe.data, "outbox.db"),
                             "SELECT count(*) FROM sent")
        self.assertEqual(sent[0][0], BATCH * REQUESTS)


if __name__ == "__main__":
    unittest.main()
