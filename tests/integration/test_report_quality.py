#!/usr/bin/python3
"""The Data quality sheet and the counts that must add up across sheets (issue 12 item 6).

A store database with the known outcomes of test_report.py plus the issue-12 tables of
CONTRACT-12 section 2 (imports, import_results, outcomes.flags/implied/import_id: created
here exactly as the contract says when the store's migration does not have them yet), filled
with imports of every kind and source, skip and quarantine reasons, an import the store never
got a summary of, one whose summary does not add up, flagged and implied outcomes.

Checks, each against numbers recomputed here from the SQLite file with Python's sqlite3
(never copied from the C code):
- every Data quality table, row by row, and its Total row (a SUM formula with the right
  cached value) and Check column (an IF formula: "ok", and "MISMATCH" for the bad summary);
- totals that reconcile across sheets: Summary Rejected/Lost/never-qualified of the week =
  the Data quality week table's Total row; Summary Rejected + Lost = the Lost reasons sheet's
  "This week" total; skipped/quarantined by reason = the per-kind tables' columns; the
  Summary's freshness table = the imports table;
- determinism: same database + same --now -> byte-identical file, the created date is --now.
"""
import datetime as dt
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile

import openpyxl

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_report as tr  # noqa: E402  (the known-outcome database and helpers)

NOW = "2026-11-25T09:30:00Z"  # a Wednesday in W48: the default week is W47
NOMQL = "sales_accepted_without_mql"


def add_contract_schema(c):
    """CONTRACT-12 section 2, verbatim, for the parts this store does not have yet."""
    tables = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "imports" not in tables:
        c.execute("CREATE TABLE imports(import_id TEXT PRIMARY KEY, source TEXT, kind TEXT,"
                  " file TEXT, read INT, accepted INT, skipped_json TEXT, quarantined_json TEXT,"
                  " finished_at INT)")
    if "import_results" not in tables:
        c.execute("CREATE TABLE import_results(import_id TEXT, result TEXT, n INT,"
                  " PRIMARY KEY(import_id, result))")
    cols = {r[1] for r in c.execute("PRAGMA table_info(outcomes)")}
    if "flags" not in cols:
        c.execute("ALTER TABLE outcomes ADD COLUMN flags TEXT")
    if "implied" not in cols:
        c.execute("ALTER TABLE outcomes ADD COLUMN implied INTEGER NOT NULL DEFAULT 0")
    if "import_id" not in cols:
        c.execute("ALTER TABLE outcomes ADD COLUMN import_id TEXT")


