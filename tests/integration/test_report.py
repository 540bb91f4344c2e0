#!/usr/bin/python3
"""The weekly workbook, end to end: a store database with known outcomes (schema made by the
store's own migration code), `handoff report`, and every sheet read back with openpyxl and
checked against an independent computation written from reports/README.md.

The expected numbers are computed here with Python's sqlite3 and zoneinfo over the same file;
none of them is copied from the C code.
"""
import datetime as dt
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import zipfile
from zoneinfo import ZoneInfo

import openpyxl

HO_BIN = os.environ.get("HO_BIN", "")
TZ = "Europe/Berlin"
WEEK = "2026-W47"
STAGES_FROM = {  # "reached S" = a transition into any of these (reports/README.md)
    "MQL": ("MQL", "SAL", "SQL", "OPPORTUNITY", "WON"),
    "SAL": ("SAL", "SQL", "OPPORTUNITY", "WON"),
    "SQL": ("SQL", "OPPORTUNITY", "WON"),
    "OPPORTUNITY": ("OPPORTUNITY", "WON"),
    "WON": ("WON",),
}
LABELS = {"budget": "No budget", "timing": "Not now", "competitor": "Chose a competitor",
          "unspecified": "No reason given"}
# display names: lifecycle.yaml (the built-in copy) and the fit x interest quadrants
STAGE_NAMES = {"ML": "Marketing lead", "MQL": "Marketing qualified", "SAL": "Sales accepted",
               "SQL": "Sales qualified", "OPPORTUNITY": "Opportunity", "WON": "Won",
               "LOST": "Lost", "RECYCLED": "Nurture", "DISQUALIFIED": "Disqualified"}
QUADRANT_NAMES = {"mql_now": "Good fit, high interest", "group_offering": "Low fit, high interest",
                  "nurture": "Good fit, low interest", "never": "Low fit, low interest"}
OWNERS = {"budget": "sales", "timing": "sales", "competitor": "sales",
          "unspecified": "sales"}  # reasons.yaml `owner`; not_a_fit is not in the file


def reasons_yaml():
    return "reasons:\n" + "".join('  %s:\n    label: "%s"\n    owner: %s\n' % (k, v, OWNERS[k])
                                  for k, v in LABELS.items())


def chan_label(code):
    """The store's channel code as shown: paid_search -> Paid search; (none) stays."""
    t = code.replace("_", " ")
    return t[:1].upper() + t[1:] if t[:1].islower() else t


HOUR = 3600 * 1000
DAY = 24 * HOUR


# ---------------------------------------------------------------- weeks (zoneinfo)
def week_bounds(label, tz=TZ):
    y, w = int(label[:4]), int(label[6:])
    z = ZoneInfo(tz)
    mon = dt.date.fromisocalendar(y, w, 1)
    start = dt.datetime(mon.year, mon.month, mon.day, tzinfo=z)
    nxt = mon + dt.timedelta(days=7)
    end = dt.datetime(nxt.year, nxt.month, nxt.day, tzinfo=z)
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)


def week_add(label, n):
    y, w = int(label[:4]), int(label[6:])
    d = dt.date.fromisocalendar(y, w, 1) + dt.timedelta(weeks=n)
    iy, iw, _ = d.isocalendar()
    return "%04d-W%02d" % (iy, iw)


