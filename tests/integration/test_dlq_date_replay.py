#!/usr/bin/python3
"""A record quarantined for a date in a format its profile did not list gets in with
`handoff dlq replay` once the operator has added the format to the profile.

Real processes (`handoff broker`, `handoff worker ingest`, `handoff worker store`, the
`handoff import` and `handoff dlq` commands), a profile of our own in the config folder's
profiles/, the store's real SQLite file read back. The ingest worker keeps running the whole
time: it re-reads the profile's date_formats when the file changes.

  * import: the good row is a lead, the rows with "05.03.2026 14:22" and "someday soon" are
    quarantined bad_date, the reason naming the profile's formats and where to add one;
  * replay before the fix: refused again, the row open again with a new time (the old
    behaviour, which the rest must change);
  * the format added to profiles/acme.yaml, both rows replayed: the European date is a lead
    with created_at 2026-03-05T14:22Z and its row stays replayed (not listed by
    `dlq list`); "someday soon" is refused again and open again with its reason, and is the
    only row `dlq list` shows. An activity and a sales outcome (feedback worker) with the
    same date format go the same way.

Run: HO_BIN=build/handoff /usr/bin/python3 tests/integration/test_dlq_date_replay.py
"""
import calendar
import json
import os
import re
import shutil
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import wait_for  # noqa: E402

PROFILE = """name: acme
description: a CRM export whose dates are European
kind: lead
source: acme_crm
encoding: utf-8
date_formats: [%s]
detect: [Email Address, Signup Date]
id_fields: []
columns:
  Email Address: email
  First: first_name
  Signup Date: created_at
"""
ACTIVITIES = """name: acme_activities
description: activities of the same CRM
kind: activity
encoding: utf-8
date_formats: [%s]
detect: [Contact, Happened]
id_fields: []
columns:
  Contact: email
  What: activity_type
  Happened: activity_date
"""
FEEDBACK = """name: acme_feedback
description: the reps' outcome log of the same CRM
kind: feedback
encoding: utf-8
date_formats: [%s]
detect: [feedback_id, lead_email, outcome]
id_fields: [feedback_id]
columns:
  feedback_id: feedback_id
  lead_email: email
  outcome: outcome
  reason: reason
  occurred_at: occurred_at
"""
ISO = '"%Y-%m-%d %H:%M"'
EURO = '"%d.%m.%Y %H:%M"'


def ms(text):
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M")) * 1000


