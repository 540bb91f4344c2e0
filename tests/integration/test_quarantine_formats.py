#!/usr/bin/python3
"""The quarantine path of every connector format, end to end: `handoff broker` + the ingest and
store workers (real processes, ipc in the test folder, a real SQLite file), `handoff import`
of one hand-written fixture per format with good and bad records side by side:

  HubSpot contacts CSV, Salesforce lead CSV, Marketo lead CSV, Mautic contacts CSV, the
  generic `csv` profile (a Latin-1 file read as UTF-8) and the same file under a mapping given
  in a YAML file (--profile-file, encoding: latin1), activities as CSV and as JSON Lines, and
  captured form webhooks as JSON Lines.

For each file it asserts the summary counts, then that every bad record is a row of the
`quarantine` table with its file, line, field, stage, code and a reason sentence that names
file:line (and the raw record kept), that nothing else was quarantined, and that every good
record of the same file is in `leads` / `activities`.

Run: HO_BIN=build/handoff /usr/bin/python3 tests/integration/test_quarantine_formats.py
"""
import datetime
import os
import re
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import wait_for  # noqa: E402


SUMMARY = re.compile(r"^import file=(\S+) source=(\S+) kind=\S+ read=(\d+) accepted=(\d+) "
                     r"skipped=(\d+) quarantined=(\d+) .*check=ok$", re.M)

# file (under tests/fixtures), import options, profile, read, accepted,
# the quarantined records as (line, stage, code, field), the good records' emails (leads)
# or (email, type, time) of the activities
CASES = [
    ("hubspot_quirks.csv", ["--source", "hubspot"], "hubspot", 10, 4,
     [(5, "ingest", "missing_email", "email"), (6, "ingest", "bad_date", "created_at"),
      (7, "import", "bad_column_count", ""), (8, "import", "bad_column_count", ""),
      (9, "import", "bad_utf8", "City"), (12, "ingest", "bad_email", "email")],
     {"leads": ["ada.lovelace@example-analytics.com", "barnaby@quillfeather.co.uk",
                "only.email@example-analytics.com", "joerg.weiss@beispiel-logistik.de"]}),
    ("salesforce_quirks.csv", [], "salesforce", 4, 2,
     [(5, "import", "bad_column_count", ""), (6, "ingest", "bad_date", "created_at")],
     {"leads": ["cora.vane@example-bank.com", "dev.rao@gmail.com"]}),
    ("marketo_quirks.csv", [], "marketo", 7, 2,
     [(3, "ingest", "bad_email", "email"), (4, "import", "bad_column_count", ""),
      (5, "ingest", "bad_date", "created_at"), (6, "ingest", "missing_email", "email"),
      (9, "import", "bad_utf8", "city")],
     {"leads": ["greta.holm@example-shipping.se", "pia.sund@example-telecom.se"]}),
    ("mautic_contacts.csv", [], "mautic", 2, 1,
     [(3, "ingest", "bad_date", "created_at")],
     {"leads": ["imke.brandt@example-werke.de"]}),
    ("latin1_leads.csv", ["--source", "csv"], "csv", 3, 1,
     [(2, "import", "bad_utf8", "first_name"), (3, "import", "bad_utf8", "first_name")],
     {"leads": ["plain.ascii@example-conseil.fr"]}),
    ("activities_quirks.csv", [], "activities", 9, 3,
     [(4, "ingest", "unknown_activity_type", "activity_type"),
      (5, "ingest", "bad_date", "activity_date"), (6, "ingest", "missing_email", "email"),
      (7, "import", "bad_column_count", ""),
      (9, "ingest", "unknown_activity_type", "activity_type"),
      (10, "ingest", "missing_date", "activity_date")],
     {"activities": [("ada.lovelace@example-analytics.com", "page_view", "2026-10-20T09:12:45Z"),
                     ("ada.lovelace@example-analytics.com", "webinar_attended",
                      "2026-10-21T10:00:00Z"),
                     ("barnaby@quillfeather.co.uk", "demo_request", "2026-10-22T11:28:06Z")]}),
    ("activities_quirks.jsonl", [], "activities", 7, 3,
     [(3, "import", "bad_json", ""), (5, "ingest", "unknown_activity_type", "activity_type"),
      (6, "ingest", "bad_date", "activity_date"), (7, "ingest", "missing_email", "email")],
     {"activities": [("ada.lovelace@example-analytics.com", "page_view", "2026-10-14T09:12:45Z"),
                     ("ada.lovelace@example-analytics.com", "demo_request",
                      "2026-10-15T10:00:00Z"),
                     ("barnaby@quillfeather.co.uk", "email_open", "2026-10-18T11:28:06Z")]}),
    ("webhooks/mixed.jsonl", [], "webhooks", 7, 3,
     [(3, "import", "bad_json", ""), (4, "import", "unknown_shape", ""),
      (7, "import", "bad_record", "field_data")],
     {"leads": ["first@example.org", "second@example.org", "third@example.org"]}),
]


