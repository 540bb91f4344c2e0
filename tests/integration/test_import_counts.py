#!/usr/bin/python3
"""`handoff import` counts as a marketer counts them (issue 12 items 2, 4, 6), through real
processes: `handoff broker` + the ingest and store workers over ZeroMQ, a real SQLite file
read back.

Imports, in one command, a HubSpot contacts export and a Salesforce Lead extract with CRM
lifecycle stages, lead statuses and owners (tests/fixtures/crm/), and a form-webhook JSON
Lines capture with LinkedIn/Facebook/Typeform test leads, re-deliveries of the same
submission and Facebook leadgen notifications without answers (tests/fixtures/webhooks/
skips.jsonl).

Asserts: each file's line says read = accepted + skipped + quarantined (check=ok) with the
exact skip and quarantine reasons planted in the fixtures and exit 0; new and merged are the
store's (import.stats) and add up to accepted; the database holds exactly that: one lead per
new person, one source row per accepted record, one quarantine row per quarantined record,
no test lead, an `imports` row per file equal to the printed line (import.summary), the
crm_stage and owner the profiles mapped; importing the same files again from another folder
adds nothing (same import ids, same quarantine event ids) and prints the same counts. With the
store stopped (SIGSTOP) an import says not_stored=N and exits 1; resumed, nothing was lost.
SIGTERM stops an import that waits on a stopped worker at once (exit 1, what it had counted).
A repeated row and a later export of the same records are the same events: counted once, exit 0;
a record that changed in a later export is a new fact, merged into the person.

Run: HO_BIN=build/handoff /usr/bin/python3 tests/integration/test_import_counts.py
"""
import json
import os
import shutil
import signal
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import parse_summary, wait_for  # noqa: E402

FILES = ("hubspot_stages.csv", "salesforce_stages.csv", "skips.jsonl")
WANT = {
    "hubspot_stages.csv": dict(profile="hubspot", read=17, accepted=16, skipped=0,
                               quarantined=1, new=15, merged=1, skips={},
                               reasons={"bad_email": 1}),
    "salesforce_stages.csv": dict(profile="salesforce", read=7, accepted=7, skipped=0,
                                  quarantined=0, new=6, merged=1, skips={}, reasons={}),
    "skips.jsonl": dict(profile="webhooks", read=17, accepted=6, skipped=10, quarantined=1,
                        new=5, merged=1,
                        skips={"test_lead": 4, "duplicate_delivery": 4, "notification_only": 2},
                        reasons={"missing_email": 1}),
}
TEST_LEADS = ("test.user@linkedin.example", "tester@fb-qa.example",
              "qa+typeform@saffronbyte.example")


