#!/usr/bin/python3
"""`handoff score --explain` and `handoff score --dry-run` over a database written by the real
pipeline: `handoff broker` + the ingest, store and score workers (shipped scoring.yaml, built-in
copy), fed by `handoff import` with seeded demo-data (leads, then activities).

--explain re-scores a lead in-process from the stored snapshot (leads.fields_json +
activities); at the time of the lead's last score it must reproduce what the score worker said
(scores row: fit, interest, score, grade, quadrant, mql and the whole explanation).
--dry-run is checked against numbers known independently: the same model changes nothing, a
model that makes every lead an MQL makes count(leads) of them, one that makes none makes 0, and
the current model's MQL count equals the number of leads --explain calls mql=yes.

Run: HO_BIN=build/handoff /usr/bin/python3 tests/integration/test_score_cmd.py
"""
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

DEADLINE = 60.0


def wait_for(what, fn, deadline=DEADLINE):
    return harness.wait_for(what, fn, deadline)


def iso(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms // 1000))


class ScoreCmd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="ho-scorecmd-")
        cls.pipe = harness.Pipeline(cls.dir, deadline=DEADLINE)
        cls.src = harness.source_dir()
        try:
            cls.build_store()
        except BaseException:
            cls.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.stop()

    @classmethod
    def stop(cls):
        cls.pipe.close()
        shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def run_cmd(cls, args, timeout=120):
        return harness.run(args, timeout)

    @classmethod
    def query(cls, sql, args=()):
        return cls.pipe.query(sql, args)

    @classmethod
    def build_store(cls):
        cls.data = cls.pipe.data
        cls.db = cls.pipe.db
        # no route worker here: route.request has no route and is dropped
        cls.config = cls.pipe.write_config(
            "routes:\n  lead.raw: ingest\n  activity.raw: ingest\n"
            "  lead.normalized: store\n  activity.normalized: store\n"
            "  score.request: score\n  lead.scored: store\n  quarantine: store\n")
        demo = os.path.join(cls.dir, "demo")
        r = cls.run_cmd(["demo-data", "--out", demo, "--seed", "11", "--leads", "80"])
        assert r.returncode == 0, r.stderr
        cls.pipe.start("ingest", "store", "score")
        for files in (("hubspot_contacts.csv", "salesforce_leads.csv", "form_webhooks.jsonl"),
                      ("activities.csv",)):
            r = cls.run_cmd(["import", "-c", cls.config] + [os.path.join(demo, n) for n in files])
            assert r.returncode == 0, r.stderr

        # settled: every lead scored, and no new score rows for a while
        def settled():
            rows = cls.query("SELECT (SELECT count(*) FROM leads WHERE scored_at IS NULL), "
                             "(SELECT count(*) FROM scores), (SELECT count(*) FROM leads)")
            if not rows or rows[0][0] != 0 or rows[0][2] == 0:
                cls.last = None
                return False
            if getattr(cls, "last", None) == rows[0][1]:
                return True
            cls.last = rows[0][1]
            time.sleep(1.0)
            return False
        wait_for("every lead scored", settled)
        cls.leads = cls.query("SELECT id, email FROM leads WHERE erased = 0 ORDER BY id")
        assert len(cls.leads) > 20, cls.leads

    def explain(self, email, *extra):
        r = self.run_cmd(["score", "-c", self.config, "--explain", email] + list(extra))
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def test_explain_reproduces_the_workers_scores(self):
        for lead_id, email in self.leads:
            row = self.query("SELECT at, model_version, fit, interest, score, grade, quadrant, "
                             "mql, explanation_json FROM scores WHERE lead_id = ? "
                             "ORDER BY id DESC LIMIT 1", (lead_id,))[0]
            at, version, fit, interest, score, grade, quadrant, mql, ex = row
            doc = json.loads(self.explain(email.upper(), "--as-of", str(at), "--json"))
            self.assertEqual(doc["lead_id"], lead_id)
            self.assertEqual(doc["as_of"], at)
            self.assertEqual(doc["model_version"], version)
            self.assertEqual((doc["fit"], doc["interest"], doc["score"], doc["grade"],
                              doc["quadrant"], int(doc["mql"])),
                             (fit, interest, score, grade, quadrant, mql), email)
            # the row is the lead's last *change*: a later re-score that changed no number
            # wrote no row, so activities that added up to nothing may be missing from the
            # stored explanation; what made the numbers is the same
            stored = json.loads(ex)
            fit_only = lambda x: [e for e in x if "n" not in e and
                                  not e["rule"].startswith("interest.")]
            self.assertEqual(fit_only(doc["explanation"]), fit_only(stored), email)
            self.assertEqual(sum(e["points"] for e in stored), fit + interest, email)
        # the table form: one line per rule that fired, and the totals
        lead_id, email = self.leads[0]
        at, fit, interest, grade, ex = self.query(
            "SELECT at, fit, interest, grade, explanation_json FROM scores WHERE lead_id = ? "
            "ORDER BY id DESC LIMIT 1", (lead_id,))[0]
        out = self.explain(email, "--as-of", iso(at) if at % 1000 == 0 else str(at))
        self.assertRegex(out, r"(?m)^lead email=%s lead_id=%d " % (re.escape(email), lead_id))
        self.assertRegex(out, r"(?m)^RULE +KIND +POINTS +DETAIL$")
        self.assertRegex(out, r"(?m)^total fit=%d interest=%d score=%d grade=%s " %
                         (fit, interest, fit + interest, grade))
        rules = re.findall(r"(?m)^(\S+) +(fit|interest) +([+-]\d+)  ", out)
        # the table has a line per firing; the --json explanation is compact, one entry per
        # rule in first-firing order (firings added up, "n" of them for an activity rule)
        per_rule = {}
        for r, k, p in rules:
            kind, pts, n = per_rule.get(r, (k, 0, 0))
            per_rule[r] = (kind, pts + int(p), n + 1)
        doc = json.loads(self.explain(email, "--as-of", str(at), "--json"))
        self.assertEqual(list(per_rule), [e["rule"] for e in doc["explanation"]])
        for e in doc["explanation"]:
            kind = "interest" if "n" in e or e["rule"].startswith("interest.") else "fit"
            self.assertEqual(per_rule[e["rule"]][:2], (kind, e["points"]), e)
            if "n" in e:
                self.assertEqual(per_rule[e["rule"]][2], e["n"], e)

    def test_as_of_stored(self):
        # --explain --as-of stored scores each lead as of its leads.scored_at
        for lead_id, email in self.leads[:10]:
            scored_at = self.query("SELECT scored_at FROM leads WHERE id = ?", (lead_id,))[0][0]
            doc = json.loads(self.explain(email, "--as-of", "stored", "--json"))
            self.assertEqual(doc["as_of"], scored_at)
        # --dry-run --as-of stored: the same model changes nothing, every lead is counted
        same = self.model_variant("same-2", "mql:\n  quadrants: [mql_now]")
        r = self.run_cmd(["score", "-c", self.config, "--dry-run", "--model", same,
                          "--as-of", "stored"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"(?m)^dry-run leads=%d as_of=stored$" % len(self.leads))
        self.assertRegex(r.stdout, r"(?m)^change mql_delta=\+0 became_mql=0 no_longer_mql=0 "
                                   r"grade_changed=0$")

    def test_explain_errors(self):
        r = self.run_cmd(["score", "-c", self.config, "--explain", "nobody@nowhere.test"])
        self.assertEqual(r.returncode, 1)
        self.assertIn("no lead with email nobody@nowhere.test", r.stderr)
        r = self.run_cmd(["score", "-c", self.config, "--explain", "x@y.z", "--as-of", "soon"])
        self.assertEqual(r.returncode, 2)
        r = self.run_cmd(["score", "-c", self.config])
        self.assertEqual(r.returncode, 2)
        r = self.run_cmd(["score", "--help"])
        self.assertEqual(r.returncode, 0)
        self.assertIn("--dry-run", r.stdout)
        bad = os.path.join(self.dir, "bad.yaml")
        with open(bad, "w") as f:
            f.write("version: b\nfit:\n  rules:\n    - {name: a, field: title, match: '[', "
                    "points: 1}\n")
        r = self.run_cmd(["score", "-c", self.config, "--dry-run", "--model", bad])
        self.assertEqual(r.returncode, 1)
        self.assertIn("bad.yaml:4: fit.rules[0].match: bad regular expression", r.stderr)
        r = self.run_cmd(["score", "-c", self.config, "--check", "--model", bad])
        self.assertEqual(r.returncode, 1)
        self.assertIn("bad.yaml:4: fit.rules[0].match: bad regular expression", r.stderr)
        # --check of the current (built-in) model: a summary of the shipped file
        r = self.run_cmd(["score", "-c", self.config, "--check"])
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(self.src, "deploy", "scoring.yaml")) as f:
            text = f.read()
        fit_part, interest_part = text.split("\ninterest:\n")[0], \
            text.split("\ninterest:\n")[1].split("\ngrades:")[0]
        self.assertRegex(r.stdout, r"(?m)^model ok version=2026\.11-1 file=\(built-in\)/scoring"
                                   r"\.yaml fit_rules=%d interest_rules=%d " %
                         (fit_part.count("- name:"), interest_part.count("- name:")))
        self.assertIn(" window_days=90 decay=half_life_days:30 ", r.stdout)
        self.assertIn(" mql=quadrants:mql_now\n", r.stdout)

    def model_variant(self, name, mql_line, drop_disqualify=False):
        with open(os.path.join(self.src, "deploy", "scoring.yaml")) as f:
            text = f.read()
        text = text.replace('version: "2026.11-1"', 'version: "%s"' % name)
        text = re.sub(r"(?m)^mql:\n  quadrants: \[mql_now\]$", mql_line, text)
        if drop_disqualify:
            text = text.replace("      disqualify: true\n", "")
        path = os.path.join(self.dir, name + ".yaml")
        with open(path, "w") as f:
            f.write(text)
        return path

    def dry_run(self, model, as_of):
        r = self.run_cmd(["score", "-c", self.config, "--dry-run", "--model", model,
                          "--as-of", str(as_of), "--limit", "0"])
        self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout
        got = {}
        for which in ("current", "new"):
            m = re.search(r"(?m)^model which=%s version=(\S+) file=\S+ mql=(\d+) mql_now=(\d+) "
                          r"group_offering=(\d+) nurture=(\d+) never=(\d+) failed=(\d+)$"
                          % which, out)
            self.assertIsNotNone(m, out)
            got[which] = {"version": m.group(1), "mql": int(m.group(2)),
                          "quadrants": [int(x) for x in m.group(3, 4, 5, 6)],
                          "failed": int(m.group(7))}
        m = re.search(r"(?m)^change mql_delta=([+-]\d+) became_mql=(\d+) no_longer_mql=(\d+) "
                      r"grade_changed=(\d+)$", out)
        self.assertIsNotNone(m, out)
        got["change"] = [int(x) for x in m.groups()]
        got["became"] = re.findall(r"(?m)^became_mql lead_id=(\d+) email=(\S+) ", out)
        got["dropped"] = re.findall(r"(?m)^no_longer_mql lead_id=(\d+) email=(\S+) ", out)
        self.assertRegex(out, r"(?m)^dry-run leads=%d as_of=" % len(self.leads))
        return got

    def test_dry_run(self):
        as_of = self.query("SELECT max(at) FROM scores")[0][0]
        n = len(self.leads)
        # the same model: nothing changes
        same = self.model_variant("same-1", "mql:\n  quadrants: [mql_now]")
        got = self.dry_run(same, as_of)
        self.assertEqual(got["current"]["version"], "2026.11-1")
        self.assertEqual(got["new"]["version"], "same-1")
        self.assertEqual(got["current"]["mql"], got["new"]["mql"])
        self.assertEqual(got["current"]["quadrants"], got["new"]["quadrants"])
        self.assertEqual(sum(got["current"]["quadrants"]), n)
        self.assertEqual(got["change"], [0, 0, 0, 0])
        # the current count is what --explain says lead by lead
        explained = 0
        for _, email in self.leads:
            out = self.explain(email, "--as-of", str(as_of))
            m = re.search(r"(?m)^total .* mql=(yes|no)", out)
            explained += m.group(1) == "yes"
        self.assertEqual(got["current"]["mql"], explained)
        current_mql = explained

        # every lead an MQL (any quadrant, nobody disqualified): count(leads)
        everyone = self.model_variant(
            "all-1", "mql:\n  quadrants: [mql_now, group_offering, nurture, never]",
            drop_disqualify=True)
        got = self.dry_run(everyone, as_of)
        self.assertEqual(got["new"]["mql"], n)
        self.assertEqual(got["change"][:3], [n - current_mql, n - current_mql, 0])
        self.assertEqual(len(got["became"]), n - current_mql)
        self.assertEqual(len(got["dropped"]), 0)
        # a lead that became an MQL under the new model: --explain with each model agrees
        if got["became"]:
            _, email = got["became"][0]
            self.assertRegex(self.explain(email, "--as-of", str(as_of)), r"(?m)^total .* mql=no")
            self.assertRegex(self.explain(email, "--as-of", str(as_of), "--model", everyone),
                             r"(?m)^total .* mql=yes")

        # nobody an MQL: 0, and every current MQL is listed as no longer one
        nobody = self.model_variant("none-1", "mql:\n  min_score: 1000000")
        got = self.dry_run(nobody, as_of)
        self.assertEqual(got["new"]["mql"], 0)
        self.assertEqual(got["change"][:3], [-current_mql, 0, current_mql])
        self.assertEqual(len(got["dropped"]), current_mql)
        self.assertEqual(got["current"]["quadrants"], got["new"]["quadrants"])


if __name__ == "__main__":
    unittest.main()
