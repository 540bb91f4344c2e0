#!/usr/bin/python3
"""No handler holds a worker past its heartbeat: a flood of big requests into the store
through real processes (`handoff broker`, `worker ingest`, `worker store`, `worker score`,
`handoff import --batch 10000`) with the harness's heartbeat (250 ms, liveness 3: the broker drops
a worker it has not heard from for 750 ms; 1 s heartbeat in a sanitizer build). A store call on 10000 activities (each one stored
and its lead re-scored) takes longer than that;
the worker runtime hands such requests to the handler in chunks and heartbeats between them,
so the broker disconnects no worker (no "heartbeat expired" in its log), re-queues nothing
(status counter `requeued`), and every lead is stored and scored once.

Run: HO_BIN=build/handoff /usr/bin/python3 tests/integration/test_store_flood_heartbeat.py
"""
import os
import re
import signal
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

LEADS = 3000


def sanitized(binary):
    """Whether the binary is an AddressSanitizer build (it links libasan)."""
    r = subprocess.run(["ldd", binary], capture_output=True, text=True)
    return "libasan" in r.stdout


class StoreFlood(unittest.TestCase):
    def test_no_disconnect_under_flood(self):
        folder = harness.temp_dir(self, "ho-flood-")
        ctx = harness.zmq_context(self)
        pipe = harness.Pipeline(folder, "ipc", deadline=120)
        self.addCleanup(pipe.close, sig=signal.SIGKILL)
        pipe.write_config(
            "routes:\n  lead.raw: ingest\n  activity.raw: ingest\n"
            "  lead.normalized: store\n  activity.normalized: store\n"
            "  score.request: score\n  lead.scored: store\n  quarantine: store\n",
            liveness=3)
        # a sanitizer build runs the handlers ~4x slower: the heartbeat scales with it (a
        # store call on the whole 10000-record request still takes far longer than either)
        if sanitized(pipe.bin):
            with open(pipe.config) as f:
                text = f.read().replace("heartbeat_ms: 250", "heartbeat_ms: 1000")
            with open(pipe.config, "w") as f:
                f.write(text)
        demo = os.path.join(folder, "demo")
        r = harness.run(["demo-data", "--out", demo, "--seed", "5", "--leads",
                         str(LEADS), "--only", "hubspot,activities"])
        self.assertEqual(r.returncode, 0, r.stderr)
        pipe.start("ingest", "store", "score")
        for name in ("hubspot_contacts.csv", "activities.csv"):
            r = harness.run(["import", "-c", pipe.config, "--batch", "10000",
                             "--window", "4", os.path.join(demo, name)], timeout=600)
            self.assertEqual(r.returncode, 0, r.stderr)

        def idle():
            st = harness.MdpClient(ctx, pipe.endpoint)
            try:
                s = st.status()
            finally:
                st.close()
            services = s.get("services", {})
            busy = sum(v.get("queued", 0) + v.get("in_flight", 0)
                       for v in (services.values() if isinstance(services, dict) else services))
            unscored = pipe.query("SELECT count(*) FROM leads WHERE scored_at IS NULL")[0][0]
            self.last = (busy, unscored)
            return busy == 0 and unscored == 0 and s
        try:
            status = harness.wait_for("pipeline idle", idle, deadline=240, interval=0.5)
        except AssertionError:
            raise AssertionError("not idle: (busy, unscored) = %r\n%s" % (
                self.last, pipe.log(pipe.name("broker"))[-3000:]))
        leads = pipe.query("SELECT count(*) FROM leads")[0][0]
        self.assertGreater(leads, LEADS // 4)  # the HubSpot share of the people, and more
        log = pipe.log(pipe.name("broker"))
        gone = re.findall(r'worker gone .*reason="heartbeat expired".*', log)
        self.assertEqual(gone, [], "the broker disconnected a live worker")
        self.assertEqual(status["counters"]["requeued"], 0, status["counters"])
        self.assertEqual(status["counters"]["dead_letters"], 0, status["counters"])


if __name__ == "__main__":
    unittest.main()