class ImportCounts(unittest.TestCase):
    def setUp(self):
        self.pipe = harness.Pipeline(harness.temp_dir(self, "ho-import-counts-"))
        self.addCleanup(self.pipe.close)
        self.config = self.pipe.write_config(
            "routes:\n  lead.raw: ingest\n  activity.raw: ingest\n"
            "  lead.normalized: store\n  activity.normalized: store\n"
            "  quarantine: store\n")
        self.pipe.start("ingest", "store")
        fixtures = os.path.join(harness.source_dir(), "tests", "fixtures")
        self.first = self.copy_fixtures(fixtures, "first")
        self.second = self.copy_fixtures(fixtures, "elsewhere")

    def copy_fixtures(self, fixtures, sub):
        folder = os.path.join(self.pipe.dir, sub)
        os.mkdir(folder)
        for rel in ("crm/hubspot_stages.csv", "crm/salesforce_stages.csv",
                    "webhooks/skips.jsonl", "webhooks/linkedin_lead_forms.json"):
            shutil.copy(os.path.join(fixtures, rel), folder)
        return [os.path.join(folder, f) for f in FILES]

    def import_all(self, paths):
        r = self.pipe.run(["import", "-c", self.config, "--now", "2026-11-23T09:00:00Z"] + paths)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        got = parse_summary(r.stdout)
        for name in FILES:
            g, w = got[name], WANT[name]
            self.assertEqual(g["check"], "ok", name)
            self.assertEqual(g["read"], g["accepted"] + g["skipped"] + g["quarantined"], name)
            self.assertEqual(g["new"] + g["merged"], g["accepted"], name)
            self.assertEqual(sum(g["skips"].values()), g["skipped"], name)
            self.assertEqual(sum(g["reasons"].values()), g["quarantined"], name)
            self.assertEqual({k: g[k] for k in w}, w, name)
        self.assertRegex(r.stdout, r"(?m)^import total files=3 read=41 accepted=29 skipped=10 "
                                   r"quarantined=2 new=26 merged=3 check=ok$")
        return got

    def count(self, sql, args=()):
        return self.pipe.count(sql, args)

    def test_counts_match_the_database(self):
        got = self.import_all(self.first)
        people = sum(got[n]["new"] for n in FILES)
        accepted = sum(got[n]["accepted"] for n in FILES)
        wait_for("%d leads" % people, lambda: self.count("SELECT count(*) FROM leads") == people)
        wait_for("%d source rows" % accepted,
                 lambda: self.count("SELECT count(*) FROM lead_sources") == accepted)
        wait_for("2 quarantine rows",
                 lambda: self.count("SELECT count(*) FROM quarantine") == 2)
        self.assertEqual(dict(self.pipe.query("SELECT code, count(*) FROM quarantine GROUP BY code")),
                         {"bad_email": 1, "missing_email": 1})
        for email in TEST_LEADS:
            self.assertEqual(self.count("SELECT count(*) FROM leads WHERE email = ?", (email,)), 0)
        # each file's import.summary, upserted by the store under the content's import id
        rows = self.pipe.query("SELECT file, source, kind, read, accepted, skipped_json, "
                               "quarantined_json, finished_at FROM imports ORDER BY file")
        self.assertEqual(len(rows), 3, rows)
        for f, source, kind, read, acc, skipped, quarantined, finished in rows:
            g = got[f]
            self.assertEqual((source, kind, read, acc), (g["profile"], "lead", g["read"],
                                                         g["accepted"]))
            self.assertEqual(json.loads(skipped), g["skips"])
            self.assertEqual(json.loads(quarantined), g["reasons"])
            self.assertEqual(finished, 1795424400000)  # --now
        results = dict(((i, r), n) for i, r, n in self.pipe.query(
            "SELECT i.file, r.result, r.n FROM import_results r JOIN imports i "
            "USING (import_id) WHERE r.result IN ('new', 'merged')"))
        for name in FILES:
            self.assertEqual(results.get((name, "new"), 0), got[name]["new"], name)
            self.assertEqual(results.get((name, "merged"), 0), got[name]["merged"], name)

        # what the profiles said about stage and owner reached the lead
        def fields(email):
            return json.loads(self.pipe.one("SELECT fields_json FROM leads WHERE email = ?",
                                            (email,))[0])
        self.assertEqual(fields("oren.hale@bluestem-health.com")["crm_stage"], "SQL")
        self.assertEqual(fields("luca.brandt@kestrel-logistics.de")["crm_stage"], "DISQUALIFIED")
        self.assertEqual(fields("amara.osei@saltmarsh-energy.com")["owner"], "Dana Reyes")
        viktor = fields("viktor.hale@quarrystone.com")
        self.assertEqual(viktor["crm_stage"], "SAL")
        self.assertNotIn("owner", viktor)  # a Salesforce queue (00G...) is nobody
        self.assertEqual(fields("jonas.weber@eisvogel-maschinen.de")["owner"],
                         "0058d0000QrStUvAAB")

        # the same files from another folder: the same imports, nothing added
        before = [self.count("SELECT count(*) FROM %s" % t)
                  for t in ("leads", "lead_sources", "quarantine", "imports")]
        again = self.import_all(self.second)
        for name in FILES:
            self.assertEqual(again[name]["accepted"], got[name]["accepted"])
        self.assertEqual([self.count("SELECT count(*) FROM %s" % t)
                          for t in ("leads", "lead_sources", "quarantine", "imports")], before)

        # records the connector itself refuses (wrong column count, invalid UTF-8) are keyed by
        # the import and the line, not the path: the copy elsewhere adds no second row
        quirks = os.path.join(harness.source_dir(), "tests", "fixtures", "hubspot_quirks.csv")
        copies = []
        for sub in ("first", "elsewhere"):
            copies.append(os.path.join(self.pipe.dir, sub, "quirks.csv"))
            shutil.copy(quirks, copies[-1])
        q0 = self.count("SELECT count(*) FROM quarantine")
        r = self.pipe.run(["import", "-c", self.config, "--source", "hubspot", copies[0]])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        got = parse_summary(r.stdout)["quirks.csv"]
        self.assertEqual((got["quarantined"], got["check"]), (6, "ok"))
        wait_for("the quirks' quarantine rows",
                 lambda: self.count("SELECT count(*) FROM quarantine") == q0 + 6)
        self.assertEqual(self.count("SELECT count(*) FROM quarantine WHERE stage = 'import' "
                                    "AND file = ?", (copies[0],)), 3)
        r = self.pipe.run(["import", "-c", self.config, "--source", "hubspot", copies[1]])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(parse_summary(r.stdout)["quirks.csv"]["quarantined"], 6)
        self.assertEqual(self.count("SELECT count(*) FROM quarantine"), q0 + 6)

    def test_records_the_store_never_applied_are_not_stored_and_exit_1(self):
        r = self.pipe.run(["import", "-c", self.config, self.first[0]])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # the store stops (a real SIGSTOP): what ingest accepts now waits in the broker
        store = self.pipe.worker("store")
        os.kill(store.pid, signal.SIGSTOP)
        self.addCleanup(os.kill, store.pid, signal.SIGCONT)
        r = self.pipe.run(["import", "-c", self.config, "--settle", "2", self.first[1]])
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        got = parse_summary(r.stdout)["salesforce_stages.csv"]
        self.assertEqual((got["read"], got["accepted"], got["not_stored"], got["check"]),
                         (7, 7, 7, "ok"))
        self.assertIn("not stored", r.stderr)
        # nothing was lost: resumed, the store applies what waited
        os.kill(store.pid, signal.SIGCONT)
        wait_for("the waiting leads", lambda: self.count(
            "SELECT count(*) FROM leads WHERE email = 'maren.solberg@fernhill-data.no'") == 1,
            deadline=60)

    def test_the_same_event_again_is_not_an_error(self):
        # a row repeated byte for byte (the same Record ID: the same event) and, later, another
        # export holding the same records: stored once, counted once, exit 0
        with open(self.first[0], encoding="utf-8-sig", newline="") as f:
            rows = f.read().splitlines(True)  # CRLF kept: a quoted field holds one too
        twice = os.path.join(self.pipe.dir, "twice.csv")
        with open(twice, "w", encoding="utf-8-sig", newline="") as f:
            f.writelines(rows + [rows[1]])
        r = self.pipe.run(["import", "-c", self.config, twice])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        got = parse_summary(r.stdout)["twice.csv"]
        self.assertEqual((got["read"], got["accepted"], got["new"], got["merged"], got["check"]),
                         (18, 17, 15, 1, "ok"))
        self.assertIn("1 accepted records were the same events", r.stderr)
        r = self.pipe.run(["import", "-c", self.config, self.first[0]])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        got = parse_summary(r.stdout)["hubspot_stages.csv"]
        self.assertEqual((got["accepted"], got["new"], got["merged"]), (16, 0, 0))
        self.assertEqual(self.count("SELECT count(*) FROM leads"), 15)
        self.assertEqual(self.count("SELECT count(*) FROM lead_sources"), 16)
        # next week's export: one contact moved on (Lead -> Marketing Qualified Lead, still
        # Attempted to Contact: SAL). That record is a new fact, merged; the others are not new.
        later = os.path.join(self.pipe.dir, "later.csv")
        with open(later, "w", encoding="utf-8-sig", newline="") as f:
            f.writelines(row.replace(",Lead,Attempted to Contact,",
                                     ",Marketing Qualified Lead,Attempted to Contact,")
                         for row in rows)
        r = self.pipe.run(["import", "-c", self.config, later])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        got = parse_summary(r.stdout)["later.csv"]
        self.assertEqual((got["accepted"], got["new"], got["merged"]), (16, 0, 1))
        self.assertEqual(self.count("SELECT count(*) FROM lead_sources"), 17)
        self.assertEqual(json.loads(self.pipe.one(
            "SELECT fields_json FROM leads WHERE email = 'ines.castell@corvina-retail.es'")[0])
            .get("crm_stage"), "SAL")

    def test_sigterm_stops_a_waiting_import_at_once(self):
        # ingest stopped (SIGSTOP): the import's window fills and it waits for replies it
        # would otherwise wait --timeout (10 minutes here) for
        ingest = self.pipe.worker("ingest")
        os.kill(ingest.pid, signal.SIGSTOP)
        self.addCleanup(os.kill, ingest.pid, signal.SIGCONT)
        csv = os.path.join(self.pipe.dir, "many.csv")
        with open(csv, "w") as f:
            f.write("email,first_name\n")
            f.writelines("lead%05d@example.com,L\n" % i for i in range(3000))
        imp = self.pipe.spawn("import", [
            self.pipe.bin, "import", "-c", self.config, "--source", "csv", "--batch", "10",
            "--window", "2", "--timeout", "600000", csv], ready="import_id=")
        # (its client, and with it the signal handling, exists once it names the import)
        imp.send_signal(signal.SIGTERM)
        wait_for("the import to stop", lambda: imp.poll() is not None)
        self.assertEqual(imp.returncode, 1)
        self.assertIn("interrupted by a signal", self.pipe.log("import"))
        self.assertRegex(self.pipe.log("import"), r"(?m)^import file=\S+many\.csv .* "
                                                  r"check=MISMATCH$")


if __name__ == "__main__":
    unittest.main()