def fill_imports(db, seed=12):
    """Imports of every kind; outcomes tied to the feedback imports, some flagged."""
    rnd = random.Random(seed)
    c = sqlite3.connect(db)
    add_contract_schema(c)
    w47a, w47b = tr.week_bounds(tr.WEEK)
    imports = []  # (id, source, kind, file, read, accepted, skipped, quarantined, finished)
    specs = [("hubspot", "lead", 3), ("salesforce", "lead", 1), ("linkedin", "lead", 2),
             ("hubspot", "activity", 2), ("mautic", "activity", 1), ("crm", "feedback", 2),
             ("sheet", "feedback", 1)]
    n = 0
    for source, kind, files in specs:
        for k in range(files):
            n += 1
            skipped = {}
            if kind == "lead" and source == "linkedin":
                skipped = {"test_lead": rnd.randrange(1, 5), "duplicate_delivery": rnd.randrange(1, 4)}
            quarantined = {}
            if rnd.random() < 0.7:
                quarantined["invalid_email"] = rnd.randrange(1, 9)
            if kind == "feedback":
                quarantined["before_lead_created"] = rnd.randrange(0, 3)
            accepted = rnd.randrange(20, 400)
            read = accepted + sum(skipped.values()) + sum(quarantined.values())
            finished = w47a + rnd.randrange(0, 9 * tr.DAY)  # some after the week: still listed
            imports.append(("imp-%016x" % rnd.getrandbits(64), source, kind,
                            "%s-%s-%d.csv" % (source, kind, k), read, accepted,
                            json.dumps(skipped) if skipped or k else None,
                            json.dumps(quarantined), finished))
    # a summary that does not add up (read one too many): the sheet must say MISMATCH
    bad = list(imports[1])
    bad[4] += 1
    imports[1] = tuple(bad)
    c.executemany("INSERT INTO imports VALUES (?,?,?,?,?,?,?,?,?)", imports)
    for imp in imports:
        iid, kind, acc = imp[0], imp[2], imp[5]
        if kind == "lead":
            new = rnd.randrange(0, acc + 1)
            res = {"new": new, "merged": acc - new}
        elif kind == "activity":
            m = rnd.randrange(0, acc + 1)
            res = {"matched": m, "unmatched": acc - m}
        else:
            p = rnd.randrange(0, 6)
            res = {"recorded": acc - p, "pending": p, "unknown_lead": rnd.randrange(0, p + 1),
                   "flagged": rnd.randrange(0, 9)}
        c.executemany("INSERT INTO import_results VALUES (?,?,?)",
                      [(iid, r, v) for r, v in res.items() if v])
    # records the store applied for an import it has no summary of
    c.execute("INSERT INTO import_results VALUES ('webhook-typeform-2026-11-18', 'new', 4)")
    c.execute("INSERT INTO import_results VALUES ('webhook-typeform-2026-11-18', 'merged', 1)")
    feedback = [imp[0] for imp in imports if imp[2] == "feedback"] + [None,
                                                                      "imp-nosummary00000001"]
    rows = c.execute("SELECT id FROM outcomes ORDER BY id").fetchall()
    for (oid,) in rows:
        flags = rnd.choice([None, None, None, NOMQL, "out_of_order", NOMQL + ",out_of_order",
                            "reason_outside_taxonomy"])
        c.execute("UPDATE outcomes SET import_id=?, flags=? WHERE id=?",
                  (rnd.choice(feedback), flags, oid))
    # implied stages of a jump: flagged too, but not what sales recorded, so never counted
    lead = c.execute("SELECT id FROM leads ORDER BY id LIMIT 1").fetchone()[0]
    for stage in ("accepted", "sql", "opportunity"):
        c.execute("INSERT INTO outcomes (lead_id, event_id, rep_id, outcome, occurred_at, flags,"
                  " implied, import_id) VALUES (?,?,?,?,?,?,1,?)",
                  (lead, "implied-" + stage, "r1", stage, w47a + 3 * tr.HOUR, NOMQL, feedback[0]))
    c.execute("INSERT INTO outcomes (lead_id, event_id, rep_id, outcome, occurred_at, flags,"
              " implied, import_id, amount) VALUES (?,?,?,?,?,?,0,?,?)",
              (lead, "jump-won", "r1", "won", w47a + 3 * tr.HOUR, NOMQL, feedback[0], 5000.0))
    c.execute("INSERT INTO pending_outcomes (event_id, email, body, received_at) VALUES"
              " ('p-1', 'nobody@example.com', '{}', ?)", (w47a,))
    if "status" in [r[1] for r in c.execute("PRAGMA table_info(pending_outcomes)")]:
        c.execute("INSERT INTO pending_outcomes (event_id, email, body, received_at, status)"
                  " VALUES ('p-2', 'ghost@example.com', '{}', ?, 'unknown_lead')", (w47a - 9 * tr.DAY,))
    c.commit()
    c.close()
    return imports


def make_old(db):
    """A store from before issue 12: no imports tables, no outcome flags/implied/import_id."""
    c = sqlite3.connect(db)
    c.execute("DROP TABLE IF EXISTS imports")
    c.execute("DROP TABLE IF EXISTS import_results")
    for idx, in c.execute("SELECT name FROM sqlite_master WHERE type='index' AND"
                          " tbl_name='outcomes' AND sql IS NOT NULL").fetchall():
        c.execute("DROP INDEX %s" % idx)
    cols = [r[1] for r in c.execute("PRAGMA table_info(outcomes)")]
    for col in ("flags", "implied", "import_id"):
        if col in cols:
            c.execute("ALTER TABLE outcomes DROP COLUMN %s" % col)
    c.commit()
    c.close()