class QuarantineFormats(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ho-qfmt-")
        self.src = harness.source_dir()
        self.pipe = None

    def tearDown(self):
        if self.pipe is not None:
            self.pipe.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def start_pipeline(self):
        self.pipe = harness.Pipeline(self.dir, "ipc")
        self.config = self.pipe.write_config(
            "routes:\n  lead.raw: ingest\n  activity.raw: ingest\n"
            "  lead.normalized: store\n  activity.normalized: store\n"
            "  quarantine: store\n")
        self.pipe.start("ingest", "store")
        self.query = self.pipe.query

    def import_file(self, path, opts):
        r = harness.run(["import", "-c", self.config] + opts + [path], timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)  # quarantined rows are kept: exit 0
        m = SUMMARY.search(r.stdout)
        self.assertIsNotNone(m, r.stdout)
        self.assertEqual(m.group(1), path)
        return m.group(2), int(m.group(3)), int(m.group(4)), int(m.group(6))

    def check_quarantine(self, path, want):
        def rows():
            got = self.query("SELECT line, stage, code, field, reason, raw_json FROM quarantine "
                             "WHERE file = ? ORDER BY line, code", (path,))
            return got if got is not None and len(got) >= len(want) else None
        got = wait_for("%d quarantine rows of %s" % (len(want), path), rows)
        self.assertEqual([r[:4] for r in got], want, path)
        for line, _stage, _code, _field, reason, raw in got:
            # the sentence names the file and the line; the refused record is kept
            self.assertIn("%s:%d:" % (path, line), reason)
            self.assertTrue(raw and raw != "null", (path, line))

    def check_good(self, name, good):
        for email in good.get("leads", []):
            wait_for("lead %s of %s" % (email, name), lambda: self.query(
                "SELECT count(*) FROM leads WHERE email = ?", (email,)) == [(1,)])
        for email, type_, when in good.get("activities", []):
            at = int(datetime.datetime.strptime(when, "%Y-%m-%dT%H:%M:%SZ").replace(
                tzinfo=datetime.timezone.utc).timestamp() * 1000)
            wait_for("activity %s %s %s of %s" % (email, type_, when, name), lambda: self.query(
                "SELECT count(*) FROM activities a JOIN leads l ON l.id = a.lead_id "
                "WHERE l.email = ? AND a.type = ? AND a.occurred_at = ?",
                (email, type_, at)) == [(1,)])

    def test_every_format(self):
        self.start_pipeline()
        fixtures = os.path.join(self.src, "tests", "fixtures")
        total_q = 0
        for name, opts, profile, read, accepted, bad, good in CASES:
            with self.subTest(fixture=name):
                path = os.path.join(fixtures, name)
                self.assertEqual(self.import_file(path, opts),
                                 (profile, read, accepted, len(bad)), name)
                self.check_quarantine(path, bad)
                self.check_good(name, good)
                total_q += len(bad)

        # the generic profile's mapping in a YAML file of the user's: the same Latin-1 file is
        # read as it says (encoding: latin1) and nothing is quarantined
        latin1 = os.path.join(fixtures, "latin1_leads.csv")
        profile = os.path.join(fixtures, "profiles", "latin1_csv.yaml")
        before = self.query("SELECT count(*) FROM quarantine")[0][0]
        self.assertEqual(self.import_file(latin1, ["--profile-file", profile])[1:], (3, 3, 0))
        self.check_good("latin1 profile", {"leads": ["jurgen.muller@example-maschinen.de",
                                                     "francoise@example-conseil.fr"]})
        first = wait_for("Jürgen", lambda: self.query(
            "SELECT first_name FROM leads WHERE email = ?",
            ("jurgen.muller@example-maschinen.de",)))
        self.assertEqual(first, [("Jürgen",)])
        # the good leads of a file go through, and only the refused records are in quarantine
        self.assertEqual(self.query("SELECT count(*) FROM quarantine")[0][0], before)
        self.assertEqual(before, total_q)
        # nothing refused ever became a lead: the refused addresses are not in `leads`
        for email in ("olga.lind@example-bank.se", "short@example-shipping.se",
                      "asa.nystrom@example-telecom.se"):
            self.assertEqual(self.query("SELECT count(*) FROM leads WHERE email = ?",
                                        (email,)), [(0,)], email)


if __name__ == "__main__":
    unittest.main()
