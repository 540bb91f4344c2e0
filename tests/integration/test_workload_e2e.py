#!/usr/bin/python3
"""Issue 12 end to end: a generated corpus through `handoff run`, every count checked against
the independent verifier (tests/workload/verify.py), in the database and in the workbook.

One real pipeline: `handoff demo-data --people 1500` writes the corpus (HubSpot, Salesforce,
Marketo, form webhooks, three activity extracts, a dozen reps' feedback, reps.csv); the
verifier reads it with Python's csv/json and the contract's email policy and says what a
correct import must count. `handoff run` (broker + every worker, real processes, ipc) runs
with the deploy/ config, the generated reps.csv and routing `team: territory`; every file is
imported with its own `handoff import` (an activity extract first, before its people: files
arrive in any order), a tick 8 days after NOW lets the feedback grace period pass, then
`handoff report --week 2026-W47`.

The scoring model's MQL rule is made unreachable (min_score 100000) for this test only: then
"marketing never made it MQL" is a fact of the files (the CRM stage), which the verifier can
know without re-implementing the model. Everything else is the shipped config.

Compared, each a test of its own, so a failure names the count that differs:
- per file: the import's own line (read/accepted/skipped/quarantined/new/merged, per reason,
  check=ok) and the `imports` row; `import_results` (new, merged, matched, unmatched,
  recorded, pending, before_lead_created, flagged);
- people, each person's created_at, leads per created week (cohorts);
- outcomes per type, flags per code, lost and rejected reasons per ISO week, SALs per week;
- unmatched activities, distinct activities, pending feedback, before_lead_created;
- the workbook: Summary (Leads, SALs, Rejected, Lost of this and last week), Lost reasons
  (12-week totals and this week per code), Data quality (per file);
- the same database and week give a byte-identical workbook;
- the store's roll-up (lead_facts, schema 8), kept as the pipeline applied each event, equals
  what the history says (recomputed here from the definitions), and the workbook read through
  it has the same cells as the one computed from the raw history (the same file with the
  roll-up dropped), for the report week and an older one.

Run: HO_BIN=build/handoff /usr/bin/python3 tests/integration/test_workload_e2e.py
"""
import atexit
import calendar
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest

import openpyxl

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "workload"))
import harness  # noqa: E402
import verify  # noqa: E402

HO_BIN = os.environ.get("HO_BIN", os.path.join(os.getcwd(), "handoff"))
NOW = "2026-11-23T00:00:00Z"
WEEK_MS = 7 * 86400000
GRACE_MS = 7 * 86400000  # store.yaml feedback_grace (default 7d)
REPORT_WEEK = "2026-W47"
PEOPLE, ACTIVITIES, FEEDBACK, SEED = 1500, 12000, 400, 12


def ms(text):
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ")) * 1000


def prepare_config(src, dst, reps):
    """deploy/ copied, reps.csv from the corpus, routing by territory, MQL out of reach."""
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("demo", "test", "*.sh"))
    shutil.copy(reps, os.path.join(dst, "reps.csv"))
    path = os.path.join(dst, "routing.yaml")
    with open(path) as f:
        text = f.read()
    head, rest = text.split("\nrules:\n", 1)
    tail = rest[rest.index("\nsla:"):] if "\nsla:" in rest else ""
    with open(path, "w") as f:
        f.write(head + "\nrules:\n  - name: territory\n    team: territory\n" + tail)
    path = os.path.join(dst, "scoring.yaml")
    with open(path) as f:
        text = f.read()
    text = re.sub(r"\nmql:\n(  .*\n)+", "\nmql:\n  min_score: 100000\n", text)
    with open(path, "w") as f:
        f.write(text)
    return os.path.join(dst, "handoff.yaml")


