#!/usr/bin/python3
"""The broker journal (proto/handoff-protocol.md E11) with real processes: `handoff broker`,
the ingest and store workers, `handoff import` of a generated CSV, `kill -9` of the broker
and a restart on the same data dir, the store's SQLite file read back.

1. Routed requests pending when the broker dies: import with the store worker not running
   (ingest answers, so import reports every record accepted, while every lead.normalized
   batch waits in the broker for the store), SIGKILL the broker, start it again, then start
   the store: every accepted lead is in handoff.db exactly once.
2. The same with `broker.journal: false` loses them (what the journal is for): the restarted
   broker has nothing queued for the store.
3. kill -9 in the middle of a running import with every worker up: import still exits 0
   (it resends what was not answered) and every accepted lead lands exactly once.
4. A journal file that is not a journal stops the broker with an error naming the file.
5. Delivery attempts survive the restart (raw MDP peers): a routed request whose worker dies
   once before the kill -9 and once after is dead-lettered at max_attempts 2, not retried.
6. A journal that cannot be written (the broker's file size limit plays a full disk): the
   failed commit is logged with the file name and counted, the reply it would have
   acknowledged is never sent, the broker goes on serving, and after a restart the journal
   holds exactly the routed requests of the replies that were sent; once the disk has room
   again the broker rewrites the journal from memory (no row it no longer holds, none
   missing), so the restart recovers exactly what it held.
7. The journal shrinks: 15 MB of routed requests answered, the file and its WAL go back
   under 256 KB once the broker is quiet (it stayed at its peak size before).

Run: HO_BIN=build/handoff /usr/bin/python3 tests/integration/test_broker_journal.py
"""
import os
import re
import resource
import shutil
import signal
import subprocess
import tempfile
import time
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_broker import HB_MS, pack, write_config  # noqa: E402
import harness  # noqa: E402
from harness import MdpClient, pump_until, unpackb as unpack  # noqa: E402

DEADLINE = 60.0


def wait_for(what, fn, deadline=DEADLINE):
    return harness.wait_for(what, fn, deadline)