class Expect:
    def __init__(self, db):
        self.c = sqlite3.connect(db)
        self.wa, self.wb = tr.week_bounds(tr.WEEK)

    def q(self, sql, *a):
        return self.c.execute(sql, a).fetchall()

    def imports(self):
        """(import_id -> source, kind, summary row or None), pseudo rows as the definitions say."""
        out = {}
        for iid, src, kind, _f, read, acc, sk, qu, fin in self.q("SELECT * FROM imports"):
            skd = json.loads(sk) if sk else {}
            qud = json.loads(qu) if qu else {}
            out[iid] = dict(source=src or "(none)", kind=kind or "", files=1, last=fin,
                            read=read or 0, acc=acc or 0, sk=sum(skd.values()),
                            qu=sum(qud.values()), skd=skd, qud=qud)
        res = {}
        for iid, r, n in self.q("SELECT import_id, result, n FROM import_results"):
            res.setdefault(iid, {})[r] = n
        for iid, rs in res.items():
            if iid not in out:
                kind = ("lead" if {"new", "merged"} & set(rs) else
                        "activity" if {"matched", "unmatched"} & set(rs) else "feedback")
                out[iid] = dict(source="(no import summary)", kind=kind, files=0, last=None,
                                read=0, acc=0, sk=0, qu=0, skd={}, qud={})
        for (iid,) in self.q("SELECT DISTINCT import_id FROM outcomes"):
            key = iid if iid is not None else ""
            if key not in out:
                out[key] = dict(source="(not imported)" if iid is None else "(no import summary)",
                                kind="feedback", files=0, last=None, read=0, acc=0, sk=0, qu=0,
                                skd={}, qud={})
        return out, res

    def kind_rows(self, kind, results, no_mql):
        imps, res = self.imports()
        by = {}
        for iid, d in imps.items():
            if d["kind"] != kind:
                continue
            g = by.setdefault(d["source"], dict(files=0, last=None, read=0, sk=0, qu=0, acc=0,
                                                res=[0] * len(results), nomql=0))
            g["files"] += d["files"]
            if d["last"] is not None:
                g["last"] = d["last"] if g["last"] is None else max(g["last"], d["last"])
            for k in ("read", "sk", "qu", "acc"):
                g[k] += d[k]
            for i, r in enumerate(results):
                g["res"][i] += res.get(iid, {}).get(r, 0)
            if no_mql:
                g["nomql"] += self.q(
                    "SELECT count(*) FROM outcomes WHERE coalesce(import_id,'')=? AND implied=0"
                    " AND ','||coalesce(flags,'')||',' LIKE ?", iid, "%," + NOMQL + ",%")[0][0]
        return sorted(by.items())

    def reason_rows(self):
        imps, _ = self.imports()
        agg = {}
        for d in imps.values():
            for disp, m in (("Skipped", d["skd"]), ("Quarantined", d["qud"])):
                for reason, v in m.items():
                    key = (d["source"], d["kind"], disp, reason)
                    agg[key] = agg.get(key, 0) + v
        # order: source, kind, Skipped before Quarantined, reason
        return sorted(agg.items(), key=lambda kv: (kv[0][0], kv[0][1],
                                                   kv[0][2] != "Skipped", kv[0][3]))

    def week_outcomes(self):
        imps, _ = self.imports()
        by = {}
        for oc, iid, flags in self.q("SELECT outcome, import_id, flags FROM outcomes WHERE"
                                     " occurred_at>=? AND occurred_at<? AND implied=0",
                                     self.wa, self.wb):
            d = imps.get(iid if iid is not None else "")
            src = d["source"] if d else "(not imported)"
            g = by.setdefault(src, [0] * 7)
            order = ["accepted", "rejected", "sql", "opportunity", "won", "lost"]
            if oc in order:
                g[order.index(oc)] += 1
            g[6] += NOMQL in (flags or "").split(",")
        return sorted(by.items())