# ---------------------------------------------------------------- the known database
def store_schema(db_path):
    """Create an empty store database with the store's own migrations (ho_store_open),
    through the fixture mode of the unit test program built next to handoff."""
    helper = os.path.join(os.path.dirname(HO_BIN), "test_report_store")
    out = subprocess.run([helper, "--make-db", db_path], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert "schema_version=" in out.stdout, out.stdout


class Builder:
    """Inserts rows the way the store records them: leads, transitions (+ note rows that
    must not count), scores, assignments, SLA breaches, outcomes."""

    def __init__(self, db_path):
        self.c = sqlite3.connect(db_path)
        self.ev = 0

    def eid(self, p):
        self.ev += 1
        return "%s-%06d" % (p, self.ev)

    def lead(self, i, created, source, campaign, **kw):
        cols = dict(email="lead%03d@example%d.com" % (i, i % 7), first_name="First%d" % i,
                    last_name="Last%d" % i, title=["CTO", "Data Engineer", "VP Ops", None][i % 4],
                    company="Company %d" % (i % 23), city=["Berlin", "Austin", None][i % 3],
                    state=[None, "TX", "BY"][i % 3], country=["DE", "US", "DE"][i % 3],
                    original_source=source, original_campaign=campaign,
                    source_channel=CHANNELS.get(source),
                    created_at=created, updated_at=created)
        cols.update(kw)
        keys = ",".join(cols)
        q = ",".join("?" * len(cols))
        cur = self.c.execute("INSERT INTO leads (%s) VALUES (%s)" % (keys, q), list(cols.values()))
        return cur.lastrowid

    def move(self, lead, frm, to, at, kind="transition", reason=None):
        self.c.execute("INSERT INTO stage_history (lead_id, from_stage, to_stage, at, actor,"
                       " reason, kind, event_id) VALUES (?,?,?,?,?,?,?,?)",
                       (lead, frm, to, at, "store", reason, kind, self.eid("h")))
        if kind == "transition":
            self.c.execute("UPDATE leads SET stage=? WHERE id=?", (to, lead))

    def score(self, lead, at, score, grade, quadrant, expl, mql):
        self.c.execute("INSERT INTO scores (lead_id, event_id, at, model_version, fit, interest,"
                       " score, grade, quadrant, mql, explanation_json) VALUES"
                       " (?,?,?,?,?,?,?,?,?,?,?)",
                       (lead, self.eid("s"), at, "v1", score // 2, score - score // 2, score,
                        grade, quadrant, 1 if mql else 0, json.dumps(expl) if expl else None))

    def assign(self, lead, rep, name, at, accepted_at=None, queue=None):
        cur = self.c.execute("INSERT INTO assignments (lead_id, event_id, rep_id, rep_name, queue,"
                             " rule, assigned_at, sla_due, accepted_at, status) VALUES"
                             " (?,?,?,?,?,?,?,?,?,?)",
                             (lead, self.eid("a"), rep, name, queue, "territory", at, at + 4 * HOUR,
                              accepted_at, "accepted" if accepted_at else "open"))
        return cur.lastrowid

    def breach(self, asg, lead, rep, step, at):
        self.c.execute("INSERT INTO sla_breaches (assignment_id, lead_id, rep_id, step, at)"
                       " VALUES (?,?,?,?,?)", (asg, lead, rep, step, at))

    def outcome(self, lead, rep, outcome, at, reason=None, amount=None):
        self.c.execute("INSERT INTO outcomes (lead_id, event_id, rep_id, outcome, reason,"
                       " occurred_at, amount) VALUES (?,?,?,?,?,?,?)",
                       (lead, self.eid("o"), rep, outcome, reason, at, amount))


REPS = [("r1", "Ana Alves"), ("r2", "Ben Brandt"), ("r3", "Chen Cho"), ("r4", "Dana Dorn")]
SOURCES = ["Paid Search", "Organic Search", "Email Marketing", "facebook", None, ""]
CAMPAIGNS = ["Q4 Launch", "Webinar Nov", None]
CHANNELS = {"Paid Search": "paid_search", "Organic Search": "organic_search",
            "Email Marketing": "email", "facebook": "paid_social"}  # as the store normalizes
REASONS = ["budget", "timing", "competitor", "not_a_fit", None, ""]


def build_db(db_path, seed=47, n=420):
    """Leads spread over 2026-W33..W48 (the report covers W36..W47; W48 data must be
    ignored), with every path through the lifecycle and the edge cases the definitions
    name: boundaries, re-MQL, note rows, reassignment, blank reasons, negative scores."""
    store_schema(db_path)
    rnd = random.Random(seed)
    rnd2 = random.Random(seed * 7 + 1)  # the re-scores after MQL (rnd's sequence unchanged)
    b = Builder(db_path)
    first, _ = week_bounds("2026-W33")
    _, last = week_bounds("2026-W48")
    w47a, w47b = week_bounds(WEEK)
    special = {0: w47a, 1: w47b, 2: w47a - 1, 3: w47b - 1}
    for i in range(n):
        created = special.get(i, rnd.randrange(first, last))
        src = SOURCES[rnd.randrange(len(SOURCES))]
        camp = CAMPAIGNS[rnd.randrange(len(CAMPAIGNS))]
        lid = b.lead(i, created, src, camp, erased=1 if i == 5 else 0)
        quadrant = rnd.choice(["mql_now", "group_offering", "nurture", "never", None])
        expl = [{"rule": "title_cxo", "kind": "fit", "points": rnd.randrange(0, 30),
                 "detail": "title is C-level"},
                {"rule": "pricing_visits", "kind": "interest", "points": rnd.randrange(0, 30),
                 "detail": ""},
                {"rule": "competitor_domain", "kind": "fit", "points": -10, "detail": "x"}]
        if rnd.random() < 0.15:  # tie: the first of the tied rules wins
            expl[1]["points"] = expl[0]["points"]
        qualifies = i in special or rnd.random() < 0.62
        t = created + rnd.randrange(0, 5 * DAY) if i not in special else created
        if not qualifies:
            if rnd.random() < 0.9:
                b.score(lid, created + HOUR, rnd.randrange(-15, 60), "C3", quadrant, expl, False)
            continue
        b.score(lid, t - HOUR, rnd.randrange(0, 40), "C3", quadrant, expl, False)
        b.score(lid, t, rnd.randrange(60, 130), "A1", quadrant or "mql_now", expl, True)
        if rnd.random() < 0.1:  # a later re-score after the report week ends: ignored
            b.score(lid, last + HOUR, 5, "D4", "never", [], False)
        b.move(lid, "ML", "MQL", t)
        if rnd.random() < 0.12:  # decays, comes back: two MQL entries
            t2 = t + rnd.randrange(HOUR, 9 * DAY)
            b.move(lid, "MQL", "RECYCLED", t2)
            t = t2 + rnd.randrange(HOUR, 5 * DAY)
            b.move(lid, "RECYCLED", "MQL", t)
        if rnd2.random() < 0.3:  # re-scored after the handoff: not the score that made the MQL
            b.score(lid, t + 2 * HOUR, rnd2.randrange(20, 130), "B2", quadrant or "nurture",
                    [{"rule": "post_mql_visit", "kind": "interest", "points": 25,
                      "detail": "pricing page after the handoff"},
                     {"rule": "title_cxo", "kind": "fit", "points": 29, "detail": "C-level"}],
                    False)
        rep, name = REPS[rnd.randrange(len(REPS))]
        if rnd.random() < 0.05:
            asg = b.assign(lid, None, None, t, queue="overflow")
            continue
        p = rnd.random()
        accepted = t + rnd.randrange(5 * 60 * 1000, 30 * HOUR) if p < 0.65 else None
        asg = b.assign(lid, rep, name if rnd.random() < 0.9 else "", t, accepted)
        b.move(lid, "MQL", "MQL", t + 1000, kind="assigned")  # a note: never counts
        if accepted is None or accepted > asg_due(t):
            if rnd.random() < 0.6:
                b.breach(asg, lid, rep, "remind", asg_due(t))
                if rnd.random() < 0.5:
                    b.breach(asg, lid, rep, "reassign", asg_due(t) + 4 * HOUR)
                    if accepted is None:
                        k = [r[0] for r in REPS].index(rep)
                        rep2, name2 = REPS[(k + 1) % len(REPS)]
                        b.assign(lid, rep2, name2, asg_due(t) + 4 * HOUR)
        if p >= 0.65:
            if p < 0.85:
                at = t + rnd.randrange(HOUR, 3 * DAY)
                b.outcome(lid, rep, "rejected", at, REASONS[rnd.randrange(len(REASONS))])
                b.move(lid, "MQL", rnd.choice(["RECYCLED", "DISQUALIFIED"]), at)
            continue
        b.outcome(lid, rep, "accepted", accepted)
        b.move(lid, "MQL", "SAL", accepted)
        at = accepted + rnd.randrange(HOUR, 6 * DAY)
        r = rnd.random()
        if r < 0.25:
            b.outcome(lid, rep, "lost", at, REASONS[rnd.randrange(len(REASONS))])
            b.move(lid, "SAL", "LOST", at)
            continue
        if r < 0.4:
            continue
        b.outcome(lid, rep, "sql", at)
        b.move(lid, "SAL", "SQL", at)
        stage = "SQL"
        if rnd.random() < 0.6:
            at += rnd.randrange(HOUR, 5 * DAY)
            b.outcome(lid, rep, "opportunity", at, amount=1000.0 * (lid % 7 + 1))
            b.move(lid, "SQL", "OPPORTUNITY", at)
            stage = "OPPORTUNITY"
        r = rnd.random()
        at += rnd.randrange(HOUR, 8 * DAY)
        if r < 0.45:
            b.outcome(lid, rep, "won", at, amount=rnd.choice([None, 12000.0, 48500.5, 9000.0]))
            b.move(lid, stage, "WON", at)
        elif r < 0.75:
            b.outcome(lid, rep, "lost", at, REASONS[rnd.randrange(len(REASONS))])
            b.move(lid, stage, "LOST", at)
    add_same_instant_leads(b, n)
    b.c.commit()
    b.c.close()


def add_same_instant_leads(b, n):
    """Stage histories whose entries share an instant or repeat (the report reads them in
    one pass in (lead, at, id) order, so order within an instant must not matter): an MQL
    entry at the same instant as the SAL entry it precedes but with a later id (0 days, and
    the later id is the latest stage); re-MQLs in one week (one cohort member, counted once)
    and across the 4-week window; a SAL before any MQL (no velocity, and not reached after
    the cohort entry); an MQL long before the 12 weeks; an entry at the week's end (ignored)."""
    w47a, w47b = week_bounds(WEEK)
    w45a, _ = week_bounds(week_add(WEEK, -2))
    old, _ = week_bounds(week_add(WEEK, -16))
    t, t4 = w47a + 2 * DAY, w45a + DAY
    lid = b.lead(n, w47a, "Paid Search", "Q4 Launch")
    b.move(lid, "ML", "SAL", t)
    b.move(lid, "ML", "MQL", t)
    lid = b.lead(n + 1, w45a, "Paid Search", "Q4 Launch")
    for at in (t4, t4 + HOUR, t, t + HOUR):
        b.move(lid, "RECYCLED", "MQL", at)
    b.move(lid, "MQL", "SAL", t + 2 * HOUR)
    b.move(lid, "SAL", "SQL", t + 3 * HOUR)
    b.move(lid, "SQL", "SAL", t + 3 * HOUR)
    lid = b.lead(n + 2, old, "Organic Search", None)
    b.move(lid, "ML", "MQL", old + HOUR)
    b.move(lid, "MQL", "SAL", t4)
    b.move(lid, "SAL", "SQL", t)
    lid = b.lead(n + 3, w47a, "Email Marketing", None)
    b.move(lid, "ML", "SAL", t)
    b.move(lid, "SAL", "MQL", t + 2 * HOUR)
    lid = b.lead(n + 4, w47a, "facebook", None)
    b.move(lid, "ML", "MQL", t)
    b.move(lid, "MQL", "SAL", w47b)
    b.move(lid, "SAL", "SQL", w47b)


def asg_due(t):
    return t + 4 * HOUR


# ---------------------------------------------------------------- expected numbers
class Expected:
    """reports/README.md, computed independently over the same database file."""

    def __init__(self, db_path, week=WEEK, tz=TZ):
        self.c = sqlite3.connect("file:%s?mode=ro" % db_path, uri=True)
        self.week = week
        self.weeks = [week_add(week, k) for k in range(-11, 1)]
        self.bounds = {w: week_bounds(w, tz) for w in self.weeks}
        self.as_of = self.bounds[week][1]
        self.a12 = self.bounds[self.weeks[0]][0]
        self.a4 = self.bounds[self.weeks[-4]][0]

    def q(self, sql, *args):
        return self.c.execute(sql, args).fetchall()

    def v(self, sql, *args):
        return self.c.execute(sql, args).fetchone()[0]

    def entered(self, stage, a, b):
        if stage == "SAL" and self.v("SELECT count(*) FROM pragma_table_info('outcomes')"
                                     " WHERE name IN ('implied', 'flags')") == 2:
            # CONTRACT-12: SAL in P = leads whose accepted outcome (recorded or implied)
            # occurred in P; an acceptance the derivation flagged out_of_order moved nothing
            return self.v("SELECT count(DISTINCT lead_id) FROM outcomes WHERE"
                          " outcome='accepted' AND occurred_at>=? AND occurred_at<? AND"
                          " instr(','||coalesce(flags,'')||',', ',out_of_order,')=0", a, b)
        return self.v("SELECT count(DISTINCT lead_id) FROM stage_history WHERE kind='transition'"
                      " AND to_stage=? AND at>=? AND at<?", stage, a, b)

    def reached_after(self, lead, stage, t):
        """Lead has a transition into the 'at least stage' set in [t, as_of)."""
        s = STAGES_FROM[stage]
        return self.v("SELECT count(*) FROM stage_history WHERE kind='transition' AND lead_id=?"
                      " AND to_stage IN (%s) AND at>=? AND at<?" % ",".join("?" * len(s)),
                      lead, *s, t, self.as_of) > 0

    def cohort(self, a, b):
        return self.q("SELECT lead_id, min(at) FROM stage_history WHERE kind='transition' AND"
                      " to_stage='MQL' AND at>=? AND at<? GROUP BY lead_id ORDER BY lead_id", a, b)

    def summary_period(self, a, b):
        d = {}
        d["Leads"] = self.v("SELECT count(*) FROM leads WHERE created_at>=? AND created_at<?", a, b)
        for name, st in (("MQLs", "MQL"), ("SALs", "SAL"), ("SQLs", "SQL"),
                         ("Opportunities", "OPPORTUNITY"), ("Won", "WON"),
                         ("Recycled", "RECYCLED")):
            d[name] = self.entered(st, a, b)
        d["Won amount (USD)"] = self.v("SELECT coalesce(sum(amount),0) FROM outcomes WHERE"
                                 " outcome='won' AND occurred_at>=? AND occurred_at<?", a, b)
        coh = self.cohort(a, b)
        d["MQL→SQL rate"] = (sum(self.reached_after(l, "SQL", e) for l, e in coh) / len(coh)
                             if coh else None)
        acc = self.v("SELECT count(*) FROM outcomes WHERE outcome='accepted' AND occurred_at>=?"
                     " AND occurred_at<?", a, b)
        rej = self.v("SELECT count(*) FROM outcomes WHERE outcome='rejected' AND occurred_at>=?"
                     " AND occurred_at<?", a, b)
        d["SAL acceptance rate"] = acc / (acc + rej) if acc + rej else None
        durs = [r[0] for r in self.q("SELECT accepted_at-assigned_at FROM assignments WHERE"
                                     " assigned_at>=? AND assigned_at<? AND accepted_at IS NOT"
                                     " NULL AND accepted_at<?", a, b, self.as_of)]
        d["Median assignment→acceptance (h)"] = statistics.median(durs) / HOUR if durs else None
        d["SLA breaches"] = self.v("SELECT count(DISTINCT assignment_id) FROM sla_breaches"
                                   " WHERE at>=? AND at<?", a, b)
        d["Rejected"] = rej
        d["Pipeline opened (USD)"] = self.v("SELECT coalesce(sum(amount),0) FROM outcomes WHERE"
                                            " outcome='opportunity' AND occurred_at>=? AND"
                                            " occurred_at<?", a, b)
        for to, frm in (("SAL", "MQL"), ("SQL", "SAL")):
            days = []
            for lid, at in self.q("SELECT lead_id, at FROM stage_history WHERE kind='transition'"
                                  " AND to_stage=? AND at>=? AND at<?", to, a, b):
                prev = self.v("SELECT max(at) FROM stage_history WHERE kind='transition' AND"
                              " lead_id=? AND to_stage=? AND at<=?", lid, frm, at)
                if prev is not None:
                    days.append((at - prev) / DAY)
            d["Median days %s\u2192%s" % (frm, to)] = statistics.median(days) if days else None
        d["Lost"] = self.v("SELECT count(*) FROM outcomes WHERE outcome='lost' AND occurred_at>=?"
                           " AND occurred_at<?", a, b)
        cols = [r[1] for r in self.q("PRAGMA table_info(outcomes)")]
        if "flags" in cols:  # issue 12: outcomes sales recorded on leads never MQL
            implied = " AND implied=0" if "implied" in cols else ""
            d["Outcomes on leads marketing never qualified"] = self.v(
                "SELECT count(*) FROM outcomes WHERE occurred_at>=? AND occurred_at<? AND"
                " ','||coalesce(flags,'')||',' LIKE '%,sales_accepted_without_mql,%'" + implied,
                a, b)
        return d

    def summary(self):
        per = {w: self.summary_period(*self.bounds[w]) for w in self.weeks[-4:]}
        window = self.summary_period(self.a4, self.as_of)
        this, last = per[self.week], per[self.weeks[-2]]
        out = {}
        for k in this:
            if k.endswith("rate") or k.startswith("Median"):
                delta = (this[k] - last[k]) if this[k] is not None and last[k] is not None else None
                out[k] = (this[k], last[k], delta, window[k])
            else:
                out[k] = (this[k], last[k], this[k] - last[k],
                          sum(per[w][k] for w in self.weeks[-4:]) / 4)
        return out

    def funnel(self):
        rows = []
        for w in self.weeks:
            coh = self.cohort(*self.bounds[w])
            n = [len(coh)] + [sum(self.reached_after(l, s, e) for l, e in coh)
                              for s in ("SAL", "SQL", "OPPORTUNITY", "WON")]
            rows.append((w, n))
        return rows

    def reached_ever(self, lead, stage):
        return self.reached_after(lead, stage, -(2 ** 62))

    def sources(self):
        """{(channel, source, campaign): [leads, mql, sql, won, amount]}"""
        groups = {}
        for lid, ch, src, camp in self.q("SELECT id, source_channel, original_source,"
                                         " original_campaign FROM leads WHERE created_at>=? AND"
                                         " created_at<?", self.a12, self.as_of):
            key = (ch or "(none)", src or "(none)", camp or "(none)")
            g = groups.setdefault(key, [0, 0, 0, 0, 0.0])
            g[0] += 1
            g[1] += self.reached_ever(lid, "MQL")
            g[2] += self.reached_ever(lid, "SQL")
            g[3] += self.reached_ever(lid, "WON")
            g[4] += self.v("SELECT coalesce(sum(amount),0) FROM outcomes WHERE lead_id=? AND"
                           " outcome='won' AND occurred_at<?", lid, self.as_of)
        return groups

    def reason_rows(self):
        return self.q("SELECT o.outcome, o.reason, o.rep_id, l.original_source, o.occurred_at,"
                      " l.source_channel FROM outcomes o JOIN leads l ON l.id=o.lead_id WHERE o.outcome IN"
                      " ('rejected','lost') AND o.occurred_at>=? AND o.occurred_at<?",
                      self.a12, self.as_of)

    def reasons(self):
        by = {}
        wa = self.bounds[self.week][0]
        for outcome, reason, _rep, _src, at, _ch in self.reason_rows():
            code = reason or "unspecified"
            g = by.setdefault(code, [0, 0, 0])
            g[0 if outcome == "rejected" else 1] += 1
            g[2] += at >= wa
        return sorted(by.items(), key=lambda kv: (-(kv[1][0] + kv[1][1]), kv[0]))

    def reason_matrix(self, which):
        """{(code, key): n} and the column keys: the 10 biggest (count desc, key), + Other."""
        cells, per_key = {}, {}
        for _outcome, reason, rep, _src, _at, channel in self.reason_rows():
            k = (rep if which == "rep" else channel) or "(none)"
            per_key[k] = per_key.get(k, 0) + 1
            cells[(reason or "unspecified", k)] = cells.get((reason or "unspecified", k), 0) + 1
        keys = sorted(per_key, key=lambda k: (-per_key[k], k))
        return cells, keys[:10], len(keys) > 10

    def reps(self):
        out = {}
        rows = self.q("SELECT id, lead_id, rep_id, rep_name, assigned_at, accepted_at FROM"
                      " assignments WHERE rep_id IS NOT NULL AND rep_id<>'' AND assigned_at>=?"
                      " AND assigned_at<?", self.a4, self.as_of)
        for aid, lid, rep, name, at, acc in rows:
            g = out.setdefault(rep, dict(names=set(), assigned=0, accepted=0, durs=[], sla=0,
                                         leads=set(), sql=set(), won=set()))
            if name:
                g["names"].add(name)
            g["assigned"] += 1
            if acc is not None and acc < self.as_of:
                g["accepted"] += 1
                g["durs"].append(acc - at)
            if self.v("SELECT count(*) FROM sla_breaches WHERE assignment_id=? AND at<?",
                      aid, self.as_of):
                g["sla"] += 1
            g["leads"].add(lid)
            if self.reached_after(lid, "SQL", at):
                g["sql"].add(lid)
            if self.reached_after(lid, "WON", at):
                g["won"].add(lid)
        return out

    def score_at_mql(self, lid):
        """The score that made the lead an MQL (latest at or before its first MQL entry),
        else (never MQL, or no score by then) its score as of as_of."""
        e = self.v("SELECT min(at) FROM stage_history WHERE kind='transition' AND"
                   " to_stage='MQL' AND lead_id=? AND at<?", lid, self.as_of)
        s = None
        if e is not None:
            s = self.c.execute("SELECT id, score, grade, quadrant, explanation_json FROM scores"
                               " WHERE lead_id=? AND at<=? ORDER BY at DESC, id DESC LIMIT 1",
                               (lid, e)).fetchone()
        return s or self.score_asof(lid)

    def score_asof(self, lid):
        return self.c.execute("SELECT id, score, grade, quadrant, explanation_json FROM scores"
                              " WHERE lead_id=? AND at<? ORDER BY at DESC, id DESC LIMIT 1",
                              (lid, self.as_of)).fetchone()

    def calibration(self):
        bands, quads = {}, {}
        for (lid,) in self.q("SELECT id FROM leads WHERE created_at>=? AND created_at<?",
                             self.a12, self.as_of):
            s = self.score_asof(lid)
            if s is None or s[1] is None:
                continue
            band = (s[1] // 10) * 10  # Python's // is floor division, also for negatives
            flags = [1, self.reached_ever(lid, "MQL"), self.reached_ever(lid, "SQL"),
                     self.reached_ever(lid, "WON")]
            for d, k in ((bands, band), (quads, s[3] or "(none)")):
                g = d.setdefault(k, [0, 0, 0, 0])
                for i in range(4):
                    g[i] += flags[i]
        order = {"mql_now": 0, "group_offering": 1, "nurture": 2, "never": 3}
        return (sorted(bands.items()),
                sorted(quads.items(), key=lambda kv: (order.get(kv[0], 4), kv[0])))

    def handoffs(self, tz=TZ):
        a, b = self.bounds[self.week]
        rows = []
        z = ZoneInfo(tz)
        for lid, e in sorted(self.cohort(a, b), key=lambda r: (r[1], r[0])):
            l = self.c.execute("SELECT first_name, last_name, email, company, title, city, state,"
                               " country, original_source, original_campaign FROM leads WHERE"
                               " id=?", (lid,)).fetchone()
            # the score that made it an MQL: the latest at or before its MQL entry
            s = self.c.execute("SELECT id, score, grade, quadrant, explanation_json FROM scores"
                               " WHERE lead_id=? AND at<=? ORDER BY at DESC, id DESC LIMIT 1",
                               (lid, e)).fetchone()
            top = ""
            if s and s[4]:
                best = None
                for item in json.loads(s[4]):
                    if isinstance(item.get("points"), int) and (best is None or
                                                                item["points"] > best["points"]):
                        best = item
                if best:
                    top = "%s (%+d)" % (best["rule"], best["points"])
                    if best.get("detail"):
                        top += ": " + best["detail"]
            asg = self.c.execute("SELECT rep_id, rep_name, queue, assigned_at FROM assignments"
                                 " WHERE lead_id=? AND assigned_at<? ORDER BY assigned_at DESC,"
                                 " id DESC LIMIT 1", (lid, self.as_of)).fetchone()
            owner, assigned = "", None
            if asg:
                owner = asg[1] or asg[0] or ("queue " + asg[2] if asg[2] else "")
                assigned = dt.datetime.fromtimestamp(asg[3] // 1000, z).replace(tzinfo=None)
            status = self.v("SELECT to_stage FROM stage_history WHERE kind='transition' AND"
                            " lead_id=? AND at<? ORDER BY at DESC, id DESC LIMIT 1",
                            lid, self.as_of)
            rows.append([
                dt.datetime.fromtimestamp(e // 1000, z).replace(tzinfo=None),
                " ".join(x for x in (l[0], l[1]) if x), l[2] or "", l[3] or "", l[4] or "",
                ", ".join(x for x in (l[5], l[6], l[7]) if x), l[8] or "", l[9] or "",
                s[1] if s else None, (s[2] or "") if s else "",
                QUADRANT_NAMES.get(s[3], s[3] or "") if s else "",
                top, owner, assigned, STAGE_NAMES.get(status, status or "")])
        return rows


# ---------------------------------------------------------------- reading the workbook
def cell_text(v):
    return "" if v is None else v


def rows_until(ws, start, stop_text=None):
    out = []
    r = start
    while True:
        a = ws.cell(r, 1).value
        if a is None or a == stop_text:
            return out, r
        out.append([ws.cell(r, c).value for c in range(1, ws.max_column + 1)])
        r += 1


def find_row(ws, text, col=1):
    for r in range(1, ws.max_row + 1):
        if ws.cell(r, col).value == text:
            return r
    raise AssertionError("%s: no row %r" % (ws.title, text))


def close(a, b, what):
    if a is None or b is None:
        assert a is None and b is None, "%s: %r != %r" % (what, a, b)
        return
    assert abs(float(a) - float(b)) < 1e-9 * max(1.0, abs(float(b))), "%s: %r != %r" % (what, a, b)


def rate(n, d):
    return n / d if d else None


def run_report(db, out, *extra, week=WEEK, tz=TZ):
    cmd = [HO_BIN, "report", "--week", week, "-o", out, "--db", db, "--timezone", tz] + list(extra)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


def check_summary(wb, exp):
    ws = wb["Summary"]
    hdr = find_row(ws, "Metric")
    assert ws.cell(hdr, 2).value == WEEK and ws.cell(hdr, 3).value == week_add(WEEK, -1)
    assert ws.freeze_panes == "B%d" % (hdr + 1)
    s = exp.summary()
    assert len(s) == len([r for r in range(hdr + 1, ws.max_row + 1)
                          if ws.cell(r, 6).value and ws.cell(r, 2).data_type == "n"]), len(s)
    for metric, values in s.items():
        r = find_row(ws, metric)
        got = [ws.cell(r, c).value for c in range(2, 6)]
        for g, e, col in zip(got, values, ("this", "last", "delta", "4w")):
            close(g, e, "Summary %s %s" % (metric, col))
        fmt = ws.cell(r, 2).number_format
        if metric.endswith("rate"):
            assert fmt == "0.0%", (metric, fmt)
            assert ws.cell(r, 4).number_format.startswith("+0.0%"), metric
        elif metric in ("Leads", "MQLs", "SLA breaches"):
            assert fmt == "#,##0", (metric, fmt)
    # the data set is built so that the week has something in every row
    for metric in ("Leads", "MQLs", "SALs", "SQLs", "Won", "Pipeline opened (USD)",
                   "Median days MQL\u2192SAL", "Median days SAL\u2192SQL"):
        assert (s[metric][0] or 0) > 0 or (s[metric][1] or 0) > 0, metric
    return s


def check_funnel(wb, exp):
    ws = wb["Funnel"]
    hdr = find_row(ws, "MQL cohort")
    rows, _ = rows_until(ws, hdr + 1)
    fun = exp.funnel()
    assert [r[0] for r in rows] == [w for w, _ in fun]
    for r, (w, n) in zip(rows, fun):
        mon = dt.date.fromisocalendar(int(w[:4]), int(w[6:]), 1)
        assert r[1].date() == mon, (w, r[1])
        assert r[2:7] == n, (w, r[2:7], n)
        for k, (num, den) in enumerate([(n[1], n[0]), (n[2], n[1]), (n[3], n[2]), (n[4], n[3]),
                                        (n[2], n[0]), (n[4], n[0])]):
            close(r[7 + k], rate(num, den), "Funnel %s rate %d" % (w, k))
    assert ws.cell(hdr + 1, 8).number_format == "0.0%"
    # the 4 youngest cohorts (W-3..W) are marked immature, the older ones are not
    assert ws.cell(hdr, 14).value == "Maturity"
    assert [bool(r[13]) for r in rows] == [False] * 8 + [True] * 4, [r[13] for r in rows]
    assert sum(n[0] for _, n in fun) > 50
    assert len(ws._charts) == 1
    ch = ws._charts[0]
    assert len(ch.series) == 5
    return fun


def check_source_row(r, g, what):
    assert r[:4] == g[:4], (what, r, g)
    close(r[4], g[4], "Sources amount %s" % (what,))
    close(r[5], rate(g[1], g[0]), "lead->mql")
    close(r[6], rate(g[2], g[1]), "mql->sql")
    close(r[7], rate(g[3], g[2]), "sql->won")
    close(r[8], rate(g[3], g[0]), "lead->won")


def check_sources(wb, exp):
    ws = wb["Sources"]
    groups = exp.sources()
    chans = {}
    for (ch, _s, _c), g in groups.items():
        chans[ch] = [x + y for x, y in zip(chans.get(ch, [0, 0, 0, 0, 0.0]), g)]
    order = sorted(chans, key=lambda c: (-chans[c][0], c))
    assert len(order) >= 4, order
    # the roll-up by channel, biggest first, and its Total
    hdr = find_row(ws, "Channel")
    rows, total_row = rows_until(ws, hdr + 1, "Total")
    assert [r[0] for r in rows] == [chan_label(c) for c in order]
    for r, ch in zip(rows, order):
        check_source_row(r[3:12], chans[ch], ch)
    tot = [sum(chans[c][k] for c in order) for k in range(5)]
    assert [ws.cell(total_row, c).value for c in range(4, 8)] == tot[:4]
    # the chart: leads, MQL, SQL per channel
    assert len(ws._charts) == 1 and len(ws._charts[0].series) == 3
    # the drill-down: channel > source > campaign, a subtotal per channel, outlined
    t = find_row(ws, "Channel", col=1) + 1
    t = next(r for r in range(t, ws.max_row + 1) if ws.cell(r, 1).value == "Channel")
    assert [ws.cell(t, c).value for c in (2, 3, 4)] == ["Original source", "Campaign", "Leads"]
    r = t + 1
    for ch in order:
        details = sorted(((k, g) for k, g in groups.items() if k[0] == ch),
                         key=lambda kv: (-kv[1][0], kv[0][1], kv[0][2]))
        for (c, src, camp), g in details:
            row = [ws.cell(r, k).value for k in range(1, 13)]
            assert row[:3] == [chan_label(c), src, camp], (row, c, src, camp)
            check_source_row(row[3:], g, (c, src, camp))
            assert ws.row_dimensions[r].outline_level == 1, r
            r += 1
        assert ws.cell(r, 1).value == "%s total" % chan_label(ch), ws.cell(r, 1).value
        check_source_row([ws.cell(r, k).value for k in range(4, 13)], chans[ch], ch)
        assert not ws.row_dimensions[r].outline_level
        r += 1
    assert ws.cell(r, 1).value == "Total"
    assert [ws.cell(r, c).value for c in range(4, 8)] == tot[:4]
    assert ws.column_dimensions["B"].width >= 20


def check_reasons(wb, exp):
    ws = wb["Lost reasons"]
    hdr = find_row(ws, "Code")
    rows, total_row = rows_until(ws, hdr + 1, "Total")
    rs = exp.reasons()
    grand = sum(g[0] + g[1] for _, g in rs)
    assert grand > 10
    cum = 0
    assert len(rows) == len(rs)
    for r, (code, g) in zip(rows, rs):
        cum += g[0] + g[1]
        assert r[0] == code
        assert r[1] == LABELS.get(code, code), (code, r[1])
        assert r[2:6] == [g[0], g[1], g[0] + g[1], g[2]], (code, r[2:6], g)
        close(r[6], (g[0] + g[1]) / grand, "share")
        close(r[7], cum / grand, "cumulative")
    assert [ws.cell(total_row, c).value for c in range(3, 6)] == [
        sum(g[0] for _, g in rs), sum(g[1] for _, g in rs), grand]
    assert "unspecified" in [c for c, _ in rs]  # blank and NULL reasons are 'unspecified'
    assert ws.cell(hdr + 1, 8).number_format == "0.0%"
    # reasons.yaml owner of each code, and the marketing/sales split below the Total
    owners = OWNERS
    assert ws.cell(hdr, 9).value == "Owner of the fix"
    for r in rows:
        assert r[8] == owners.get(r[0], "(not in reasons.yaml)"), r
    split = {}
    for code, g in rs:
        o = owners.get(code, "?")
        split[o] = split.get(o, 0) + g[0] + g[1]
    for label, key in (("Marketing's to fix", "marketing"), ("Sales' to fix", "sales"),
                       ("Owner unknown", "?")):
        r = find_row(ws, label, col=2)
        assert ws.cell(r, 5).value == split.get(key, 0), (label, split)
    # reason x channel and reason x rep: heat-mapped matrices, rows in the Pareto's order
    for title, which in (("Reason \u00d7 channel (rejected + lost, 12 weeks)", "channel"),
                         ("Reason \u00d7 rep (rejected + lost, 12 weeks)", "rep")):
        t = find_row(ws, title)
        cells, keys, other = exp.reason_matrix(which)
        head = [ws.cell(t + 1, c).value for c in range(1, 4 + len(keys) + other)]
        shown = [chan_label(k) for k in keys] if which == "channel" else keys
        assert head == ["Code", "Reason"] + shown + (["Other"] if other else []) + ["Total"], head
        got, _ = rows_until(ws, t + 2)
        assert [g[0] for g in got] == [code for code, _ in rs]
        for g, (code, tot) in zip(got, rs):
            want = [cells.get((code, k), 0) for k in keys]
            assert g[2:2 + len(keys)] == want, (which, code, g, want)
            assert g[2 + len(keys) + other] == tot[0] + tot[1]  # row total = the Pareto's
        fmts = [cf for cf in ws.conditional_formatting
                if str(cf.sqref).startswith("C%d:" % (t + 2))]
        assert fmts and fmts[0].rules[0].type == "colorScale", ws.conditional_formatting
        assert len(keys) >= 3
    assert len(ws._charts) == 1


def check_pareto_xml(path):
    """The Pareto chart: bars + cumulative line on a secondary axis (0-100 %)."""
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        assert len(charts) == 5, charts
        xmls = [z.read(n).decode() for n in charts]
        pareto = [x for x in xmls if "Pareto" in x]
    assert len(pareto) == 1
    # the Summary's trend: the Funnel's MQL->SQL column (L) by cohort week (A), a line
    trend = [x for x in xmls if "by MQL cohort week" in x]
    assert len(trend) == 1 and "<c:lineChart>" in trend[0]
    assert "Funnel!$L$5:$L$16" in trend[0] and "Funnel!$A$5:$A$16" in trend[0], trend[0][:2000]
    for x in xmls:  # every chart: a title and both axes labelled; text categories
        assert x.count("<c:title>") >= 3, x[:300]
        assert "<c:cat><c:strRef>" in x and "<c:cat><c:numRef>" not in x
    x = pareto[0]
    assert x.count("<c:barChart>") == 1 and x.count("<c:lineChart>") == 1
    assert x.count("<c:valAx>") == 2 and '<c:crosses val="max"/>' in x
    assert '<c:max val="1"/>' in x and 'formatCode="0%"' in x
    bar = x[x.index("<c:barChart>"):x.index("</c:barChart>")]
    line = x[x.index("<c:lineChart>"):x.index("</c:lineChart>")]
    assert "$E$" in bar and "$H$" in line  # totals as bars, cumulative share as the line


def check_reps(wb, exp):
    ws = wb["Reps"]
    hdr = find_row(ws, "Rep")
    rows, _ = rows_until(ws, hdr + 1)
    reps = exp.reps()
    assert [r[0] for r in rows] == sorted(reps)
    assert len(rows) == len(REPS)
    for r in rows:
        g = reps[r[0]]
        assert r[1] == (max(g["names"]) if g["names"] else None), (r[1], g["names"])
        assert r[2:4] == [g["assigned"], g["accepted"]]
        close(r[4], rate(g["accepted"], g["assigned"]), "acceptance")
        close(r[5], statistics.median(g["durs"]) / HOUR if g["durs"] else None, "median")
        assert r[6] == g["sla"], (r[0], r[6], g["sla"])
        assert r[7:9] == [len(g["leads"]), len(g["sql"])]
        close(r[9], rate(len(g["sql"]), len(g["leads"])), "sql rate")
        assert r[10] == len(g["won"])
    assert sum(reps[k]["sla"] for k in reps) > 0
    assert ws.cell(hdr + 1, 6).number_format == "#,##0.0"
    assert ws.auto_filter.ref == "A%d:K%d" % (hdr, hdr + len(rows)), ws.auto_filter.ref


def check_print_setup(wb):
    """The Monday meeting prints it: landscape, the week in the page header, single-table
    sheets repeat their header row, every sheet fits one page wide."""
    repeat = {"Funnel": "$4:$4", "Reps": "$4:$4", "Handoffs": "$1:$1",
              "Definitions": "$4:$4", "Lost and rejected": "$4:$4"}
    for ws in wb.worksheets:
        assert ws.page_setup.orientation == "landscape", ws.title
        assert WEEK in ws.oddHeader.right.text, (ws.title, ws.oddHeader.right.text)
        assert "&P" in ws.oddFooter.right.text, ws.title
        assert ws.print_title_rows == repeat.get(ws.title), (ws.title, ws.print_title_rows)
        fit = bool(ws.sheet_properties.pageSetUpPr and ws.sheet_properties.pageSetUpPr.fitToPage)
        assert fit, ws.title  # every sheet prints one page wide
        if fit:
            assert ws.page_setup.fitToWidth in (1, None) and ws.page_setup.fitToHeight == 0, (
                ws.title, ws.page_setup.fitToWidth, ws.page_setup.fitToHeight)


def col_widths(ws):
    w = {}
    for dim in ws.column_dimensions.values():
        if dim.width:
            for c in range(dim.min or 1, (dim.max or dim.min or 1) + 1):
                w[c] = dim.width
    return w


def check_header_heights(wb):
    """Headers never overlap the first data row: a header row (blue fill) whose longest text
    cannot fit its column on one line has a row height of at least one line (15 pt) per
    line the text needs at that width (at least len/width lines, bold)."""
    checked = 0
    for ws in wb.worksheets:
        widths = col_widths(ws)
        for row in ws.iter_rows():
            heads = [c for c in row if c.value and c.fill and c.fill.fgColor
                     and c.fill.fgColor.rgb == "FFD9E1F2"]
            if not heads:
                continue
            need = max(-(-int(len(str(c.value)) * 1.1) // int(widths.get(c.column, 8.43)))
                       for c in heads)
            h = ws.row_dimensions[heads[0].row].height or 15
            assert h >= 15 * need - 1, (ws.title, heads[0].row, need, h,
                                        [c.value for c in heads])
            checked += need > 1
    assert checked >= 5, checked  # wrapped headers exist and were checked


def check_calibration(wb, exp):
    ws = wb["Calibration"]
    bands, quads = exp.calibration()
    assert any(b < 0 for b, _ in bands)  # negative scores fall in floor bands (-20..-11)
    for title, head, want, key in (("By score band", "Score band", bands,
                                    lambda b: "%d\u2013%d" % (b, b + 9)),
                                   ("By quadrant", "Quadrant", quads,
                                    lambda q: QUADRANT_NAMES.get(q, q))):
        t = find_row(ws, title)
        assert ws.cell(t + 1, 1).value == head
        got, _ = rows_until(ws, t + 2)
        assert len(got) == len(want), (title, [g[0] for g in got], want)
        for r, (k, g) in zip(got, want):
            assert r[0] == key(k), (r[0], k)
            assert r[1:5] == g, (k, r[1:5], g)
            close(r[5], rate(g[1], g[0]), "mql rate")
            close(r[6], rate(g[2], g[0]), "sql rate")
            close(r[7], rate(g[3], g[0]), "won rate")
            close(r[8], rate(g[2], g[1]), "mql->sql")
    # one blank row after the quadrant table, then the sentence that says how to read it
    t = find_row(ws, "By quadrant")
    note = ws.cell(t + 2 + len(quads) + 1, 1).value
    assert ws.cell(t + 2 + len(quads), 1).value is None
    assert note.startswith("How to read:") and "threshold is too high" in note, note
    assert len(ws._charts) == 1
    check_grid(ws, exp)


def check_grid(ws, exp, good_fit=40, high_interest=20):
    """The fit x interest grid: bands of half a threshold (fit rows best on top, interest
    columns), leads per cell, then SQL share per cell; "k of n" below 10 leads."""
    fs, is_ = good_fit // 2, high_interest // 2
    n, q = {}, {}
    for (lid,) in exp.q("SELECT id FROM leads WHERE created_at>=? AND created_at<?",
                        exp.a12, exp.as_of):
        s = exp.q("SELECT fit, interest FROM scores WHERE lead_id=? AND at<? ORDER BY at DESC,"
                  " id DESC LIMIT 1", lid, exp.as_of)
        if not s:
            continue
        f = min(max(s[0][0], 0) // fs, 4)
        i = min(max(s[0][1], 0) // is_, 4)
        n[(f, i)] = n.get((f, i), 0) + 1
        q[(f, i)] = q.get((f, i), 0) + exp.reached_ever(lid, "SQL")
    band = lambda k, st: "%d+" % (4 * st) if k == 4 else "%d\u2013%d" % (k * st, (k + 1) * st - 1)
    t = find_row(ws, "Leads: fit \u2193 interest \u2192")
    assert [ws.cell(t, c).value for c in range(2, 7)] == [band(i, is_) for i in range(5)]
    t2 = find_row(ws, "Reached SQL: fit \u2193 interest \u2192")
    for k, f in enumerate(range(4, -1, -1)):
        assert ws.cell(t + 1 + k, 1).value == band(f, fs)
        assert ws.cell(t2 + 1 + k, 1).value == band(f, fs)
        for i in range(5):
            cnt, sq = n.get((f, i), 0), q.get((f, i), 0)
            assert ws.cell(t + 1 + k, 2 + i).value == cnt, (f, i)
            got = ws.cell(t2 + 1 + k, 2 + i).value
            if cnt >= 10:
                close(got, sq / cnt, "grid %d/%d" % (f, i))
            elif cnt:
                assert got == "%d of %d" % (sq, cnt), (f, i, got)
            else:
                assert got is None
    assert sum(n.values()) > 100 and any(0 < v < 10 for v in n.values())
    assert any(v >= 10 for v in n.values())


def katz(a, n1, c, n2):
    """Relative risk of a/n1 against c/n2 and its 95 % interval (Katz log method)."""
    import math
    if min(n1, n2, a, c) <= 0:
        return None
    rr = (a / n1) / (c / n2)
    se = math.sqrt(1 / a - 1 / n1 + 1 / c - 1 / n2)
    return rr, math.exp(math.log(rr) - 1.959964 * se), math.exp(math.log(rr) + 1.959964 * se)


def check_learnings(wb, exp):
    """Per scoring rule and per channel/source/campaign: n, SAL/SQL rate, lift against the
    other leads, the SQL lift's 95 % interval and the verdict, recomputed here."""
    ws = wb["Learnings"]
    leads = exp.q("SELECT id, source_channel, original_source, original_campaign FROM leads"
                  " WHERE created_at>=? AND created_at<?", exp.a12, exp.as_of)
    info = {}
    for lid, ch, src, camp in leads:
        s = exp.score_at_mql(lid)
        rules = {}
        if s and s[4]:
            for item in json.loads(s[4]):
                if isinstance(item.get("points"), int) and item["points"] and \
                        isinstance(item.get("rule"), str):
                    rules[item["rule"]] = rules.get(item["rule"], 0) + item["points"]
        info[lid] = dict(scored=exp.score_asof(lid) is not None, rules=rules,
                         key=(chan_label(ch or "(none)"), src or "(none)", camp or "(none)"),
                         sal=exp.reached_ever(lid, "SAL"), sql=exp.reached_ever(lid, "SQL"))

    def lift_cells(group, pop):
        g = [len(group), sum(info[l]["sal"] for l in group), sum(info[l]["sql"] for l in group)]
        b = [len(pop), sum(info[l]["sal"] for l in pop), sum(info[l]["sql"] for l in pop)]
        sal = katz(g[1], g[0], b[1] - g[1], b[0] - g[0])
        sql = katz(g[2], g[0], b[2] - g[2], b[0] - g[0])
        return g, sal, sql

    def check_cells(r, g, sal, sql, what):
        assert r[3] == g[0], (what, r)
        close(r[4], rate(g[1], g[0]), "%s SAL rate" % (what,))
        close(r[5], sal[0] if sal else None, "%s SAL lift" % (what,))
        close(r[6], rate(g[2], g[0]), "%s SQL rate" % (what,))
        for k in range(3):
            close(r[7 + k], sql[k] if sql else None, "%s SQL lift %d" % (what, k))

    scored = [l for l in info if info[l]["scored"]]
    names = sorted({r for l in scored for r in info[l]["rules"]})
    hdr = find_row(ws, "Rule")
    rows, _ = rows_until(ws, hdr + 1)
    assert [r[0] for r in rows] == names, [r[0] for r in rows]
    # leads re-scored after their MQL (before as_of) count with the score that made them MQL:
    # the re-score's rule is nowhere, though it is the latest score of many leads
    rescored = [l for l in info if exp.score_asof(l) and
                "post_mql_visit" in (exp.score_asof(l)[4] or "")]
    assert len(rescored) >= 30 and "post_mql_visit" not in names, (len(rescored), names)
    verdicts = set()
    for r in rows:
        group = [l for l in scored if r[0] in info[l]["rules"]]
        g, sal, sql = lift_cells(group, scored)
        check_cells(r, g, sal, sql, r[0])
        pts = sum(info[l]["rules"][r[0]] for l in group) / len(group)
        close(r[2], pts, "points")
        if g[0] < 30:
            want = "too few leads to judge"
        elif not sql:
            want = "no comparison"
        elif pts > 0 and sql[2] < 1:
            want = "CONTRADICTED: adds points"
        elif pts < 0 and sql[1] > 1:
            want = "CONTRADICTED: takes points"
        elif pts < 0:
            want = "NOT SUPPORTED"
        elif sql[1] <= 1 <= sql[2]:
            want = "not shown"
        else:
            want = "supported"
        assert r[10].startswith(want), (r, want)
        verdicts.add(want)
    assert len(verdicts) >= 2, verdicts
    hdr = find_row(ws, "Channel")
    rows, _ = rows_until(ws, hdr + 1)
    keys = {}
    for l in info:
        keys.setdefault(info[l]["key"], []).append(l)
    assert len(rows) == len(keys)
    for r in rows:
        g, sal, sql = lift_cells(keys[tuple(r[:3])], list(info))
        check_cells(r, g, sal, sql, tuple(r[:3]))
    assert [r[3] for r in rows] == sorted((r[3] for r in rows), reverse=True)


def check_handoffs(wb, exp):
    ws = wb["Handoffs"]
    assert ws.freeze_panes == "A2"
    assert ws.cell(1, 1).value == "MQL at" and ws.cell(1, 15).value == "Status"
    want = exp.handoffs()
    assert len(want) > 5
    n = ws.max_row - 1
    assert n == len(want), (n, len(want))
    assert ws.auto_filter.ref == "A1:O%d" % (n + 1), ws.auto_filter.ref
    for i, w in enumerate(want):
        got = [ws.cell(i + 2, c).value for c in range(1, 16)]
        for k in (0, 13):
            if w[k] is None:
                assert got[k] is None
            else:
                assert abs((got[k] - w[k]).total_seconds()) < 0.01, (i, k, got[k], w[k])
        rest_g = [cell_text(x) for j, x in enumerate(got) if j not in (0, 13)]
        rest_w = [cell_text(x) for j, x in enumerate(w) if j not in (0, 13)]
        assert rest_g == rest_w, (i, rest_g, rest_w)
    assert ws.cell(2, 1).number_format == "yyyy-mm-dd hh:mm"
    assert any(r[11] for r in want) and any(r[12] for r in want)
    return want


def main():
    assert HO_BIN, "HO_BIN is not set"
    tmp = tempfile.mkdtemp(prefix="ho-report-")
    try:
        db = os.path.join(tmp, "handoff.db")
        build_db(db)
        conf = os.path.join(tmp, "conf")
        os.mkdir(conf)
        with open(os.path.join(conf, "handoff.yaml"), "w") as f:
            f.write("data_dir: %s\nworkers:\n  report:\n    timezone: %s\n" % (tmp, TZ))
        with open(os.path.join(conf, "reasons.yaml"), "w") as f:
            f.write(reasons_yaml())
        out = os.path.join(tmp, "w47.xlsx")
        res = run_report(db, out, "-c", os.path.join(conf, "handoff.yaml"))
        assert res.returncode == 0, res.stderr
        exp = Expected(db)
        leads = exp.summary()["Leads"][0]
        # threads=2: the lead scan, the assignment and SLA passes and the rule pass read by a
        # second connection beside the others (src/report/side.c)
        assert res.stdout.strip() == "report week=%s path=%s sheets=11 leads=%d threads=2" % (
            WEEK, out, leads), res.stdout
        for sheet in ("Summary", "Funnel", "Sources", "Lost reasons", "Lost and rejected", "Reps",
                      "Calibration", "Learnings", "Handoffs"):
            assert 'sheet="%s"' % sheet in res.stderr, res.stderr  # progress per sheet
        # each step is announced when it starts and when it is done, in order, the shared
        # tables (the longest step on a big store) first; then the sheets that need nothing of
        # the second connection's passes, then those that read them
        steps = [l.split("report: ", 1)[1] for l in res.stderr.splitlines() if "sheet=" in l]
        starts = [l for l in steps if l.endswith(" rows=0")]
        assert starts == ['sheet="%s" rows=0' % s for s in (
            "(shared tables)", "Funnel", "Lost reasons", "Lost and rejected", "Handoffs",
            "Data quality", "Definitions", "Summary", "Sources", "Reps", "Calibration",
            "Learnings")], steps
        assert steps[-1].startswith('sheet="Learnings" rows=') and steps[-1].endswith(" done")

        wb = openpyxl.load_workbook(out)
        assert wb.sheetnames == ["Summary", "Funnel", "Sources", "Lost reasons", "Lost and rejected", "Reps",
                                 "Calibration", "Learnings", "Handoffs", "Data quality", "Definitions"]
        check_summary(wb, exp)
        find_row(wb["Summary"], "(no import recorded yet)")  # freshness says so, not empty
        check_funnel(wb, exp)
        check_sources(wb, exp)
        check_reasons(wb, exp)
        check_pareto_xml(out)
        check_reps(wb, exp)
        check_calibration(wb, exp)
        check_handoffs(wb, exp)
        check_learnings(wb, exp)
        check_print_setup(wb)
        check_header_heights(wb)
        created = wb.properties.created
        assert created == dt.datetime.fromtimestamp(exp.as_of // 1000, dt.timezone.utc
                                                    ).replace(tzinfo=None), created

        # determinism: same database and week -> the same bytes
        out2 = os.path.join(tmp, "again.xlsx")
        res = run_report(db, out2, "-c", os.path.join(conf, "handoff.yaml"), "--quiet")
        assert res.returncode == 0, res.stderr
        assert res.stderr == ""
        with open(out, "rb") as f1, open(out2, "rb") as f2:
            assert f1.read() == f2.read(), "two runs differ"

        # read through one connection (--threads 1), or through two while a writer holds
        # the write lock past the pairing's wait (it falls back to one): the same bytes
        out1 = os.path.join(tmp, "one.xlsx")
        res = run_report(db, out1, "-c", os.path.join(conf, "handoff.yaml"), "-q",
                         "--threads", "1")
        assert res.returncode == 0, res.stderr
        assert res.stdout.strip().endswith(" threads=1"), res.stdout
        with open(out, "rb") as f1, open(out1, "rb") as f2:
            assert f1.read() == f2.read(), "one connection and two differ"
        writer = sqlite3.connect(db, isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")  # held (uncommitted) for the whole run
        writer.execute("INSERT INTO quarantine (event_id, code, at) VALUES ('held', 'x', 1)")
        try:
            locked = os.path.join(tmp, "locked.xlsx")
            res = run_report(db, locked, "-c", os.path.join(conf, "handoff.yaml"), "-q")
        finally:
            writer.execute("ROLLBACK")
            writer.close()
        assert res.returncode == 0, res.stderr
        assert res.stdout.strip().endswith(" threads=1"), res.stdout
        with open(out, "rb") as f1, open(locked, "rb") as f2:
            assert f1.read() == f2.read(), "the fallback to one connection differs"
        bad = run_report(db, os.path.join(tmp, "bad.xlsx"), "--threads", "3")
        assert bad.returncode == 2 and "--threads" in bad.stderr, bad.stderr

        # the default output path under the data dir, and the config's time zone
        res = subprocess.run([HO_BIN, "report", "--week", WEEK, "-c",
                              os.path.join(conf, "handoff.yaml"), "-q"],
                             capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, res.stderr
        default = os.path.join(tmp, "reports", "handoff-%s.xlsx" % WEEK)
        assert "path=%s " % default in res.stdout, res.stdout
        with open(out, "rb") as f1, open(default, "rb") as f2:
            assert f1.read() == f2.read(), "config time zone not used"

        # workers.report.dir and .db are where `handoff report` writes and reads, as for the
        # report worker: the database moved away from handoff.db, the workbook into another
        # folder (relative to data_dir; an absolute db path as is)
        moved = os.path.join(tmp, "moved")
        os.mkdir(moved)
        shutil.copy(db, os.path.join(moved, "store.db"))
        conf2 = os.path.join(conf, "paths.yaml")
        with open(conf2, "w") as f:
            f.write("data_dir: %s\nworkers:\n  report:\n    timezone: %s\n    dir: books\n"
                    "    db: %s\n" % (os.path.join(tmp, "elsewhere"), TZ,
                                      os.path.join(moved, "store.db")))
        res = subprocess.run([HO_BIN, "report", "--week", WEEK, "-c", conf2, "-q"],
                             capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, res.stderr
        book = os.path.join(tmp, "elsewhere", "books", "handoff-%s.xlsx" % WEEK)
        assert "path=%s " % book in res.stdout, res.stdout
        with open(out, "rb") as f1, open(book, "rb") as f2:
            assert f1.read() == f2.read(), "workers.report.db not read"

        # another zone moves the week boundaries, so the numbers change with them
        out3 = os.path.join(tmp, "ny.xlsx")
        res = run_report(db, out3, "-c", os.path.join(conf, "handoff.yaml"), tz="America/New_York")
        assert res.returncode == 0, res.stderr
        ny = Expected(db, tz="America/New_York")
        assert "leads=%d" % ny.summary()["Leads"][0] in res.stdout
        wb3 = openpyxl.load_workbook(out3)
        got = [wb3["Handoffs"].cell(r, 3).value for r in range(2, wb3["Handoffs"].max_row + 1)]
        assert got == [r[2] for r in ny.handoffs(tz="America/New_York")]

        # usage errors exit 2, failures exit 1, nothing written
        bad = run_report(db, os.path.join(tmp, "bad.xlsx"), week="2026-W54")
        assert bad.returncode == 2 and "--week" in bad.stderr, bad.stderr
        bad = run_report(db, os.path.join(tmp, "bad.xlsx"), week="2025-W53")
        assert bad.returncode == 2, bad.stderr  # 2025 has 52 ISO weeks
        bad = run_report(db, os.path.join(tmp, "bad.xlsx"), tz="Europe/Atlantis")
        assert bad.returncode == 2 and "Europe/Atlantis" in bad.stderr, bad.stderr
        bad = run_report(os.path.join(tmp, "missing.db"), os.path.join(tmp, "bad.xlsx"))
        assert bad.returncode == 1 and "missing.db" in bad.stderr, bad.stderr
        assert not os.path.exists(os.path.join(tmp, "bad.xlsx"))
        assert not os.path.exists(os.path.join(tmp, "missing.db"))
        h = subprocess.run([HO_BIN, "report", "--help"], capture_output=True, text=True,
                           timeout=30)
        assert h.returncode == 0 and "--week" in h.stdout
        print("test_report: ok (%d leads this week, %d MQLs, %d handoff rows)" % (
            leads, exp.summary()["MQLs"][0], len(exp.handoffs())))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
