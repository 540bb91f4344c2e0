#!/usr/bin/python3
"""Lead identity and merging through the real pipeline: `handoff broker`, `handoff worker
ingest`, `handoff worker store` as separate processes, `handoff import` of three sources that
share people (a HubSpot contacts CSV, a Salesforce leads CSV, form webhooks as JSON Lines,
all written here), and the real SQLite file read back.

Asserts: one lead per person (email case and whitespace differ across the files; plus
addressing kept distinct); every field merged by the documented rule (deploy/store.yaml:
empty never overwrites, per-field source precedence, otherwise the newest record by its own
date, whatever order the files arrive in); every source recorded (lead_sources with source,
record id, campaign, file and line; original source/campaign of the earliest record; first and
last touch); replaying the whole import twice changes no row; `handoff forget` through the
broker erases the person and a replay does not bring them back; a refused record replayed
with `handoff dlq replay` and refused again is open again in `handoff dlq list`. A second
pipeline with its
own precedence and `plus_addressing: strip` (workers.store in handoff.yaml) merges by that.

Run: HO_BIN=build/handoff /usr/bin/python3 tests/integration/test_store_merge.py
"""
import calendar
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import wait_for  # noqa: E402

DEADLINE = 30.0

HUBSPOT = (
    "Record ID,First Name,Last Name,Email,Phone Number,Job Title,Company Name,Industry,"
    "Number of Employees,Annual Revenue,Country/Region,State/Region,City,Lifecycle Stage,"
    "Lead Status,Original Source,Original Source Drill-Down 1,Contact owner,Create Date,Message\n"
    "101,Jane,Doe,Jane.Doe@Acme.com,555-0101,Marketing Manager,Acme,Software,120,,"
    "United States,MA,Boston,Lead,,Paid Search,,,2026-09-01 10:00,\n"
    "102,Bob,Baker,bob+news@beta.io,555-0202,Data Engineer,Beta,Software,40,,"
    "United States,CO,Denver,Lead,,Organic Search,,,2026-09-02 09:00,\n"
    "103,Hank,Hill,hank@hubonly.example,,Buyer,Hub Only,Retail,10,,United States,TX,Arlen,"
    "Lead,,Referrals,,,2026-09-03 08:00,\n")

SALESFORCE = (
    '"Id","FirstName","LastName","Email","Title","Company","Industry","LeadSource","Status",'
    '"Phone","Country","State","City","NumberOfEmployees","AnnualRevenue","Description",'
    '"OwnerId","CreatedDate"\n'
    '"00QA","Janet","Doe"," jane.doe@ACME.com ","VP Marketing","Acme Corp","","Trade Show",'
    '"Open","555-0199","US","MA","","","","","","2026-09-05T10:00:00.000Z"\n'
    '"00QB","Robert","Baker","BOB+NEWS@beta.io","Lead Data Engineer","Beta Inc","",'
    '"Web","Open","","US","TX","Austin","55","","","","2026-09-03T12:00:00.000Z"\n'
    '"00QC","Bobby","Plain","bob@beta.io","Analyst","Beta Inc","","Web","Open","","US",'
    '"CA","Oakland","","","","","2026-09-04T12:00:00.000Z"\n'
    '"00QD","Sally","Force","sally@sfonly.example","CFO","SF Only","","Partner","Open",'
    '"555-0404","US","WA","Seattle","","","","","2026-09-06T12:00:00.000Z"\n')


def typeform(token, email, first, company, role, submitted, campaign):
    answers = [
        {"type": "text", "text": first,
         "field": {"id": "f1", "type": "short_text", "ref": "first_name"}},
        {"type": "email", "email": email,
         "field": {"id": "f2", "type": "email", "ref": "email"}},
        {"type": "text", "text": company,
         "field": {"id": "f3", "type": "short_text", "ref": "company"}},
        {"type": "text", "text": role,
         "field": {"id": "f4", "type": "short_text", "ref": "job_title"}},
    ]
    return json.dumps({
        "event_id": "EV-" + token, "event_type": "form_response",
        "form_response": {
            "form_id": "WbQ1", "token": token, "submitted_at": submitted,
            "hidden": {"utm_campaign": campaign},
            "definition": {"id": "WbQ1", "title": "Webinar signup", "fields": []},
            "answers": answers}})