def local(ms):
    z = tr.ZoneInfo(tr.TZ)
    return dt.datetime.fromtimestamp(ms / 1000, z).replace(tzinfo=None, microsecond=0)


def table_at(ws, title):
    """Header row and data rows (until Total) of the table under the bold title."""
    t = tr.find_row(ws, title)
    hdr = t + 1
    rows, total = tr.rows_until(ws, hdr + 1, "Total")
    return hdr, rows, total


KINDS = [("Lead files (CRM exports, form submissions)", "lead", ["new", "merged"], False),
         ("Activity files", "activity", ["matched", "unmatched"], False),
         ("Sales feedback files", "feedback",
          ["recorded", "pending", "unknown_lead", "before_lead_created", "flagged"], True)]


def check_quality(wb, wbf, exp):
    ws, wf = wb["Data quality"], wbf["Data quality"]
    sums = {"sk": 0, "qu": 0}
    for title, kind, results, no_mql in KINDS:
        hdr, rows, total = table_at(ws, title)
        want = exp.kind_rows(kind, results, no_mql)
        assert [r[0] for r in rows] == [s for s, _ in want], (kind, rows, want)
        assert ws.row_dimensions[hdr].height and ws.row_dimensions[hdr].height >= 30
        ncol = 7 + len(results) + (1 if no_mql else 0) + 1
        assert ws.cell(hdr, ncol).value == "Check"
        for r, (src, g) in zip(rows, want):
            exp_vals = [g["files"], local(g["last"]) if g["last"] else None, g["read"], g["sk"],
                        g["qu"], g["acc"]] + g["res"] + ([g["nomql"]] if no_mql else [])
            assert r[1:ncol - 1] == exp_vals, (kind, src, r, exp_vals)
            ok = g["read"] == g["sk"] + g["qu"] + g["acc"]
            assert r[ncol - 1] == ("ok" if ok else "MISMATCH"), (kind, src, r)
        for c in [2] + list(range(4, ncol)):
            want_tot = sum(r[c - 1] for r in rows)
            assert ws.cell(total, c).value == want_tot, (kind, c)
            assert wf.cell(total, c).value.startswith("=SUM("), wf.cell(total, c).value
        f = wf.cell(hdr + 1, ncol).value
        assert f == '=IF(D%d=E%d+F%d+G%d,"ok","MISMATCH")' % ((hdr + 1,) * 4), f
        sums["sk"] += ws.cell(total, 5).value
        sums["qu"] += ws.cell(total, 6).value
        if kind == "lead":
            # the planted bad summary is caught, in its row and in the total
            assert "MISMATCH" in [r[ncol - 1] for r in rows]
            assert ws.cell(total, ncol).value == "MISMATCH"
            assert "(no import summary)" in [r[0] for r in rows]
        if kind == "feedback":
            assert "(not imported)" in [r[0] for r in rows]
            assert ws.cell(total, ncol - 1).value > 0  # outcomes on never-qualified leads
    # skipped and quarantined by reason add up to the per-kind tables' columns
    hdr, rows, total = table_at(ws, "Skipped and quarantined rows by reason")
    want = exp.reason_rows()
    assert [tuple(r[:4]) for r in rows] == [k for k, _ in want], (rows, want)
    assert [r[4] for r in rows] == [v for _, v in want]
    assert sum(r[4] for r in rows if r[2] == "Skipped") == sums["sk"]
    assert sum(r[4] for r in rows if r[2] == "Quarantined") == sums["qu"]
    assert ws.cell(total, 5).value == sums["sk"] + sums["qu"]
    # the week's outcomes by feedback source
    hdr, rows, total = table_at(ws, "Sales outcomes recorded in %s, by feedback source" % tr.WEEK)
    want = exp.week_outcomes()
    assert [r[0] for r in rows] == [s for s, _ in want]
    for r, (src, g) in zip(rows, want):
        assert r[1:8] == g, (src, r, g)
    totals = [ws.cell(total, c).value for c in range(2, 9)]
    assert totals == [sum(g[i] for _, g in want) for i in range(7)]
    r = tr.find_row(ws, "Feedback rows waiting for their lead now")
    assert ws.cell(r, 4).value == exp.q("SELECT count(*) FROM pending_outcomes")[0][0] == 2
    assert ws.cell(r + 1, 1).value == "of which past the grace period (unknown lead)"
    assert ws.cell(r + 1, 4).value == exp.q("SELECT count(*) FROM pending_outcomes WHERE"
                                            " status='unknown_lead'")[0][0] == 1
    return dict(zip(["accepted", "rejected", "sql", "opp", "won", "lost", "nomql"], totals))