def wait_idle(endpoint, deadline=300):
    """Until the broker has nothing queued or in flight and its counters stand still for
    three polls in a row."""
    end = time.time() + deadline
    last, quiet = None, 0
    while time.time() < end:
        r = subprocess.run([HO_BIN, "status", "--connect", endpoint, "--json"],
                           capture_output=True, text=True, timeout=30)
        if r.returncode == 0:
            st = json.loads(r.stdout)
            busy = any(s.get("queued", 0) or s.get("in_flight", 0)
                       for s in st.get("services", []))
            c = st.get("counters", {})
            seen = (c.get("replies"), c.get("routed"))
            quiet = quiet + 1 if not busy and seen == last else 0
            last = seen
            if quiet >= 3:
                return
        time.sleep(0.2)
    raise AssertionError("pipeline not idle after %d s" % deadline)


IMPORT_LINE = re.compile(r"^import file=(\S+) (.*)$")
KV = re.compile(r"(\w+)=(\S+)")


def parse_import(stdout):
    """{basename: {key: value, 'skip': {reason: n}, 'quarantine': {reason: n}}}"""
    out = {}
    for line in stdout.splitlines():
        m = IMPORT_LINE.match(line)
        if m:
            d = dict(KV.findall(m.group(2)))
            d["skip"], d["quarantine"] = {}, {}
            out[os.path.basename(m.group(1))] = d
            continue
        m = re.match(r"^(skip|quarantine) file=(\S+) reason=(\S+) count=(\d+)$", line)
        if m and os.path.basename(m.group(2)) in out:
            out[os.path.basename(m.group(2))][m.group(1)][m.group(3)] = int(m.group(4))
    return out


def send_tick(endpoint, now_ms):
    import zmq
    ctx = zmq.Context()
    try:
        c = harness.MdpClient(ctx, endpoint)
        c.send("store", harness.packb(harness.envelope("tick", {"now": now_ms},
                                                       "e2e-tick-%d" % now_ms, now_ms)))
        c.recv(60)
        c.close()
    finally:
        ctx.destroy(linger=0)


