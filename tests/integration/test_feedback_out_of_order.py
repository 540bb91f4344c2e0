#!/usr/bin/python3
"""Sales' word is the record (issue 12), through real processes: `handoff broker` + the
ingest, store and feedback workers (no scorer: the leads stay at ML, marketing never made
them MQL), a leads CSV and a sales feedback log imported with `handoff import`, the store's
real SQLite file read back.

Two pipelines get the same rows: A one feedback file in time order, B every row as a file of
its own, newest first (arrival order reversed). Both must end with the same outcomes,
implied stages, flags, sales history and stages:
- every valid row is recorded whatever the lead's stage (no illegal_transition);
- won straight from ML implies SAL, SQL and OPPORTUNITY (implied rows);
- every outcome is flagged sales_accepted_without_mql (the leads never were MQLs);
- feedback for an unknown email waits (pending_outcomes);
- feedback dated before its lead was created is quarantined before_lead_created.

Run: HO_BIN=build/handoff /usr/bin/python3 tests/integration/test_feedback_out_of_order.py
"""
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

DEADLINE = 60.0
LEADS = ("email,first_name,last_name,title,company,employees,country,state,city,created_at\n"
         "ana@ooo.example,Ana,Test,VP Data,Ana Corp,500,US,NY,New York,2026-10-01T08:00:00Z\n"
         "ben@ooo.example,Ben,Test,CTO,Ben Corp,50,US,CA,Oakland,2026-10-01T08:00:00Z\n"
         "cy@ooo.example,Cy,Test,Analyst,Cy Corp,5,US,TX,Austin,2026-10-01T08:00:00Z\n")
# (feedback_id, email, outcome, reason, occurred_at), in time order
ROWS = [
    ("OOO-0", "ana@ooo.example", "accepted", "", "2026-09-30T09:00:00Z"),  # before the lead
    ("OOO-1", "ana@ooo.example", "accepted", "", "2026-10-02T09:00:00Z"),
    ("OOO-2", "cy@ooo.example", "accepted", "", "2026-10-02T10:00:00Z"),
    ("OOO-3", "ana@ooo.example", "sql", "", "2026-10-03T09:00:00Z"),
    ("OOO-4", "cy@ooo.example", "rejected", "timing", "2026-10-03T10:00:00Z"),
    ("OOO-5", "ben@ooo.example", "won", "", "2026-10-04T09:00:00Z"),
    ("OOO-6", "ana@ooo.example", "won", "", "2026-10-05T09:00:00Z"),
    ("OOO-7", "cy@ooo.example", "accepted", "", "2026-10-06T10:00:00Z"),
    ("OOO-8", "dee@ooo.example", "lost", "", "2026-10-06T11:00:00Z"),   # nobody sent dee
    ("OOO-9", "ana@ooo.example", "accepted", "", "2026-10-07T09:00:00Z"),  # after won
]
HEADER = "feedback_id,lead_email,rep_id,outcome,reason,occurred_at,notes,amount\n"
RECORDED = """SELECT l.email, o.outcome, o.implied, o.stage_reached, IFNULL(o.flags, '-'),
    IFNULL(o.reason, '-'), o.occurred_at, IFNULL(o.feedback_id, '-')
    FROM outcomes o JOIN leads l ON l.id = o.lead_id
    ORDER BY l.email, o.occurred_at, o.implied DESC, o.outcome, o.feedback_id"""
HISTORY = """SELECT l.email, h.from_stage, h.to_stage, h.actor, h.implied, h.at
    FROM stage_history h JOIN leads l ON l.id = h.lead_id WHERE h.kind = 'transition'
    ORDER BY l.email, h.at, h.implied DESC, h.to_stage"""


def wait_for(what, fn):
    return harness.wait_for(what, fn, DEADLINE, interval=0.2)


class OutOfOrder(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ho-ooo-")
        self.pipes = []

    def tearDown(self):
        for p in self.pipes:
            p.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def pipeline(self, tag):
        p = harness.Pipeline(self.dir, tag=tag, deadline=DEADLINE, interval=0.2)
        self.pipes.append(p)
        p.write_config(
            "routes:\n  lead.raw: ingest\n  activity.raw: ingest\n"
            "  lead.normalized: store\n  activity.normalized: store\n"
            "  score.request: score\n  lead.scored: store\n"
            "  feedback.raw: feedback\n  lead.outcome: store\n  quarantine: store\n")
        p.start("ingest", "store", "feedback")
        return p

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def do_import(self, p, path, source):
        r = p.run(["import", path, "--source", source, "-c", p.config])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def settled(self, p):
        """Wait until every row has landed: 8 outcomes recorded for the three leads, dee's
        waiting, ana's early one quarantined; then (outcomes, history, stages)."""
        wait_for("%s: rows recorded" % p.tag, lambda: (
            p.one("SELECT count(*) FROM outcomes WHERE implied = 0") == (8,) and
            p.one("SELECT count(*) FROM pending_outcomes") == (1,) and
            p.one("SELECT count(*) FROM quarantine WHERE code = 'before_lead_created'") == (1,)))
        return p.query(RECORDED), p.query(HISTORY), p.query(
            "SELECT email, stage FROM leads ORDER BY email")

    def test_any_arrival_order_same_rows(self):
        a, b = self.pipeline("a"), self.pipeline("b")
        leads = self.write("leads.csv", LEADS)
        for p in (a, b):
            self.do_import(p, leads, "csv")
            wait_for("%s: 3 leads" % p.tag, lambda p=p: p.one("SELECT count(*) FROM leads") == (3,))
        text = HEADER + "".join("%s,%s,R01,%s,%s,%s,,\n" % r for r in ROWS)
        self.do_import(a, self.write("feedback.csv", text), "feedback")
        for i, r in enumerate(reversed(ROWS)):
            self.do_import(b, self.write("fb-%d.csv" % i, HEADER + "%s,%s,R01,%s,%s,%s,,\n" % r),
                           "feedback")
        got_a, got_b = self.settled(a), self.settled(b)
        self.assertEqual(got_a, got_b)
        outcomes, history, stages = got_a

        self.assertEqual(stages, [("ana@ooo.example", "WON"), ("ben@ooo.example", "WON"),
                                  ("cy@ooo.example", "SAL")])
        self.assertEqual(a.query("SELECT count(*) FROM quarantine WHERE code = "
                                 "'illegal_transition'"), [(0,)])
        ben = [(o[1], o[2], o[3]) for o in outcomes if o[0] == "ben@ooo.example"]
        self.assertEqual(ben, [("accepted", 1, "ML"), ("opportunity", 1, "SQL"),
                               ("sql", 1, "SAL"), ("won", 0, "OPPORTUNITY")])
        recorded = [o for o in outcomes if o[2] == 0]
        self.assertTrue(all("sales_accepted_without_mql" in o[4] for o in recorded), recorded)
        ana_late = [o for o in outcomes if o[7] == "OOO-9"]
        self.assertEqual(ana_late[0][3:5], ("WON", "sales_accepted_without_mql,out_of_order"))
        cy = [(h[1], h[2], h[3], h[4]) for h in history if h[0] == "cy@ooo.example"]
        self.assertEqual(cy, [("ML", "SAL", "sales", 0), ("SAL", "RECYCLED", "sales", 0),
                              ("RECYCLED", "SAL", "sales", 0)])
        self.assertEqual(a.query("SELECT email, status FROM pending_outcomes"),
                         [("dee@ooo.example", "pending")])


if __name__ == "__main__":
    unittest.main(verbosity=2)