def check_reconcile(wb, exp, week_tot):
    s = wb["Summary"]
    this = {s.cell(r, 1).value: s.cell(r, 2).value for r in range(1, s.max_row + 1)}
    assert this["Rejected"] == week_tot["rejected"] > 0
    assert this["Lost"] == week_tot["lost"]
    assert this["Outcomes on leads marketing never qualified"] == week_tot["nomql"] > 0
    lr = wb["Lost reasons"]
    hdr = tr.find_row(lr, "Code")
    _, total = tr.rows_until(lr, hdr + 1, "Total")
    assert lr.cell(total, 6).value == this["Rejected"] + this["Lost"]
    # the drill-down: one row per rejected/lost outcome of the week, = the two counts above
    dd = wb["Lost and rejected"]
    assert dd.cell(4, 1).value == "Recorded at" and dd.cell(4, 13).value == "Flags"
    rows, _ = tr.rows_until(dd, 5)
    want = exp.q("SELECT o.occurred_at, o.outcome, coalesce(nullif(o.reason,''),'unspecified'),"
                 " l.email, coalesce(nullif(l.source_channel,''),'(none)'), o.rep_id, o.flags"
                 " FROM outcomes o JOIN leads l ON l.id=o.lead_id WHERE o.outcome IN"
                 " ('rejected','lost') AND o.occurred_at>=? AND o.occurred_at<?"
                 " ORDER BY o.occurred_at, o.id", exp.wa, exp.wb)
    assert len(rows) == len(want) == this["Rejected"] + this["Lost"]
    words = {"sales_accepted_without_mql": "never MQL", "out_of_order": "out of order",
             "reason_outside_taxonomy": "reason not in the list"}
    for r, (at, oc, code, email, ch, rep, flags) in zip(rows, want):
        assert r[0] == local(at), (r[0], at)
        assert r[1] == oc.capitalize() and r[2] == tr.LABELS.get(code, code), (r, oc, code)
        assert r[3] == tr.OWNERS.get(code, "(unknown)"), r
        assert (r[5], r[7], r[10]) == (email, tr.chan_label(ch), rep or "(none)"), r
        assert (r[12] or "") == "; ".join(words[f] for f in (flags or "").split(",") if f), r
    # the freshness table: last import per (source, kind) as in the imports table
    r = tr.find_row(s, "Data freshness: last import per source") + 1
    assert [s.cell(r, c).value for c in range(1, 6)] == ["Source", "Kind", "Files", "Rows read",
                                                         "Last import"]
    got = []
    r += 1
    while s.cell(r, 1).value:
        got.append(tuple(s.cell(r, c).value for c in range(1, 6)))
        r += 1
    want = [(src, kind, n, read, local(last)) for src, kind, last, n, read in exp.q(
        "SELECT source, kind, max(finished_at), count(*), sum(read) FROM imports"
        " GROUP BY 1, 2 ORDER BY 1, 2")]
    assert got == want, (got, want)