class Corpus:
    """The one pipeline run all tests of this file look at (built once)."""
    built = None

    @classmethod
    def get(cls):
        if cls.built is None:
            cls.built = cls()
        return cls.built

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="ho-workload-")
        if not os.environ.get("HO_KEEP"):
            atexit.register(shutil.rmtree, self.dir, True)
        src = os.environ.get("HO_SOURCE_DIR", harness.source_dir())
        self.corpus = os.path.join(self.dir, "corpus")
        subprocess.run([HO_BIN, "demo-data", "--people", str(PEOPLE), "--activities",
                        str(ACTIVITIES), "--feedback", str(FEEDBACK), "--seed", str(SEED),
                        "--now", NOW, "--out", self.corpus], check=True, capture_output=True,
                       timeout=120)
        self.expect = verify.verify(self.corpus, None,
                                    os.path.join(src, "deploy", "reasons.yaml"),
                                    ms(NOW) + GRACE_MS + 86400000, GRACE_MS)
        self.config = prepare_config(os.path.join(src, "deploy"), os.path.join(self.dir, "cfg"),
                                     os.path.join(self.corpus, "sales_reps", "reps.csv"))
        self.data = os.path.join(self.dir, "data")
        self.endpoint = "ipc://%s/broker.ipc" % self.dir
        self.log = open(os.path.join(self.dir, "run.log"), "w+")
        self.run = subprocess.Popen([HO_BIN, "run", "-c", self.config, "--data-dir", self.data,
                                     "--endpoint", self.endpoint, "--tick", "0"],
                                    stdout=self.log, stderr=subprocess.STDOUT, cwd=self.dir)
        self.imports = {}
        self.import_rc = {}
        self.import_out = ""
        try:
            harness.wait_for("run ready", self.ready, 60)
            self.import_all()
            send_tick(self.endpoint, ms(NOW) + GRACE_MS + 86400000)
            wait_idle(self.endpoint)
        finally:
            self.stop()
        self.db = sqlite3.connect("file:%s/handoff.db?mode=ro" % self.data, uri=True)
        self.wb_path = os.path.join(self.dir, "w1.xlsx")
        self.report_out = self.report(self.wb_path)
        self.wb = openpyxl.load_workbook(self.wb_path, data_only=True)

    def ready(self):
        if self.run.poll() is not None:
            self.log.seek(0)
            raise AssertionError("handoff run exited: " + self.log.read()[-3000:])
        self.log.seek(0)
        return "run ready" in self.log.read()

    def import_all(self):
        help_text = subprocess.run([HO_BIN, "import", "--help"], capture_output=True,
                                   text=True).stdout
        for name in self.expect["order"]:
            args = [HO_BIN, "import", "--connect", self.endpoint, "-c", self.config]
            if name.endswith(".jsonl"):
                args += ["--source", "webhooks"]
            if "--now" in help_text:
                args += ["--now", NOW]
            r = subprocess.run(args + [os.path.join(self.corpus, name)], capture_output=True,
                               text=True, timeout=300)
            self.import_out += "$ %s\n%s%s" % (" ".join(args[1:]), r.stdout, r.stderr[-2000:])
            self.imports.update(parse_import(r.stdout))
            self.import_rc[name] = r.returncode
            wait_idle(self.endpoint)

    def stop(self):
        if self.run.poll() is None:
            self.run.terminate()
            try:
                self.run.wait(60)
            except subprocess.TimeoutExpired:
                self.run.kill()
                self.run.wait()
        self.log.seek(0)
        self.run_log = self.log.read()

    def report(self, out):
        r = subprocess.run([HO_BIN, "report", "--week", REPORT_WEEK, "-c", self.config,
                            "--data-dir", self.data, "-o", out, "--quiet"],
                           capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise AssertionError("report failed: " + r.stdout + r.stderr)
        return r.stdout

    def q(self, sql, *args):
        return self.db.execute(sql, args).fetchall()


def week_of(ms_):
    return verify.iso_week(ms_)


def weeks_back(week, n):
    """The n ISO weeks ending with `week`, oldest first."""
    y, w = int(week[:4]), int(week[6:])
    import datetime
    monday = datetime.date.fromisocalendar(y, w, 1)
    out = []
    for k in range(n - 1, -1, -1):
        d = monday - datetime.timedelta(weeks=k)
        iy, iw, _ = d.isocalendar()
        out.append("%04d-W%02d" % (iy, iw))
    return out


def sheet_rows(ws):
    return [r for r in ws.iter_rows(values_only=True) if any(v is not None for v in r)]


def block_at(rows, i):
    """Rows (dicts keyed by the header row rows[i]) until a blank row or Total."""
    out = []
    for r in rows[i + 1:]:
        if not r or r[0] is None or r[0] == "Total":
            break
        out.append(dict(zip(rows[i], r)))
    return out


def block(ws, first):
    """Rows (dicts) of the block whose header row starts with `first`, until a blank/Total."""
    rows = list(ws.iter_rows(values_only=True))
    for i, row in enumerate(rows):
        if row and row[0] == first:
            return block_at(rows, i)
    raise AssertionError("%s: no block headed %r" % (ws.title, first))


class WorkloadCounts(unittest.TestCase):
    """(a) the database."""

    @classmethod
    def setUpClass(cls):
        cls.c = Corpus.get()
        cls.e = cls.c.expect

    def ctx(self):
        return "\n(import output:\n%s)" % self.c.import_out[-4000:]

    def imports_row(self, name):
        rows = self.c.q("SELECT import_id, source, kind, read, accepted, skipped_json, "
                        "quarantined_json FROM imports WHERE file = ?", name)
        self.assertEqual(len(rows), 1, "imports rows for %s: %r" % (name, rows))
        return rows[0]

    def test_pipeline_stopped_cleanly(self):
        self.assertEqual(self.c.run.returncode, 0, self.c.run_log[-3000:])
        self.assertNotIn(harness.SANITIZER, self.c.run_log, self.c.run_log[-3000:])

    def test_corpus_has_every_quirk(self):
        e, f = self.e, self.e["files"]
        self.assertGreaterEqual(e["people_in_several_sources"] * 3, e["people"])
        q = {}
        for d in f.values():
            for k, n in d["quarantined"].items():
                q[k] = q.get(k, 0) + n
        for reason in ("bad_column_count", "bad_utf8", "missing_email", "bad_email", "bad_date",
                       "bad_json", "unknown_activity_type", "missing_date"):
            self.assertGreater(q.get(reason, 0), 0, reason)
        for skip in ("test_lead", "duplicate_delivery", "notification_only"):
            self.assertGreater(f["form_webhooks.jsonl"]["skipped"].get(skip, 0), 0, skip)
        self.assertGreater(e["unmatched_activities"], 0)
        self.assertGreater(e["activities_resent"], 0)
        self.assertGreater(e["pending_feedback"], 0)
        self.assertGreater(e["before_lead_created"], 0)
        self.assertGreater(e["flags"].get("reason_outside_taxonomy", 0), 0)
        self.assertGreater(e["flags"].get("out_of_order", 0), 0)

    def test_import_lines_add_up_and_match(self):
        for name, exp in self.e["files"].items():
            got = self.c.imports.get(name)
            self.assertIsNotNone(got, "no import line for %s%s" % (name, self.ctx()))
            with self.subTest(file=name):
                self.assertEqual(got.get("check"), "ok", name)
                want = {"read": exp["read"], "accepted": exp["accepted"],
                        "skipped": sum(exp["skipped"].values()),
                        "quarantined": sum(exp["quarantined"].values())}
                if exp["kind"] == "lead":
                    want.update(new=exp.get("new", 0), merged=exp.get("merged", 0))
                self.assertEqual({k: got.get(k) for k in want},
                                 {k: str(v) for k, v in want.items()}, name)
                self.assertEqual(got["skip"], exp["skipped"], name)
                self.assertEqual(got["quarantine"], exp["quarantined"], name)
                self.assertEqual((self.c.import_rc[name], got.get("not_stored", "0")), (0, "0"),
                                 "%s: exit status, records the store never applied" % name)

    def test_imports_table(self):
        for name, exp in self.e["files"].items():
            with self.subTest(file=name):
                _id, _src, kind, read, acc, skipped, quarantined = self.imports_row(name)
                self.assertEqual((kind, read, acc), (exp["kind"], exp["read"], exp["accepted"]))
                self.assertEqual(json.loads(skipped or "{}"), exp["skipped"])
                self.assertEqual(json.loads(quarantined or "{}"), exp["quarantined"])

    def test_import_results(self):
        keys = {"lead": ("new", "merged"), "activity": ("matched", "unmatched"),
                "feedback": ("recorded", "pending", "unknown_lead", "before_lead_created",
                             "flagged")}
        for name, exp in self.e["files"].items():
            with self.subTest(file=name):
                import_id = self.imports_row(name)[0]
                got = dict(self.c.q("SELECT result, n FROM import_results WHERE import_id = ?",
                                    import_id))
                want = {k: exp.get(k, 0) for k in keys[exp["kind"]]}
                self.assertEqual({k: got.get(k, 0) for k in want}, want)

    def test_people(self):
        self.assertEqual(self.c.q("SELECT count(*) FROM leads")[0][0], self.e["people"])
        got = dict(self.c.q("SELECT email, created_at FROM leads"))
        want = self.e["created_at"]
        self.assertEqual(sorted(set(got) ^ set(want))[:20], [], "people differ")
        diff = sorted((k, got[k], want[k]) for k in want if got.get(k) != want[k])
        self.assertEqual(diff[:20], [], "%d leads with another created_at" % len(diff))

    def test_cohorts(self):
        got = {}
        for (at,) in self.c.q("SELECT created_at FROM leads"):
            wk = week_of(at)
            got[wk] = got.get(wk, 0) + 1
        self.assertEqual(got, self.e["cohorts"]["total"])

    def test_outcomes_per_type(self):
        got = dict(self.c.q("SELECT outcome, count(*) FROM outcomes WHERE implied = 0 "
                            "GROUP BY outcome"))
        self.assertEqual(got, self.e["outcomes"])

    def test_flags_per_code(self):
        got = {}
        for (flags,) in self.c.q("SELECT flags FROM outcomes WHERE implied = 0 "
                                 "AND flags IS NOT NULL AND flags != ''"):
            for fl in flags.split(","):
                got[fl] = got.get(fl, 0) + 1
        self.assertEqual(got, self.e["flags"])

    def test_reasons_per_week(self):
        got = {}
        for o, reason, at in self.c.q("SELECT outcome, reason, occurred_at FROM outcomes "
                                      "WHERE implied = 0 AND outcome IN ('lost', 'rejected')"):
            wk = got.setdefault(week_of(at), {}).setdefault(o, {})
            wk[reason] = wk.get(reason, 0) + 1
        self.assertEqual(got, self.e["reasons_by_week"])

    def test_sals_per_week(self):
        # an accepted outcome, recorded or implied: an outcomes row (implied 0 or 1) or the
        # SAL step sales' history wrote (stage_history actor sales, implied or not)
        got = {}
        for (at,) in self.c.q("SELECT min(at) FROM ("
                              " SELECT lead_id, occurred_at AS at FROM outcomes"
                              " WHERE outcome = 'accepted' UNION ALL"
                              " SELECT lead_id, at FROM stage_history"
                              " WHERE to_stage = 'SAL' AND actor = 'sales') GROUP BY lead_id"):
            got[week_of(at)] = got.get(week_of(at), 0) + 1
        self.assertEqual(got, self.e["sal_by_week"])

    def test_activities(self):
        self.assertEqual(self.c.q("SELECT count(*) FROM unmatched_activities")[0][0],
                         self.e["unmatched_activities"])
        self.assertEqual(self.c.q("SELECT count(*) FROM activities")[0][0],
                         self.e["activities_distinct"] - self.e["unmatched_activities"])

    def test_feedback_waiting_and_refused(self):
        self.assertEqual(self.c.q("SELECT count(*) FROM pending_outcomes")[0][0],
                         self.e["pending_feedback"])
        self.assertEqual(self.c.q("SELECT count(*) FROM quarantine "
                                  "WHERE code = 'before_lead_created'")[0][0],
                         self.e["before_lead_created"])


class WorkloadWorkbook(unittest.TestCase):
    """(b) the workbook cells, read back with openpyxl."""

    @classmethod
    def setUpClass(cls):
        cls.c = Corpus.get()
        cls.e = cls.c.expect
        cls.weeks = weeks_back(REPORT_WEEK, 12)

    def summary(self):
        return {r[0]: r for r in sheet_rows(self.c.wb["Summary"]) if r[0]}

    def reason_total(self, week, outcome):
        return sum(self.e["reasons_by_week"].get(week, {}).get(outcome, {}).values())

    def test_summary_rows(self):
        s = self.summary()
        this, last = REPORT_WEEK, self.weeks[-2]
        want = {"Leads": (self.e["cohorts"]["total"].get(this, 0),
                          self.e["cohorts"]["total"].get(last, 0)),
                "SALs": (self.e["sal_by_week"].get(this, 0), self.e["sal_by_week"].get(last, 0)),
                "Rejected": (self.reason_total(this, "rejected"),
                             self.reason_total(last, "rejected")),
                "Lost": (self.reason_total(this, "lost"), self.reason_total(last, "lost")),
                "Outcomes on leads marketing never qualified": (
                    self.e["without_mql_by_week"].get(this, 0),
                    self.e["without_mql_by_week"].get(last, 0))}
        for metric, (w_this, w_last) in want.items():
            with self.subTest(metric=metric):
                self.assertIn(metric, s)
                self.assertEqual((s[metric][1], s[metric][2]), (w_this, w_last))

    def test_lost_reasons(self):
        want = {}
        for wk in self.weeks:
            for o, reasons in self.e["reasons_by_week"].get(wk, {}).items():
                for code, n in reasons.items():
                    d = want.setdefault(code, {"rejected": 0, "lost": 0, "this": 0})
                    d[o] += n
                    if wk == REPORT_WEEK:
                        d["this"] += n
        got = {r["Code"]: {"rejected": r["Rejected (SAL)"], "lost": r["Lost (after SQL)"],
                           "this": r["This week"]}
               for r in block(self.c.wb["Lost reasons"], "Code") if r["Total"]}
        self.assertEqual(got, want)

    def dq_block(self, title):
        rows = list(self.c.wb["Data quality"].iter_rows(values_only=True))
        for i, row in enumerate(rows):
            if row and row[0] == title:
                return block_at(rows, i + 1)
        raise AssertionError("Data quality: no block %r" % title)

    def expected_by_source(self, kind, results):
        want = {}
        for exp in self.e["files"].values():
            if exp["kind"] != kind:
                continue
            d = want.setdefault(exp["source"], {"Files": 0, "Rows read": 0, "Skipped": 0,
                                                "Quarantined": 0, "Accepted": 0})
            d["Files"] += 1
            d["Rows read"] += exp["read"]
            d["Skipped"] += sum(exp["skipped"].values())
            d["Quarantined"] += sum(exp["quarantined"].values())
            d["Accepted"] += exp["accepted"]
            for head, key in results:
                d[head] = d.get(head, 0) + exp.get(key, 0)
        return want

    def test_data_quality_per_source(self):
        self.assertIn("Data quality", self.c.wb.sheetnames)
        kinds = {
            "lead": ("Lead files (CRM exports, form submissions)",
                     [("New people", "new"), ("Merged into a known person", "merged")]),
            "activity": ("Activity files", [("Matched to a lead", "matched"),
                                            ("Unmatched (kept, no lead yet)", "unmatched")]),
            "feedback": ("Sales feedback files",
                         [("Outcomes recorded", "recorded"),
                          ("Waiting for the lead (pending)", "pending"),
                          ("Lead unknown after grace", "unknown_lead"),
                          ("Dated before the lead existed", "before_lead_created"),
                          ("Recorded with a flag", "flagged")]),
        }
        for kind, (title, results) in kinds.items():
            with self.subTest(kind=kind):
                want = self.expected_by_source(kind, results)
                got = {r["Source"]: {k: r.get(k) for k in want[next(iter(want))]}
                       for r in self.dq_block(title)}
                self.assertEqual(got, want)

    def test_data_quality_reasons(self):
        want = {}
        for exp in self.e["files"].values():
            for what, label in (("skipped", "Skipped"), ("quarantined", "Quarantined")):
                for reason, n in exp[what].items():
                    k = (exp["source"], exp["kind"], label, reason)
                    want[k] = want.get(k, 0) + n
        got = {(r["Source"], r["Kind"], r["Skipped or quarantined"], r["Reason"]): r["Rows"]
               for r in self.dq_block("Skipped and quarantined rows by reason")}
        self.assertEqual(got, want)

    def test_data_quality_outcomes_of_the_week(self):
        title = "Sales outcomes recorded in %s, by feedback source" % REPORT_WEEK
        rows = {r["Source"]: r for r in self.dq_block(title)}
        by = self.e["outcomes_by_week"].get(REPORT_WEEK, {})
        heads = {"Accepted": "accepted", "Rejected": "rejected", "Sales qualified": "sql",
                 "Opportunity": "opportunity", "Won": "won", "Lost": "lost"}
        got = {h: rows.get("feedback", {}).get(h) for h in heads}
        got["never MQL"] = rows.get("feedback", {}).get("On leads marketing never qualified")
        want = {h: by.get(o, 0) for h, o in heads.items()}
        want["never MQL"] = self.e["without_mql_by_week"].get(REPORT_WEEK, 0)
        self.assertEqual(got, want)

    def test_workbook_is_byte_identical_for_the_same_database_and_week(self):
        again = os.path.join(self.c.dir, "w2.xlsx")
        self.c.report(again)
        with open(self.c.wb_path, "rb") as a, open(again, "rb") as b:
            self.assertEqual(a.read(), b.read())


# The roll-up as history defines it (docs/store-schema.md, version 8): per lead, the latest
# transition into each "at least" set, the first MQL entry, the latest score by (at, id).
FACTS_FROM_HISTORY = """
WITH t AS (SELECT * FROM stage_history WHERE kind = 'transition')
SELECT i.id, l.created_at, l.source_channel, l.original_source, l.original_campaign,
 (SELECT max(at) FROM t WHERE lead_id = i.id AND to_stage IN ('MQL','SAL','SQL','OPPORTUNITY','WON')),
 (SELECT max(at) FROM t WHERE lead_id = i.id AND to_stage IN ('SAL','SQL','OPPORTUNITY','WON')),
 (SELECT max(at) FROM t WHERE lead_id = i.id AND to_stage IN ('SQL','OPPORTUNITY','WON')),
 (SELECT max(at) FROM t WHERE lead_id = i.id AND to_stage IN ('OPPORTUNITY','WON')),
 (SELECT max(at) FROM t WHERE lead_id = i.id AND to_stage = 'WON'),
 (SELECT min(at) FROM t WHERE lead_id = i.id AND to_stage = 'MQL'),
 s.id, s.at, s.score, s.grade, s.quadrant, s.fit, s.interest
FROM (SELECT id FROM leads UNION SELECT lead_id FROM t
      WHERE to_stage IN ('MQL','SAL','SQL','OPPORTUNITY','WON') UNION SELECT lead_id FROM scores) i
LEFT JOIN leads l ON l.id = i.id
LEFT JOIN scores s ON s.id = (SELECT x.id FROM scores x WHERE x.lead_id = i.id
                              ORDER BY x.at DESC, x.id DESC LIMIT 1)
"""
FACTS_KEPT = """SELECT id, created_at, source_channel, original_source, original_campaign,
 reach_mql, reach_sal, reach_sql, reach_opp, reach_won, first_mql, score_id, score_at, score,
 grade, quadrant, fit, interest FROM lead_facts"""


def cells(path):
    wb = openpyxl.load_workbook(path)
    return {n: [list(r) for r in wb[n].iter_rows(values_only=True)] for n in wb.sheetnames}


class WorkloadRollups(unittest.TestCase):
    """(c) the roll-up the store keeps while it applies events, against the history."""

    @classmethod
    def setUpClass(cls):
        cls.c = Corpus.get()

    def test_rollup_equals_history(self):
        kept = set(self.c.q(FACTS_KEPT))
        hist = set(self.c.q(FACTS_FROM_HISTORY))
        self.assertEqual(len(kept), self.c.q("SELECT count(*) FROM lead_facts")[0][0])
        self.assertEqual(sorted(kept - hist)[:5], [])
        self.assertEqual(sorted(hist - kept)[:5], [])
        # not a vacuous comparison: the corpus moved leads through the funnel and scored them
        self.assertGreater(self.c.q("SELECT count(reach_sal) FROM lead_facts")[0][0], 0)
        self.assertGreater(self.c.q("SELECT count(reach_won) FROM lead_facts")[0][0], 0)
        self.assertGreater(self.c.q("SELECT count(score_id) FROM lead_facts")[0][0], 0)
        self.assertEqual(self.c.q("SELECT count(*) FROM lead_facts")[0][0],
                         self.c.q("SELECT count(*) FROM leads")[0][0])

    def test_workbook_same_from_raw_history(self):
        raw = os.path.join(self.c.dir, "raw.db")
        dst = sqlite3.connect(raw)
        self.c.db.backup(dst)
        names = [r[0] for r in dst.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'lead_facts_%'")]
        for n in names:
            dst.execute("DROP TRIGGER %s" % n)
        dst.execute("DROP TABLE lead_facts")
        dst.commit()
        dst.close()
        db = os.path.join(self.c.data, "handoff.db")
        for week, tz in ((REPORT_WEEK, "UTC"), (weeks_back(REPORT_WEEK, 4)[0], "America/New_York")):
            got = {}
            for name, path in (("rollup", db), ("raw", raw)):
                out = os.path.join(self.c.dir, "%s-%s.xlsx" % (name, week))
                r = subprocess.run([HO_BIN, "report", "--week", week, "--timezone", tz,
                                    "-c", self.c.config, "--db", path, "-o", out, "--quiet",
                                    "--now", NOW], capture_output=True, text=True, timeout=120)
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                got[name] = cells(out)
            self.assertEqual(list(got["rollup"]), list(got["raw"]))
            for sheet in got["raw"]:
                self.assertEqual(got["rollup"][sheet], got["raw"][sheet], (week, sheet))


if __name__ == "__main__":
    unittest.main()
