#!/usr/bin/python3
"""`handoff forget EMAIL` leaves no trace of the person in any file handoff writes (issue 14
item 10).

Real processes: `handoff broker` (journal on) and the ingest, store, score, route and outbox
workers with the shipped scoring and routing. A person is imported (lead CSV + a
demo_request activity) and becomes an MQL: stored, scored, routed, handed off (a packet file
and an outbox.db row); `handoff report` writes a workbook. Then `handoff forget`:
  * every file under the data dir (handoff.db, router.db, outbox.db and their -wal files, the
    packet files), except the broker journal that the running broker holds locked, holds
    neither the email, nor the name, nor the phone; forget says the journal is busy;
  * the workbook that names the person (checked with Python's zipfile) is listed;
  * anonymous counts stay: the lead row, its score and assignment rows;
  * with the broker stopped, `handoff forget EMAIL --files-only` compacts the journal too,
    and then no file at all holds the person.
"""
import csv
import datetime
import os
import re
import subprocess
import sys
import unittest
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import DEADLINE, wait_for  # noqa: E402

EMAIL = "zebulon.quackenbush@forgetme-corp.example"
NAME = "Zebulon Quackenbush"
PHONE = "+1 212 555 0199"


class ForgetEverywhere(unittest.TestCase):
    def setUp(self):
        self.pipe = harness.Pipeline(harness.temp_dir(self, "ho-forget-"), "ipc",
                                     deadline=DEADLINE * 2)
        self.addCleanup(self.pipe.close)
        self.pipe.write_config(
            "routes:\n  lead.raw: ingest\n  activity.raw: ingest\n  lead.normalized: store\n"
            "  activity.normalized: store\n  score.request: score\n  lead.scored: store\n"
            "  route.request: route\n  lead.assigned: store\n  handoff.ready: outbox\n"
            "  quarantine: store\n  lead.forget: store\n"
            "workers:\n  route:\n    rules: routing.yaml\n  outbox:\n    dir: outbox\n"
            # a CRM that never answers: the delivery (with the packet) waits in outbox.db
            "    webhook_url: http://127.0.0.1:9/hook\n    backoff_ms: 600000\n")
        self.pipe.start("ingest", "store", "score", "route", "outbox")
        self.data = self.pipe.data

    def cli(self, *args, timeout=DEADLINE * 3):
        return subprocess.run([self.pipe.bin] + list(args), capture_output=True, text=True,
                              timeout=timeout)

    def import_person(self):
        leads = os.path.join(self.pipe.dir, "leads.csv")
        with open(leads, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["email", "first_name", "last_name", "company", "title", "phone",
                        "industry", "employees", "country", "state"])
            w.writerow([EMAIL, "Zebulon", "Quackenbush", "Forgetme Corp",
                        "VP Data Engineering", PHONE, "Software", 1500, "US", "NY"])
            w.writerow(["someone.else@othercorp.example", "Other", "Person", "Other Corp",
                        "Data Engineer", "+1 212 555 0100", "Software", 300, "US", "NY"])
        acts = os.path.join(self.pipe.dir, "activities.csv")
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        with open(acts, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["activity_id", "email", "activity_type", "activity_date", "url",
                        "source_system"])
            w.writerow(["A-1", EMAIL, "demo_request", now, "https://x.example/demo?who=" + EMAIL,
                        "web"])
        for path, source in ((leads, "csv"), (acts, "activities")):
            out = self.cli("import", "-c", self.pipe.config, "--source", source, path)
            self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        packets = os.path.join(self.data, "outbox")

        def handed_off():
            for root, _, files in os.walk(packets):
                for f in files:
                    if f.endswith(".json"):
                        with open(os.path.join(root, f), errors="replace") as fh:
                            if EMAIL in fh.read():
                                return True
            return False
        wait_for("the person's handoff packet", handed_off)
        return self.pipe.one("SELECT id FROM leads WHERE email = ?", (EMAIL,))[0]

    def traces(self, skip=()):
        """files under the data dir that hold the email, the name or the phone"""
        needles = [EMAIL.encode(), NAME.encode(), PHONE.encode(), b"Quackenbush"]
        found = []
        for root, _, files in os.walk(self.data):
            for f in files:
                path = os.path.join(root, f)
                if any(f.startswith(s) for s in skip):
                    continue
                with open(path, "rb") as fh:
                    data = fh.read()
                hits = [n.decode() for n in needles if n.lower() in data.lower()]
                if hits:
                    found.append((os.path.relpath(path, self.data), hits))
        return found

    def test_forget_leaves_no_trace(self):
        lead_id = self.import_person()
        week = datetime.date.today().isocalendar()
        week = "%d-W%02d" % (week[0], week[1])
        rep = self.cli("report", "-c", self.pipe.config, "--data-dir", self.data, "--week", week,
                       "-q")
        self.assertEqual(rep.returncode, 0, rep.stdout + rep.stderr)
        books = [os.path.join(self.data, "reports", f)
                 for f in os.listdir(os.path.join(self.data, "reports"))]
        naming = set()
        for b in books:
            with zipfile.ZipFile(b) as z:
                if any(EMAIL.encode() in z.read(n) or NAME.encode() in z.read(n)
                       for n in z.namelist()):
                    naming.add(b)
        before = self.traces()
        self.assertTrue(any(p.startswith("outbox") for p, _ in before), before)

        out = self.cli("forget", EMAIL, "-c", self.pipe.config)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("forgotten email=%s found=1 lead_id=%d" % (EMAIL, lead_id), out.stdout)
        # nothing left outside the journal (the workbooks are listed, not rewritten)
        self.assertEqual(self.traces(skip=("broker.journal", "handoff-")), [])
        self.assertRegex(out.stdout, r"forget file=\S+/outbox\.db deliveries=[1-9]\d* "
                                     r"packets=[1-9]")
        self.assertRegex(out.stdout, r"forget file=\S+/router\.db decisions=[1-9]")
        self.assertRegex(out.stdout, r"forget file=\S+broker\.journal status=busy")
        listed = set(re.findall(r"^forget workbook=(\S+) names_person=1$", out.stdout, re.M))
        self.assertEqual(listed, naming)
        self.assertIn("forget workbooks scanned=%d naming_person=%d" % (len(books), len(naming)),
                      out.stdout)

        # anonymous counts stay
        self.assertEqual(self.pipe.one("SELECT erased FROM leads WHERE id = ?", (lead_id,)),
                         (1,))
        self.assertGreater(self.pipe.count("SELECT count(*) FROM scores WHERE lead_id = ?",
                                           (lead_id,)), 0)
        self.assertEqual(self.pipe.count("SELECT count(*) FROM assignments WHERE lead_id = ?",
                                         (lead_id,)), 1)

        # the broker stopped: its journal can be compacted too, and then nothing is left
        self.pipe.stop_clean("broker", timeout=DEADLINE)
        for b in naming:
            os.remove(b)  # what the operator does with the listed workbooks
        out = self.cli("forget", EMAIL, "-c", self.pipe.config, "--data-dir", self.data,
                       "--files-only")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertRegex(out.stdout, r"forget file=\S+broker\.journal status=compacted")
        self.assertEqual(self.traces(), [])


if __name__ == "__main__":
    unittest.main()