class Journal(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ho-journal-")
        self.bin = os.environ["HO_BIN"]
        self.pipe = harness.Pipeline(self.dir, deadline=DEADLINE)
        self.endpoint = self.pipe.endpoint
        self.data = self.pipe.data
        self.db = self.pipe.db

    def tearDown(self):
        self.pipe.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def write_config(self, journal=None):
        self.config = self.pipe.write_config(
            "routes:\n  lead.raw: ingest\n  lead.normalized: store\n  quarantine: store\n",
            broker="" if journal is None else "  journal: %s\n" % journal)

    def write_csv(self, n, name="leads.csv"):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write("email,first_name,last_name,company\n")
            for i in range(n):
                f.write("lead%05d@example%d.com,Ann%d,Lee%d,Firm %d GmbH\n"
                        % (i, i % 97, i, i, i % 13))
        return path

    def broker(self):
        p = self.pipe.start_broker(re.compile(r"broker ready .*journal=(\S+) recovered=(\d+)\n"))
        m = self.pipe.seen["broker"]
        return p, m.group(1), int(m.group(2))

    def worker(self, name):
        return self.pipe.start_worker(name)

    def kill9(self, p):
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=10)

    def status(self):
        r = harness.run(["status", "-c", self.config, "--connect", self.endpoint,
                         "--data-dir", self.data], timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        out = {}
        for line in r.stdout.splitlines():
            if line.startswith("broker "):
                out["broker"] = dict(re.findall(r"(\w+)=(\S+)", line))
            m = re.match(r"service name=(\S+) (.*)", line)
            if m:
                out[m.group(1)] = dict(re.findall(r"(\w+)=(\S+)", m.group(2)))
        return out

    def count(self, sql):
        return self.pipe.count(sql)

    def import_args(self, csv, batch, timeout_ms=30000):
        return [self.bin, "import", "-c", self.config, "--connect", self.endpoint,
                "--source", "csv", "--batch", str(batch), "--max-backlog", "0",
                "--timeout", str(timeout_ms), "--no-wait", csv]

    def accepted(self, stdout):
        m = re.search(r"^import file=\S+ source=csv kind=lead read=(\d+) accepted=(\d+) ", stdout, re.M)
        self.assertIsNotNone(m, stdout)
        return int(m.group(1)), int(m.group(2))

    def assert_all_stored_once(self, n):
        wait_for("%d leads in SQLite" % n, lambda: self.count("SELECT count(*) FROM leads") == n)
        self.assertEqual(self.count("SELECT count(*) FROM lead_sources"), n)
        self.assertEqual(self.count("SELECT count(DISTINCT event_id) FROM lead_sources"), n)
        self.assertEqual(self.count("SELECT count(*) FROM leads WHERE email NOT LIKE "
                                    "'lead_____@example%.com'"), 0)

    def test_pending_routed_requests_survive_kill9(self):
        n, batch = 3000, 100
        self.write_config()  # journal on by default
        csv = self.write_csv(n)
        broker, journal, recovered = self.broker()
        self.assertEqual(journal, os.path.join(self.data, "broker.journal"))
        self.assertEqual(recovered, 0)
        self.worker("ingest")
        r = subprocess.run(self.import_args(csv, batch), capture_output=True, text=True,
                           timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.accepted(r.stdout), (n, n))
        # every ingest reply was acknowledged: its lead.normalized batch is on disk
        st = self.status()
        self.assertEqual(int(st["store"]["queued"]), n // batch)
        self.assertEqual(int(st["broker"]["journal_pending"]), n // batch)
        self.assertGreater(int(st["broker"]["journal_bytes"]), n * 50)
        self.kill9(broker)
        self.assertIsNone(self.count("SELECT count(*) FROM leads"))  # no store ran yet

        broker, journal, recovered = self.broker()
        self.assertEqual(recovered, n // batch)
        self.worker("store")
        self.assert_all_stored_once(n)
        # the store's answers route nothing (no client waits): their removals are committed
        # within broker's 20 ms window, so a kill -9 then leaves nothing to recover
        wait_for("journal emptied and committed",
                 lambda: (lambda b: b["journal_pending"] == "0" and b["journal_open"] == "false")(
                     self.status()["broker"]))
        self.kill9(broker)
        broker, _, recovered = self.broker()
        self.assertEqual(recovered, 0)
        # a clean stop and start: nothing left to recover either
        broker.send_signal(signal.SIGTERM)
        self.assertEqual(broker.wait(timeout=10), 0)
        _, _, recovered = self.broker()
        self.assertEqual(recovered, 0)

    def test_without_journal_the_same_kill_loses_them(self):
        n, batch = 500, 100
        self.write_config(journal="false")
        csv = self.write_csv(n)
        broker, journal, _ = self.broker()
        self.assertEqual(journal, "off")
        self.worker("ingest")
        r = subprocess.run(self.import_args(csv, batch), capture_output=True, text=True,
                           timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.accepted(r.stdout), (n, n))
        self.assertEqual(int(self.status()["store"]["queued"]), n // batch)
        self.kill9(broker)
        _, journal, recovered = self.broker()
        self.assertEqual((journal, recovered), ("off", 0))
        self.assertEqual(int(self.status()["store"]["queued"]), 0)  # the accepted leads are gone
        self.assertFalse(os.path.exists(os.path.join(self.data, "broker.journal")))

    def test_kill9_in_the_middle_of_an_import(self):
        n, batch = 6000, 50
        self.write_config()
        csv = self.write_csv(n)
        broker, _, _ = self.broker()
        self.worker("ingest")
        self.worker("store")
        imp = self.pipe.spawn("import", self.import_args(csv, batch, timeout_ms=2000),
                              text=True)
        wait_for("some leads stored", lambda: (self.count("SELECT count(*) FROM leads") or 0)
                 >= n // 10 or imp.poll() is not None)
        self.kill9(broker)
        self.broker()
        self.assertEqual(imp.wait(timeout=DEADLINE), 0)
        self.assertEqual(self.accepted(self.pipe.log("import")), (n, n))
        self.assert_all_stored_once(n)

    def test_a_file_that_is_not_a_journal_is_a_clear_error(self):
        self.write_config(journal="broker.journal")
        os.makedirs(self.data)
        path = os.path.join(self.data, "broker.journal")
        with open(path, "wb") as f:
            f.write(b"this is not SQLite" * 500)
        r = subprocess.run([self.bin, "broker", "-c", self.config, "--bind", self.endpoint,
                            "--data-dir", self.data], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertIn(path, r.stderr)
        self.assertIn("not a usable journal", r.stderr)
        self.assertNotIn("broker ready", r.stdout)


class Attempts(unittest.TestCase):
    def setUp(self):
        self.procs = harness.procs_for(self, "ho-journal-att-")
        self.tmp = self.procs.dir
        self.ipc = "ipc://" + os.path.join(self.tmp, "broker.ipc")
        self.cfg = write_config(self.tmp, {"test.x": "victim", "dead.letter": "dlq",
                                           "test.keep": "keeper"}, max_attempts=2)
        self.ctx = harness.zmq_context(self)

    def worker(self, service, name, **kw):
        return harness.MdpWorker(self.ctx, self.ipc, service, name, HB_MS, **kw)

    def broker(self, **popen):
        """`handoff broker` on the ipc endpoint (a restart appends to broker.log)."""
        self.procs.spawn_broker(self.cfg, [self.ipc], **popen)

    def kill_broker(self):
        self.procs.stop("broker", signal.SIGKILL, timeout=10)

    def test_failed_commit_acknowledges_nothing(self):
        limit = 256 * 1024

        def small_disk():
            # soft limit only, so the test can lift it later (prlimit)
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a signal
        self.broker(preexec_fn=small_disk)
        big = "x" * 20000  # each reply routes ~20 KB (to a service nobody serves)
        src = self.worker("src", "s", mode=lambda token, body: [pack("test.x", {"pad": big})])
        c = MdpClient(self.ctx, self.ipc)
        answered, failed_at = 0, None
        for i in range(100):
            c.send("src", pack("test.in", {"i": i}))
            # until request i is answered, or a status says a commit failed
            end = time.time() + DEADLINE
            while failed_at is None:
                self.assertLess(time.time(), end, "request %d: no answer, no failure" % i)
                src.pump()
                c.send("mmi.status", b"")
                service, body = c.recv(pump=[src])
                if service == "src":
                    answered += 1
                    c.recv(pump=[src])  # the status sent after it
                    break
                if unpack(body[0])["payload"]["journal_failures"] > 0:
                    failed_at = i
                time.sleep(0.002)
            if failed_at is not None:
                break
        self.assertIsNotNone(failed_at, "the journal never hit the size limit")
        self.assertEqual(answered, failed_at)
        self.assertGreater(answered, 3)
        # one more round trip: had the reply been sent, it would be ahead of this status
        c.send("mmi.status", b"")
        service, body = c.recv(pump=[src])
        self.assertEqual(service, "mmi.status")
        self.assertTrue(self.procs.proc("broker").poll() is None)
        log = self.procs.log("broker")
        self.assertIn(os.path.join(self.tmp, "data", "broker.journal"), log)
        self.assertIn("rolled back", log)
        # the disk has room again: the broker rewrites the journal from what it holds (issue
        # 14 item 9), so the routed request of the rolled-back batch is on disk too and no
        # row is left that memory does not have
        resource.prlimit(self.procs.proc("broker").pid, resource.RLIMIT_FSIZE,
                         (resource.RLIM_INFINITY, resource.RLIM_INFINITY))  # room again

        def resynced():
            st = c.status(pump=[src])
            victim = [s for s in st["services"] if s["name"] == "victim"][0]
            return (not st.get("journal_resync") and not st["journal_open"] and
                    st["journal_pending"] == victim["queued"] and st)
        st = pump_until("the journal rewritten from memory", resynced, [src])
        self.assertEqual(st["journal_pending"], answered + 1)
        self.assertIn("journal resynced", self.procs.log("broker"))
        self.kill_broker()
        self.broker()
        c2 = MdpClient(self.ctx, self.ipc)
        st = c2.status()
        self.assertEqual(st["journal_recovered"], answered + 1)
        for s in (c, c2, src):
            s.sock.close()

    def test_journal_shrinks_when_drained(self):
        """Issue 14 item 9: the journal stayed at the size of its largest backlog (17-33 MB
        when empty). 300 routed requests of ~50 KB wait for a service, are answered, and the
        file with its WAL shrinks back to a few pages once the broker is quiet."""
        self.broker()
        pad = "x" * 50000
        src = self.worker("src", "s", mode=lambda token, body: [pack("test.x", {"pad": pad})])
        c = MdpClient(self.ctx, self.ipc)
        for i in range(300):
            c.send("src", pack("test.in", {"i": i}))
        for i in range(300):
            c.recv(pump=[src])
        path = os.path.join(self.tmp, "data", "broker.journal")

        def size():
            return sum(os.path.getsize(p) for p in (path, path + "-wal") if os.path.exists(p))
        st = c.status(pump=[src])
        self.assertEqual(st["journal_pending"], 300)
        full = size()
        self.assertGreater(full, 300 * 50000)
        victim = self.worker("victim", "v", mode=lambda token, body: [])
        pump_until("drained", lambda: c.status(pump=[src, victim])["journal_pending"] == 0,
                   [src, victim])
        # no timing asserted: it must get there once the broker is quiet
        pump_until("the journal back under 256 KB (%d bytes at the peak)" % full,
                   lambda: c.status(pump=[src, victim]) and size() < 256 * 1024,
                   [src, victim])
        self.assertGreater(c.status()["journal_shrinks"], 0)
        self.procs.stop("broker")
        self.assertEqual(harness.query(path, "SELECT count(*) FROM pending"), [(0,)])
        for s in (c, src, victim):
            s.sock.close()

    def test_answered_personal_data_leaves_the_journal(self):
        """Issue 14 item 10 (`handoff forget`): a person's email stayed in broker.journal and
        broker.journal-wal after the pipeline had processed it. With secure_delete (and the
        WAL truncated when the queue drains or the broker is quiet), once the routed requests
        holding the email are answered, neither file of the *running* broker holds the
        email's bytes, although another request is still pending in the same table page
        (without secure_delete its deleted neighbours' bytes stay in that page)."""
        self.broker()
        email = b"erase-me-7f3a9c@forget.example"
        person = {"email": email.decode(), "name": "Ada Erasable", "phone": "+1 555 0100"}
        sent = []

        def emit(token, body):
            sent.append(token)
            if len(sent) == 1:
                return [pack("test.keep", {"n": 1})]  # for a service nobody serves: pending
            return [pack("test.x", person)]
        src = self.worker("src", "s", mode=emit)
        c = MdpClient(self.ctx, self.ipc)
        for i in range(21):
            c.send("src", pack("test.in", {"i": i}))
            c.recv(pump=[src])
        path = os.path.join(self.tmp, "data", "broker.journal")

        def holds_email():
            data = b""
            for p in (path, path + "-wal"):
                if os.path.exists(p):
                    with open(p, "rb") as f:
                        data += f.read()
            return email in data
        self.assertEqual(c.status(pump=[src])["journal_pending"], 21)
        self.assertTrue(holds_email())  # journaled (what the journal is for)
        victim = self.worker("victim", "v", mode=lambda token, body: [])
        pump_until("the 20 answered", lambda: c.status(pump=[src, victim])["journal_pending"] == 1,
                   [src, victim])
        pump_until("the email gone from broker.journal and its WAL",
                   lambda: c.status(pump=[src, victim]) and not holds_email(), [src, victim])
        self.assertIsNone(self.procs.proc("broker").poll())  # still running
        self.assertEqual(c.status(pump=[src, victim])["journal_pending"], 1)
        for s in (c, src, victim):
            s.sock.close()

    def test_attempts_survive_a_restart(self):
        self.broker()
        src = self.worker("src", "s",
                          mode=lambda token, body: [pack("test.x", {"n": 1}, id_="x-1")])
        c = MdpClient(self.ctx, self.ipc)
        c.send("src", pack("test.in", {}))
        c.recv(pump=[src])  # acknowledged: the routed test.x request is journaled
        # the first victim takes it and dies: requeued with attempts 1
        v1 = self.worker("victim", "v1", mode="hold")
        pump_until("first delivery", lambda: len(v1.got) == 1, [src, v1])
        v1.disconnect()
        v1.close()

        def requeued_and_committed():
            st = c.status(pump=[src])
            victim = [s for s in st["services"] if s["name"] == "victim"][0]
            return victim["queued"] == 1 and st["journal_open"] is False
        pump_until("requeue committed", requeued_and_committed, [src])
        self.kill_broker()

        self.broker()
        c2 = MdpClient(self.ctx, self.ipc)
        dlq = self.worker("dlq", "d", mode="hold")
        self.assertEqual(c2.status(pump=[dlq])["journal_recovered"], 1)
        v2 = self.worker("victim", "v2", mode="hold")
        pump_until("second delivery", lambda: len(v2.got) == 1, [dlq, v2])
        v2.disconnect()  # the second attempt of max_attempts 2: a dead letter, not a retry
        pump_until("the dead letter", lambda: len(dlq.got) == 1, [dlq])
        env = unpack(dlq.got[0][1][0])
        self.assertEqual(env["type"], "dead.letter")
        self.assertEqual(env["payload"]["service"], "victim")
        self.assertEqual(env["payload"]["attempts"], 2)
        self.assertEqual(env["payload"]["frames"][0]["id"], "x-1")
        for s in (c, c2, src, dlq, v2):
            s.sock.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