class DlqDateReplay(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ho-dlq-date-")
        self.p = harness.Pipeline(self.dir, "ipc", interval=0.05)
        self.p.write_config("routes:\n  lead.raw: ingest\n  activity.raw: ingest\n"
                            "  lead.normalized: store\n  activity.normalized: store\n"
                            "  feedback.raw: feedback\n  lead.outcome: store\n"
                            "  quarantine: store\n")
        os.mkdir(os.path.join(self.dir, "profiles"))
        self.profile(ISO)
        self.csv = os.path.join(self.dir, "acme.csv")
        with open(self.csv, "w") as f:
            f.write("Email Address,First,Signup Date\n"
                    "good@acme-dates.example,Good,2026-03-01 08:00\n"
                    "euro@acme-dates.example,Euro,05.03.2026 14:22\n"
                    "never@acme-dates.example,Never,someday soon\n")
        self.acts = os.path.join(self.dir, "acme_activities.csv")
        with open(self.acts, "w") as f:
            f.write("Contact,What,Happened\ngood@acme-dates.example,page_view,06.03.2026 09:30\n")
        self.outcomes = os.path.join(self.dir, "acme_feedback.csv")
        with open(self.outcomes, "w") as f:
            f.write("feedback_id,lead_email,outcome,reason,occurred_at\n"
                    "fb-1,later@acme-dates.example,accepted,,07.03.2026 11:15\n")

    def tearDown(self):
        self.p.close()
        bad = self.p.sanitizer_reports()
        shutil.rmtree(self.dir, ignore_errors=True)
        self.assertEqual(bad, [])

    def profile(self, formats):
        # a new file each time (rename): a reader never sees half of it
        for name, text in (("acme", PROFILE), ("acme_activities", ACTIVITIES),
                           ("acme_feedback", FEEDBACK)):
            tmp = os.path.join(self.dir, "profiles", ".%s.tmp" % name)
            with open(tmp, "w") as f:
                f.write(text % formats)
            os.rename(tmp, os.path.join(self.dir, "profiles", name + ".yaml"))

    def cli(self, *args):
        r = harness.run(list(args) + ["-c", self.p.config])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return r.stdout

    def row(self, line, file=None):
        """(id, code, field, reason, at, replayed_at) of the quarantine row of a CSV line"""
        return self.p.one("SELECT id, code, field, reason, at, replayed_at FROM quarantine"
                          " WHERE file = ? AND line = ?", (file or self.csv, line))

    def reopened(self, line, after, file=None):
        """wait until the row of `line` was refused again after `after` (ms) and is open"""
        def again():
            r = self.row(line, file)
            return r if r and r[5] is None and r[4] > after else None
        return wait_for("line %d refused again" % line, again)

    def test_replay_after_the_format_is_added(self):
        self.p.start("ingest", "store", "feedback")
        out = self.cli("import", "--source", "acme", self.csv)
        summary = harness.parse_summary(out)["acme.csv"]
        self.assertEqual((summary["read"], summary["accepted"], summary["quarantined"]), (3, 1, 2))
        self.assertEqual(summary["reasons"], {"bad_date": 2})
        wait_for("the good lead", lambda: self.p.one(
            "SELECT created_at FROM leads WHERE email = 'good@acme-dates.example'"))
        euro = wait_for("line 3 quarantined", lambda: self.row(3))
        never = wait_for("line 4 quarantined", lambda: self.row(4))
        self.assertEqual(euro[1:3], ("bad_date", "created_at"))
        self.assertIn('created_at "05.03.2026 14:22" is not a date', euro[3])
        self.assertIn('date_formats of profile acme ["%Y-%m-%d %H:%M"]', euro[3])
        self.assertIn("add its format to that profile's date_formats and replay", euro[3])
        listed = self.cli("dlq", "list")
        self.assertEqual(len(re.findall(r"code=bad_date field=created_at", listed)), 2, listed)

        # replayed as it is: refused again, open again
        out = self.cli("dlq", "replay", str(euro[0]))
        self.assertIn("replayed id=%d" % euro[0], out)
        euro = self.reopened(3, euro[4])
        self.assertIsNone(self.p.one("SELECT id FROM leads WHERE email = 'euro@acme-dates.example'"))

        # the operator adds the format; ingest is not restarted
        self.profile(ISO + ", " + EURO)
        out = self.cli("dlq", "replay", str(euro[0]), str(never[0]))
        self.assertIn("replayed id=%d" % euro[0], out)
        self.assertIn("replayed id=%d" % never[0], out)
        created = wait_for("the replayed lead", lambda: self.p.one(
            "SELECT created_at, first_name FROM leads WHERE email = 'euro@acme-dates.example'"))
        self.assertEqual(created, (ms("2026-03-05T14:22"), "Euro"))
        source = self.p.one("SELECT s.source, s.event_id FROM lead_sources s JOIN leads l ON"
                            " l.id = s.lead_id WHERE l.email = 'euro@acme-dates.example'")
        self.assertEqual(source[0], "acme_crm")
        never = self.reopened(4, never[4])
        self.assertEqual(never[1:3], ("bad_date", "created_at"))
        self.assertIn('"someday soon" is not a date', never[3])
        self.assertIn('"%Y-%m-%d %H:%M", "%d.%m.%Y %H:%M"', never[3])
        euro = self.row(3)
        self.assertIsNotNone(euro[5], "the replayed row is marked replayed")
        listed = self.cli("dlq", "list").splitlines()
        self.assertEqual(len(listed), 1, listed)
        self.assertIn("id=%d " % never[0], listed[0])
        self.assertIsNone(self.p.one("SELECT id FROM leads WHERE email = 'never@acme-dates.example'"))
        self.assertEqual(self.p.count("SELECT count(*) FROM quarantine"), 2)

        # an activity: same profile mechanism (the profile already lists the format now, so
        # first make it refuse: back to ISO only)
        self.profile(ISO)
        out = self.cli("import", "--source", "acme_activities", self.acts)
        self.assertEqual(harness.parse_summary(out)["acme_activities.csv"]["reasons"],
                         {"bad_date": 1})
        act = wait_for("the activity quarantined", lambda: self.row(2, self.acts))
        self.assertEqual(act[1:3], ("bad_date", "activity_date"))
        self.profile(ISO + ", " + EURO)
        self.cli("dlq", "replay", str(act[0]))
        when = wait_for("the replayed activity", lambda: self.p.one(
            "SELECT occurred_at FROM activities WHERE type = 'page_view'"))
        self.assertEqual(when, (ms("2026-03-06T09:30"),))
        self.assertIsNotNone(self.row(2, self.acts)[5])

        # a sales outcome: the feedback worker reads dates the same way (its profile lists
        # ISO only again, so the outcome is refused first)
        self.profile(ISO)
        out = self.cli("import", "--source", "acme_feedback", self.outcomes)
        self.assertEqual(harness.parse_summary(out)["acme_feedback.csv"]["reasons"],
                         {"bad_date": 1})
        fb = wait_for("the outcome quarantined", lambda: self.row(2, self.outcomes))
        self.assertEqual(fb[1:3], ("bad_date", "fields.occurred_at"))
        self.assertIn("date_formats of profile acme_feedback", fb[3])
        self.profile(ISO + ", " + EURO)
        self.cli("dlq", "replay", str(fb[0]))
        # nobody of that address yet: the store keeps the outcome until the lead shows up
        body = wait_for("the replayed outcome", lambda: self.p.one(
            "SELECT body FROM pending_outcomes WHERE email = 'later@acme-dates.example'"))
        outcome = json.loads(body[0])["payload"]
        self.assertEqual((outcome["feedback_id"], outcome["outcome"], outcome["occurred_at"]),
                         ("fb-1", "accepted", ms("2026-03-07T11:15")))
        self.assertIsNotNone(self.row(2, self.outcomes)[5])


if __name__ == "__main__":
    unittest.main()