FORMS = "\n".join([
    # jane: the newest record of all, but typeform is not in the precedence lists
    typeform("tok-jane", "JANE.DOE@acme.com", "Jane", "Acme Inc", "CMO",
             "2026-09-10T12:00:00Z", "webinar-q3"),
    # bob: the OLDEST of bob's records, though it arrives last: only fills and names the origin
    typeform("tok-bob", " bob+news@Beta.io", "Bobby", "Beta Analytics", "Intern",
             "2026-08-20T12:00:00Z", "spring-promo"),
    # fay: only here
    typeform("tok-fay", "fay@formonly.example", "Fay", "Form Only", "Analyst",
             "2026-09-07T12:00:00Z", "webinar-q3"),
]) + "\n"

def ms(text):
    """UTC 'YYYY-MM-DD HH:MM' or 'YYYY-MM-DDTHH:MM' -> epoch ms"""
    return calendar.timegm(time.strptime(text.replace("T", " "), "%Y-%m-%d %H:%M")) * 1000


MS = {k: ms(k) for k in ("2026-08-20T12:00", "2026-09-01 10:00", "2026-09-02 09:00",
                         "2026-09-03T12:00", "2026-09-05T10:00", "2026-09-10T12:00")}

TABLES = ("leads", "lead_sources", "activities", "stage_history", "scores", "assignments",
          "sla_breaches", "outcomes", "pending_outcomes", "quarantine", "events", "erasures")


