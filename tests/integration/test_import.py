#!/usr/bin/python3
"""`handoff import` end to end through real processes: `handoff broker` + the ingest and store
workers, the project's own seeded demo files (`handoff demo-data`) and the hand-written quirk
fixture, a real SQLite file read back.

Asserts: the greppable summary of each file equals manifest.json (read, accepted, quarantined
by reason; people merged across the lead files in one command, as the store counts them,
new + merged = accepted; read = accepted + skipped + quarantined); every quarantined record
of the fixture lands in the store's quarantine table with stage, code, field, file and line;
the distinct leads and activities land in SQLite; a re-import changes nothing (same event
ids); an unreachable broker is a non-zero exit with a clear message.

Run: HO_BIN=build/handoff /usr/bin/python3 tests/integration/test_import.py
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import free_port, parse_summary, wait_for  # noqa: E402


class Import(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ho-import-")
        self.bin = os.environ["HO_BIN"]
        self.src = harness.source_dir()
        self.pipe = None

    def tearDown(self):
        if self.pipe is not None:
            self.pipe.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def run_cmd(self, args, timeout=120):
        return harness.run(args, timeout)

    def start_pipeline(self):
        self.pipe = harness.Pipeline(self.dir)
        # score/route are not running: their messages have no route here and are dropped
        self.config = self.pipe.write_config(
            "routes:\n  lead.raw: ingest\n  activity.raw: ingest\n"
            "  lead.normalized: store\n  activity.normalized: store\n"
            "  quarantine: store\n")
        self.pipe.start("ingest", "store")
        self.query = self.pipe.query
        self.count = self.pipe.count

    def test_demo_files_and_fixture(self):
        demo = os.path.join(self.dir, "demo")
        r = self.run_cmd(["demo-data", "--out", demo, "--seed", "5", "--leads", "240"])
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(demo, "manifest.json")) as f:
            man = json.load(f)
        self.start_pipeline()

        # the four lead sources in one command: three CSV exports and the webhook capture
        lead_files = ("hubspot_contacts.csv", "salesforce_leads.csv", "marketo_leads.csv",
                      "form_webhooks.jsonl")
        r = self.run_cmd(["import", "-c", self.config, "--batch", "50"] +
                         [os.path.join(demo, n) for n in lead_files])
        self.assertEqual(r.returncode, 0, r.stderr)
        got = parse_summary(r.stdout)
        for name in lead_files:
            want = man["files"][name]
            self.assertEqual(got[name]["profile"], want["profile"])  # auto-detected
            self.assertEqual(got[name]["read"], want["records"], name)
            self.assertEqual(got[name]["accepted"], want["accepted"], name)
            self.assertEqual(got[name]["quarantined"], want["quarantined"], name)
            self.assertEqual(got[name]["reasons"], want["quarantined_by_reason"], name)
            self.assertEqual((got[name]["check"], got[name]["skipped"]), ("ok", 0), name)
            self.assertEqual(got[name]["new"] + got[name]["merged"], want["accepted"], name)
        self.assertEqual(got["hubspot_contacts.csv"]["merged"], 0)
        dups = sum(got[n]["merged"] for n in got)
        self.assertEqual(dups, man["import_all_leads"]["duplicates"])
        self.assertGreater(dups, 0)
        m = re.search(r"^import total files=4 read=(\d+) accepted=(\d+) skipped=0 "
                      r"quarantined=(\d+) new=(\d+) merged=(\d+) check=ok$", r.stdout, re.M)
        self.assertIsNotNone(m, r.stdout)
        self.assertEqual([int(x) for x in m.groups()],
                         [man["import_all_leads"][k] for k in ("read", "accepted", "quarantined")] +
                         [man["people_in_lead_files"]["distinct_emails"],
                          man["import_all_leads"]["duplicates"]])

        # every distinct person is one lead in SQLite; every refused record is a row
        distinct = man["import_all_leads"]["accepted"] - man["import_all_leads"]["duplicates"]
        self.assertEqual(distinct, man["people_in_lead_files"]["distinct_emails"])
        wait_for("%d leads in SQLite" % distinct,
                 lambda: self.count("SELECT count(*) FROM leads") == distinct)
        q_total = man["import_all_leads"]["quarantined"]
        wait_for("%d quarantine rows" % q_total,
                 lambda: self.count("SELECT count(*) FROM quarantine") == q_total)
        by_code = dict(self.query("SELECT code, count(*) FROM quarantine GROUP BY code"))
        self.assertEqual(by_code, man["import_all_leads"]["quarantined_by_reason"])
        # form leads keep their platform as the source
        sources = dict(self.query("SELECT source, count(*) FROM lead_sources GROUP BY source"))
        for src in ("hubspot", "salesforce", "marketo", "facebook", "linkedin", "hubspot_form",
                    "typeform"):
            self.assertGreater(sources.get(src, 0), 0, src)
        # the emails were written differently across files: stored lowercased and trimmed
        self.assertEqual(self.count("SELECT count(*) FROM leads WHERE email != lower(trim(email))"), 0)

        # activities (CSV, Marketo-bulk-extract layout with a JSON attributes column)
        r = self.run_cmd(["import", "-c", self.config, os.path.join(demo, "activities.csv")])
        self.assertEqual(r.returncode, 0, r.stderr)
        got = parse_summary(r.stdout)["activities.csv"]
        want = man["files"]["activities.csv"]
        self.assertEqual(got["read"], want["records"])
        self.assertEqual(got["accepted"], want["accepted"])
        self.assertEqual(got["reasons"], want["quarantined_by_reason"])
        wait_for("activities in SQLite",
                 lambda: self.count("SELECT count(*) FROM activities") == want["accepted"])

        # the hand-written fixture: every quirk, each refusal with file, line and field
        fixture = os.path.join(self.src, "tests", "fixtures", "hubspot_quirks.csv")
        before = self.count("SELECT count(*) FROM quarantine")
        r = self.run_cmd(["import", "-c", self.config, "--source", "hubspot", fixture])
        self.assertEqual(r.returncode, 0, r.stderr)  # quarantined rows are kept, exit 0
        got = parse_summary(r.stdout)["hubspot_quirks.csv"]
        self.assertEqual((got["read"], got["accepted"], got["quarantined"]), (10, 4, 6))
        self.assertEqual(got["reasons"], {"bad_column_count": 2, "bad_utf8": 1,
                                          "missing_email": 1, "bad_date": 1, "bad_email": 1})
        wait_for("fixture quarantine rows",
                 lambda: self.count("SELECT count(*) FROM quarantine") == before + 6)
        rows = self.query("SELECT line, stage, code, field, source FROM quarantine "
                          "WHERE file = ? ORDER BY line", (fixture,))
        self.assertEqual(rows, [
            (5, "ingest", "missing_email", "email", "hubspot"),
            (6, "ingest", "bad_date", "created_at", "hubspot"),
            (7, "import", "bad_column_count", "", "hubspot"),
            (8, "import", "bad_column_count", "", "hubspot"),
            (9, "import", "bad_utf8", "City", "hubspot"),
            (12, "ingest", "bad_email", "email", "hubspot"),
        ])
        reason = self.query("SELECT reason FROM quarantine WHERE file = ? AND line = 9",
                            (fixture,))[0][0]
        self.assertIn("invalid UTF-8", reason)
        wait_for("fixture leads",
                 lambda: self.count("SELECT count(*) FROM leads WHERE email IN (?, ?, ?, ?)",
                                    ("ada.lovelace@example-analytics.com",
                                     "barnaby@quillfeather.co.uk",
                                     "only.email@example-analytics.com",
                                     "joerg.weiss@beispiel-logistik.de")) == 4)
        ada = self.query("SELECT country, state, employees, company FROM leads WHERE email = ?",
                         ("ada.lovelace@example-analytics.com",))[0]
        self.assertEqual(ada, ("US", "NY", 1001, "Example Analytics, Inc."))

        # re-import: same ids, nothing new downstream
        leads = self.count("SELECT count(*) FROM leads")
        quarantined = self.count("SELECT count(*) FROM quarantine")
        sources = self.count("SELECT count(*) FROM lead_sources")
        r = self.run_cmd(["import", "-c", self.config, "--source", "hubspot", fixture])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(parse_summary(r.stdout)["hubspot_quirks.csv"]["accepted"], 4)
        # a marker lead sent after the re-import proves the store has applied everything before it
        marker = os.path.join(self.dir, "marker.csv")
        with open(marker, "w") as f:
            f.write("email,first_name,last_name,company\nmarker@example-marker.com,M,K,Marker\n")
        r = self.run_cmd(["import", "-c", self.config, marker])
        self.assertEqual(r.returncode, 0, r.stderr)
        wait_for("marker lead", lambda: self.count(
            "SELECT count(*) FROM leads WHERE email = 'marker@example-marker.com'") == 1)
        self.assertEqual(self.count("SELECT count(*) FROM leads"), leads + 1)
        self.assertEqual(self.count("SELECT count(*) FROM quarantine"), quarantined)
        self.assertEqual(self.count("SELECT count(*) FROM lead_sources"), sources + 1)

        # the ingest worker stops cleanly (a sanitizer build exits non-zero on a leak)
        self.assertEqual(self.pipe.stop("ingest", timeout=harness.DEADLINE), 0)
        self.assertNotIn("Sanitizer", self.pipe.log("ingest"))

    def test_no_profile_and_unreachable_broker(self):
        bad = os.path.join(self.dir, "unknown.csv")
        with open(bad, "w") as f:
            f.write("colour,shape\nred,round\n")
        dead = "tcp://127.0.0.1:%d" % free_port()
        t0 = time.time()
        r = self.run_cmd(["import", "--connect", dead, bad], timeout=60)
        self.assertEqual(r.returncode, 1)
        self.assertIn("broker unreachable", r.stderr)
        self.assertLess(time.time() - t0, 60)
        # the same file offline: no profile fits, and the message lists them
        r = self.run_cmd(["import", "--dry-run", bad])
        self.assertEqual(r.returncode, 1)
        self.assertIn("no profile matches", r.stderr)
        for name in ("hubspot", "salesforce", "marketo", "mautic", "activities", "feedback"):
            self.assertIn(name, r.stderr)
        r = self.run_cmd(["import"])
        self.assertEqual(r.returncode, 2)
        # stdin needs the profile named; then it reads like a file
        fixture = os.path.join(self.src, "tests", "fixtures", "salesforce_quirks.csv")
        with open(fixture, "rb") as f:
            data = f.read()
        r = subprocess.run([self.bin, "import", "--dry-run", "-"], input=data,
                           capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"needs --source", r.stderr)
        r = subprocess.run([self.bin, "import", "--dry-run", "--source", "salesforce", "-"],
                           input=data, capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"import file=- source=salesforce kind=lead read=4 accepted=2 skipped=0 "
                      b"quarantined=2 new=2 merged=0 check=ok\n", r.stdout)
        r = self.run_cmd(["import", "--help"])
        self.assertEqual(r.returncode, 0)
        self.assertIn("--source", r.stdout)


if __name__ == "__main__":
    unittest.main()