def main():
    assert tr.HO_BIN, "HO_BIN is not set"
    tmp = tempfile.mkdtemp(prefix="ho-report-dq-")
    try:
        db = os.path.join(tmp, "handoff.db")
        tr.build_db(db)
        fill_imports(db)
        conf = os.path.join(tmp, "conf")
        os.mkdir(conf)
        with open(os.path.join(conf, "handoff.yaml"), "w") as f:
            f.write("data_dir: %s\n" % tmp)
        with open(os.path.join(conf, "reasons.yaml"), "w") as f:
            f.write(tr.reasons_yaml())
        out = os.path.join(tmp, "w47.xlsx")
        cmd = [tr.HO_BIN, "report", "-o", out, "--db", db, "--timezone", tr.TZ,
               "-c", os.path.join(conf, "handoff.yaml"), "--now", NOW, "-q"]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, res.stderr
        assert "week=%s " % tr.WEEK in res.stdout, res.stdout  # --now picks the week
        wb = openpyxl.load_workbook(out, data_only=True)   # cached values
        wbf = openpyxl.load_workbook(out)                  # formulas
        assert "Data quality" in wb.sheetnames
        exp = Expect(db)
        week_tot = check_quality(wb, wbf, exp)
        check_reconcile(wb, exp, week_tot)
        # the rest of the workbook still recomputes (same checks as test_report)
        full = tr.Expected(db)
        tr.check_summary(wbf, full)
        tr.check_reasons(wbf, full)
        # created date = --now, not the wall clock and not the end of the week
        assert wb.properties.created == dt.datetime(2026, 11, 25, 9, 30), wb.properties.created

        # determinism: same database + same --now -> the same bytes
        out2 = os.path.join(tmp, "again.xlsx")
        res = subprocess.run(cmd[:3] + [out2] + cmd[4:], capture_output=True, text=True,
                             timeout=300)
        assert res.returncode == 0, res.stderr
        with open(out, "rb") as f1, open(out2, "rb") as f2:
            assert f1.read() == f2.read(), "same database and --now, different bytes"
        # another --now in the same week: the same numbers, only the created date moves
        out3 = os.path.join(tmp, "later.xlsx")
        res = subprocess.run(cmd[:3] + [out3] + cmd[4:-3] + ["--now", "2026-11-26T10:00:00Z"],
                             capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, res.stderr
        wb3 = openpyxl.load_workbook(out3, data_only=True)
        assert wb3.properties.created == dt.datetime(2026, 11, 26, 10, 0)
        wb = openpyxl.load_workbook(out, data_only=True)  # fresh: ws.cell() above adds cells
        for name in wb.sheetnames:
            a, b = wb[name], wb3[name]
            va = [[c.value for c in r] for r in a.iter_rows()]
            vb = [[c.value for c in r] for r in b.iter_rows()]
            assert va == vb, (name, [(x, y) for x, y in zip(va, vb) if x != y][:3])
        bad = subprocess.run(cmd[:-3] + ["--now", "yesterday"], capture_output=True, text=True,
                             timeout=60)
        assert bad.returncode == 2 and "--now" in bad.stderr, bad.stderr

        # an old store (no issue-12 tables): the workbook is still written and says so
        old = os.path.join(tmp, "old.db")
        tr.build_db(old)
        make_old(old)
        out4 = os.path.join(tmp, "old.xlsx")
        res = subprocess.run(cmd[:3] + [out4, "--db", old] + cmd[6:], capture_output=True,
                             text=True, timeout=300)
        assert res.returncode == 0, res.stderr
        wb4 = openpyxl.load_workbook(out4, data_only=True)
        texts = [c.value for r in wb4["Data quality"].iter_rows() for c in r if c.value]
        assert any("records no imports" in str(t) for t in texts), texts
        s4 = [c.value for r in wb4["Summary"].iter_rows() for c in r]
        assert "Outcomes on leads marketing never qualified" not in s4
        print("test_report_quality: ok (week totals %s)" % week_tot)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