class StoreMerge(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ho-merge-")
        self.procs = []
        self.logs = []
        self.bin = os.environ["HO_BIN"]
        self.files = []
        for name, text in (("hubspot_contacts.csv", HUBSPOT),
                           ("salesforce_leads.csv", SALESFORCE),
                           ("form_webhooks.jsonl", FORMS)):
            path = os.path.join(self.dir, name)
            with open(path, "w") as f:
                f.write(text)
            self.files.append(path)
        self.markers = 0
        self.pipe = None

    def tearDown(self):
        if self.pipe is not None:
            self.pipe.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def start(self, tag, store_settings=""):
        self.pipe = harness.Pipeline(self.dir, "ipc", tag=tag, deadline=DEADLINE)
        # no score/route workers: their requests have no route here and are dropped
        self.config = self.pipe.write_config(
            "routes:\n  lead.raw: ingest\n  activity.raw: ingest\n"
            "  lead.normalized: store\n  activity.normalized: store\n"
            "  quarantine: store\n  lead.forget: store\n%s" % store_settings)
        self.data = self.pipe.data
        self.db = self.pipe.db
        self.pipe.start("ingest", "store")

    def stop_clean(self, name):
        """SIGTERM a worker: exit 0 (a sanitizer build exits non-zero on a leak or error)."""
        code = self.pipe.stop(name, timeout=20)
        self.assertEqual(code, 0, self.pipe.log(name)[-3000:])

    def run_cmd(self, args, timeout=120):
        r = harness.run(args, timeout)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return r

    def query(self, sql, args=()):
        return self.pipe.query(sql, args)

    def one(self, sql, args=()):
        rows = self.query(sql, args)
        return rows[0] if rows else None

    def import_all(self):
        """The three sources in one command, then a marker lead: the store has applied
        everything before the marker when the marker is there (one store, FIFO)."""
        self.run_cmd(["import", "-c", self.config, "--batch", "2"] + self.files)
        self.markers += 1
        email = "marker%d@marker.example" % self.markers
        path = os.path.join(self.dir, "marker%d.csv" % self.markers)
        with open(path, "w") as f:
            f.write("email,first_name\n%s,M\n" % email)
        self.run_cmd(["import", "-c", self.config, "--source", "csv", path])
        wait_for(email, lambda: self.query("SELECT 1 FROM leads WHERE email = ?", (email,)))

    @staticmethod
    def event_text(key):
        """An events key as its event id (schema version 7 keeps <prefix>-<32 hex digits> as
        the prefix, act and scored as the bytes 1 and 2, and the 16 bytes the digits spell)."""
        if isinstance(key, bytes):
            prefix = {b"\x01": "act", b"\x02": "scored"}.get(key[:-16]) or key[:-16].decode()
            return prefix + "-" + key[-16:].hex()
        return key

    def dump(self):
        """Every row of every table except those of the marker leads, as text."""
        out = {}
        con = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True, timeout=5)
        try:
            markers = [r[0] for r in con.execute(
                "SELECT id FROM leads WHERE email LIKE 'marker%@marker.example'")]
            marker_events = {r[0] for r in con.execute(
                "SELECT event_id FROM lead_sources WHERE lead_id IN (%s)"
                % ",".join(str(m) for m in markers))} if markers else set()
            for t in TABLES:
                cols = [c[1] for c in con.execute("PRAGMA table_info(%s)" % t)]
                rows = []
                for row in con.execute("SELECT * FROM %s ORDER BY 1" % t):
                    r = dict(zip(cols, row))
                    if t == "leads" and r["id"] in markers:
                        continue
                    if "lead_id" in r and r["lead_id"] in markers:
                        continue
                    if t == "events" and self.event_text(r["event_id"]) in marker_events:
                        continue
                    rows.append(row)
                out[t] = rows
        finally:
            con.close()
        return out

    def lead(self, email, cols):
        return self.one("SELECT %s FROM leads WHERE email = ?" % cols, (email,))

    def sources(self, email):
        return self.query(
            "SELECT s.source, s.source_record_id, s.original_source, s.campaign, "
            "s.observed_at, s.file IS NOT NULL AND s.line >= 1 FROM lead_sources s JOIN leads l "
            "ON l.id = s.lead_id WHERE l.email = ? ORDER BY s.observed_at", (email,))

    def test_three_sources_merge_replay_forget(self):
        self.start("a")
        self.import_all()

        # ---- identity: 7 people in 10 records (+ the marker) ----
        emails = [r[0] for r in self.query("SELECT email FROM leads ORDER BY email")]
        self.assertEqual(emails, ["bob+news@beta.io", "bob@beta.io", "fay@formonly.example",
                                  "hank@hubonly.example", "jane.doe@acme.com",
                                  "marker1@marker.example", "sally@sfonly.example"])
        self.assertEqual(self.one("SELECT count(*) FROM lead_sources")[0], 11)
        self.assertEqual(self.one("SELECT count(*) FROM quarantine")[0], 0)

        # ---- jane: HubSpot 09-01, Salesforce 09-05, form 09-10 ----
        # title/phone/company: precedence [salesforce, hubspot] beats the newer form;
        # city: Salesforce's empty value never overwrites; first_name: the newest (form)
        self.assertEqual(
            self.lead("jane.doe@acme.com", "first_name, last_name, title, phone, company, city, "
                      "state, employees, original_source, original_campaign, first_touch_at, "
                      "last_touch_at, created_at, stage"),
            ("Jane", "Doe", "VP Marketing", "555-0199", "Acme Corp", "Boston", "MA", 120,
             "Paid Search", None, MS["2026-09-01 10:00"], MS["2026-09-10T12:00"],
             MS["2026-09-01 10:00"], "ML"))
        self.assertEqual(self.sources("jane.doe@acme.com"), [
            ("hubspot", "101", "Paid Search", None, MS["2026-09-01 10:00"], 1),
            ("salesforce", "00QA", "Trade Show", None, MS["2026-09-05T10:00"], 1),
            ("typeform", "tok-jane", None, "webinar-q3", MS["2026-09-10T12:00"], 1)])
        trail = json.loads(self.lead("jane.doe@acme.com", "field_sources_json")[0])
        self.assertEqual(trail["_"], ["hubspot", MS["2026-09-01 10:00"]])
        self.assertEqual(trail["title"], ["salesforce", MS["2026-09-05T10:00"]])
        self.assertEqual(trail["first_name"], ["typeform", MS["2026-09-10T12:00"]])
        self.assertNotIn("city", trail)  # still HubSpot's ("_")

        # ---- bob+news: form 08-20 (arrives last), HubSpot 09-02, Salesforce 09-03 ----
        # the old form record fills nothing that is set, but it is the earliest: origin
        self.assertEqual(
            self.lead("bob+news@beta.io", "first_name, title, phone, company, city, state, "
                      "employees, original_source, original_campaign, first_touch_at, "
                      "last_touch_at, created_at"),
            ("Robert", "Lead Data Engineer", "555-0202", "Beta Inc", "Austin", "TX", 55,
             "typeform", "spring-promo", MS["2026-08-20T12:00"], MS["2026-09-03T12:00"],
             MS["2026-08-20T12:00"]))
        self.assertEqual([s[0] for s in self.sources("bob+news@beta.io")],
                         ["typeform", "hubspot", "salesforce"])
        # plus addressing kept: bob@beta.io is somebody else
        self.assertEqual(self.lead("bob@beta.io", "first_name, city"), ("Bobby", "Oakland"))

        # ---- replay the whole import, twice: nothing changes ----
        before = self.dump()
        for _ in range(2):
            self.import_all()
            self.assertEqual(self.dump(), before)

        # ---- handoff forget through the broker ----
        jane_id = self.lead("jane.doe@acme.com", "id")[0]
        r = self.run_cmd(["forget", " Jane.Doe@ACME.com ", "-c", self.config])
        self.assertIn("found=1", r.stdout)
        self.assertIn("lead_id=%d" % jane_id, r.stdout)
        self.assertEqual(
            self.one("SELECT email, first_name, title, phone, company, fields_json, erased, "
                     "original_source, stage FROM leads WHERE id = ?", (jane_id,)),
            ("erased-%d@invalid" % jane_id, None, None, None, None, "{}", 1, "Paid Search",
             "ML"))
        self.assertEqual(self.query("SELECT source, source_record_id FROM lead_sources WHERE "
                                    "lead_id = ? ORDER BY id", (jane_id,)),
                         [("hubspot", None), ("salesforce", None), ("typeform", None)])
        self.assertEqual(self.one("SELECT count(*) FROM erasures WHERE lead_id = ?",
                                  (jane_id,))[0], 1)
        # an old record replayed does not bring her back (its event was applied already)
        after_forget = self.dump()
        self.import_all()
        self.assertEqual(self.dump(), after_forget)
        self.assertIsNone(self.lead("jane.doe@acme.com", "id"))

        # ---- a refused lead record through `handoff dlq list / replay` ----
        bad = os.path.join(self.dir, "hubspot_bad_date.csv")
        with open(bad, "w") as f:
            f.write(HUBSPOT.splitlines()[0] + "\n201,Zed,Zulu,zed@zulu.example,,,Zulu,,,,"
                    "United States,,,Lead,,Paid Search,,,not-a-date,\n")
        self.run_cmd(["import", "-c", self.config, bad])
        self.import_all()
        q = self.query("SELECT id, stage, code, field, line, input_type, replayed_at FROM "
                       "quarantine WHERE file = ?", (bad,))
        self.assertEqual(q, [(q[0][0], "ingest", "bad_date", "created_at", 2, "lead.raw", None)])
        dlq = ["-c", self.config, "--data-dir", self.data]
        r = self.run_cmd(["dlq", "list"] + dlq)
        self.assertIn("code=bad_date field=created_at", r.stdout)
        self.assertIn("line=2", r.stdout)
        r = self.run_cmd(["dlq", "replay", str(q[0][0])] + dlq)
        self.assertIn("replayed id=%d" % q[0][0], r.stdout)
        # the replayed record goes through ingest again and is refused again: the row is
        # open again (listed), not marked done; no lead, no second row
        self.import_all()
        wait_for("the row open again", lambda: self.query(
            "SELECT replayed_at FROM quarantine WHERE id = ?", (q[0][0],)) == [(None,)])
        self.assertIn("line=2", self.run_cmd(["dlq", "list"] + dlq).stdout)
        self.assertEqual(self.one("SELECT count(*) FROM quarantine")[0], 1)
        self.assertIsNone(self.lead("zed@zulu.example", "id"))

        self.stop_clean("store-a")
        self.stop_clean("ingest-a")

    def test_precedence_config_and_plus_strip(self):
        # the form is trusted first for titles, HubSpot first for companies; phone has no
        # list (newest wins); plus addresses are one person
        self.start("b", "workers:\n  store:\n    plus_addressing: strip\n    precedence:\n"
                        "      title: [typeform, hubspot]\n      company: [hubspot]\n")
        self.import_all()
        emails = [r[0] for r in self.query("SELECT email FROM leads ORDER BY email")]
        self.assertEqual(emails, ["bob@beta.io", "fay@formonly.example", "hank@hubonly.example",
                                  "jane.doe@acme.com", "marker1@marker.example",
                                  "sally@sfonly.example"])
        self.assertEqual(
            self.lead("jane.doe@acme.com", "title, company, phone, city, first_name"),
            ("CMO", "Acme", "555-0199", "Boston", "Jane"))
        # bob = bob+news (form 08-20, HubSpot 09-02, Salesforce 09-03) + bob (Salesforce 09-04)
        self.assertEqual(
            self.lead("bob@beta.io", "title, company, phone, city, state, first_name, "
                      "original_source, original_campaign, first_touch_at"),
            ("Intern", "Beta", "555-0202", "Oakland", "CA", "Bobby", "typeform", "spring-promo",
             MS["2026-08-20T12:00"]))
        self.assertEqual(len(self.sources("bob@beta.io")), 4)
        before = self.dump()
        self.import_all()
        self.assertEqual(self.dump(), before)
        self.stop_clean("store-b")


if __name__ == "__main__":
    unittest.main()
