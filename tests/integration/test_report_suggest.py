#!/usr/bin/python3
"""`handoff score --suggest OUT.yaml`: the Learnings sheet's verdicts as a scoring.yaml change.

The known-outcome database of test_report.py, where the penalty rule `careers_page` (-5 in
deploy/scoring.yaml) is planted on most leads that reached SQL and on one lead in ten of the
others: measured, it converts far better than the rest, so the outcomes contradict its
points. --suggest must write the model with that rule's points set to 0 (and only that, plus
the version), print the change as a unified diff that turns the current file into OUT.yaml,
agree with the workbook's Learnings sheet, and the result must load and dry-run."""
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
import test_report as tr  # noqa: E402

SRC = os.environ.get("HO_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
PLANT = {"rule": "careers_page", "kind": "interest", "points": -5, "detail": "careers page"}


def plant(db):
    c = sqlite3.connect(db)
    _, as_of = tr.week_bounds(tr.WEEK)
    sql = {r[0] for r in c.execute(
        "SELECT DISTINCT lead_id FROM stage_history WHERE kind='transition' AND to_stage IN"
        " ('SQL','OPPORTUNITY','WON') AND at<?", (as_of,))}
    rnd = random.Random(5)
    for sid, lid, expl in c.execute("SELECT id, lead_id, explanation_json FROM scores").fetchall():
        if (lid in sql and rnd.random() < 0.85) or rnd.random() < 0.1:
            items = json.loads(expl) if expl else []
            items.append(PLANT)
            c.execute("UPDATE scores SET explanation_json=? WHERE id=?", (json.dumps(items), sid))
    c.commit()
    c.close()


def apply_diff(text, diff):
    """Apply the zero-context hunks the command printed to the current model text."""
    lines = text.split("\n")
    out = list(lines)
    hunks = [l for l in diff.splitlines() if not l.startswith("#")]
    assert hunks[0].startswith("--- ") and hunks[1].startswith("+++ "), hunks[:2]
    i = 2
    while i < len(hunks):
        h = hunks[i]
        assert h.startswith("@@ -"), h
        n = int(h.split()[1][1:])
        assert hunks[i + 1] == "-" + lines[n - 1], (hunks[i + 1], lines[n - 1])
        out[n - 1] = hunks[i + 2][1:]
        i += 3
    return "\n".join(out)


def main():
    assert tr.HO_BIN, "HO_BIN is not set"
    tmp = tempfile.mkdtemp(prefix="ho-suggest-")
    try:
        db = os.path.join(tmp, "handoff.db")
        tr.build_db(db)
        plant(db)
        model = os.path.join(SRC, "deploy", "scoring.yaml")
        out = os.path.join(tmp, "suggested.yaml")
        res = subprocess.run([tr.HO_BIN, "score", "--suggest", out, "--db", db, "--week",
                              tr.WEEK, "--timezone", tr.TZ, "--current", model],
                             capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, res.stderr
        with open(model) as f:
            cur = f.read()
        with open(out) as f:
            new = f.read()
        # the printed diff is exactly the change
        assert apply_diff(cur, res.stdout) == new
        changed = [(a, b, i) for i, (a, b) in enumerate(zip(cur.split("\n"), new.split("\n")))
                   if a != b]
        assert len(changed) == 2, changed
        assert changed[0][0] == 'version: "2026.11-1"', changed
        assert changed[0][1] == 'version: "2026.11-1-suggested-%s"' % tr.WEEK, changed
        assert changed[1][0].strip() == "points: -5", changed
        assert changed[1][1].strip().startswith("points: 0  # was -5: CONTRADICTED"), changed
        # the rule changed is careers_page (the last rule named above that line)
        idx = changed[1][2]
        names = [l for l in cur.split("\n")[:idx] if l.strip().startswith("- name:")]
        assert names[-1].strip() == "- name: careers_page", names[-1]
        assert "# suggest rule=careers_page verdict=\"CONTRADICTED" in res.stdout, res.stdout
        assert "against=1 changed_lines=2" in res.stdout, res.stdout
        # the same verdict as the workbook's Learnings sheet
        xlsx = os.path.join(tmp, "w.xlsx")
        rep = tr.run_report(db, xlsx, "-q")
        assert rep.returncode == 0, rep.stderr
        ws = openpyxl.load_workbook(xlsx)["Learnings"]
        row = tr.find_row(ws, "careers_page")
        assert ws.cell(row, 11).value.startswith("CONTRADICTED: takes points"), ws.cell(row, 11).value
        against = [ws.cell(r, 1).value for r in range(row - 5, row + 5)
                   if str(ws.cell(r, 11).value or "").startswith(("CONTRADICTED", "NOT SUPP"))]
        assert against == ["careers_page"], against
        # the suggestion is a model the scorer loads and can dry-run against the current one
        chk = subprocess.run([tr.HO_BIN, "score", "--check", "--model", out],
                             capture_output=True, text=True, timeout=60)
        assert chk.returncode == 0 and "suggested-" in chk.stdout, (chk.stdout, chk.stderr)
        dry = subprocess.run([tr.HO_BIN, "score", "--dry-run", "--model", out, "--current", model,
                              "--db", db, "--limit", "0"], capture_output=True, text=True,
                             timeout=300)
        assert dry.returncode == 0, dry.stderr
        assert "dry-run leads=" in dry.stdout, dry.stdout[:500]
        bad = subprocess.run([tr.HO_BIN, "score", "--suggest", out, "--db", db, "--week",
                              "2026-W99"], capture_output=True, text=True, timeout=60)
        assert bad.returncode == 2 and "--week" in bad.stderr, bad.stderr
        print("test_report_suggest: ok")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
