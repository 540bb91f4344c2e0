#!/usr/bin/python3
"""`handoff dlq replay ID --set FIELD=VALUE`: the operator fixes a quarantined record's bad
value and replays it.

Real processes (`handoff broker`, `handoff worker ingest`, `handoff worker store`, the
`handoff import` and `handoff dlq` commands) over ipc, the store's real SQLite file read back.

  * import of a CSV with a good row and two bad emails: one lead, two rows bad_email;
  * bad command lines are refused before anything is sent (exit 2, saying why); a field a
    lead does not have is refused by the store naming it (exit 1), the row untouched;
  * `--set email=jane@acme.com`: the lead is in handoff.db with the row's other fields, the
    row is replayed, its raw_json holds the edit and the value it replaced; `dlq list --all`
    says edited=email;
  * a second bad edit (`--set email=bob@beta`) is refused again by ingest: the same row is
    open again with the new reason, `dlq list` and `dlq show` tell the edit and the original
    value; a third (`--set` the right email, `--unset company`) gets it in without company.

Run: HO_BIN=build/handoff /usr/bin/python3 tests/integration/test_dlq_set_replay.py
"""
import json
import os
import re
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import wait_for  # noqa: E402


class DlqSetReplay(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ho-dlq-set-")
        self.p = harness.Pipeline(self.dir, "ipc", interval=0.05)
        self.p.write_config("routes:\n  lead.raw: ingest\n  lead.normalized: store\n"
                            "  quarantine: store\n")
        self.csv = os.path.join(self.dir, "leads.csv")
        with open(self.csv, "w") as f:
            f.write("email,first_name,last_name,company\n"
                    "ada@acme-edit.example,Ada,Lovelace,Acme\n"
                    "jane@@acme,Jane,Doe,Acme\n"
                    "bob@@beta.example,Bob,Roe,Beta\n")

    def tearDown(self):
        self.p.close()
        bad = self.p.sanitizer_reports()
        shutil.rmtree(self.dir, ignore_errors=True)
        self.assertEqual(bad, [])

    def dlq(self, *args, rc=0):
        r = harness.run(["dlq"] + list(args) + ["-c", self.p.config])
        self.assertEqual(r.returncode, rc, r.stdout + r.stderr)
        return r

    def row(self, line):
        """(id, code, field, reason, at, replayed_at, raw_json) of the row of a CSV line"""
        return self.p.one("SELECT id, code, field, reason, at, replayed_at, raw_json FROM"
                          " quarantine WHERE file = ? AND line = ?", (self.csv, line))

    def lead(self, email):
        return self.p.one("SELECT first_name, last_name, company FROM leads WHERE email = ?",
                          (email,))

    def test_set_fixes_a_bad_email(self):
        self.p.start("ingest", "store")
        r = harness.run(["import", "--source", "csv", self.csv, "-c", self.p.config])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        summary = harness.parse_summary(r.stdout)["leads.csv"]
        self.assertEqual((summary["read"], summary["accepted"], summary["quarantined"]), (3, 1, 2))
        self.assertEqual(summary["reasons"], {"bad_email": 2})
        wait_for("the good lead", lambda: self.lead("ada@acme-edit.example"))
        jane = wait_for("line 3 quarantined", lambda: self.row(3))
        bob = wait_for("line 4 quarantined", lambda: self.row(4))
        self.assertEqual(jane[1:3], ("bad_email", "email"))
        self.assertIn('"jane@@acme" is not an email address', jane[3])
        jid, bid = str(jane[0]), str(bob[0])

        # command lines refused before anything is sent
        r = self.dlq("replay", jid, "--set", "email", rc=2)
        self.assertIn('--set needs FIELD=VALUE, got "email"', r.stderr)
        r = self.dlq("replay", jid, "--set", "=x", rc=2)
        self.assertIn("is not a field name", r.stderr)
        r = self.dlq("replay", jid, "--set", "email=a@b.example", "--set", "fields.email=c", rc=2)
        self.assertIn("field email is given twice", r.stderr)
        r = self.dlq("list", "--set", "email=x", rc=2)
        self.assertIn("--set and --unset go with `dlq replay ID...`", r.stderr)
        self.assertIn("--set FIELD=VALUE", self.dlq("--help").stdout)

        # a field a lead does not have: refused by the store, naming it; nothing changes
        r = self.dlq("replay", jid, "--set", "emial=jane@acme.com", rc=1)
        self.assertIn('id=%s: quarantine row %s: "emial" is not a field of a lead record '
                      "(did you mean email?)" % (jid, jid), r.stderr)
        self.assertNotIn("replayed id=", r.stdout)
        self.assertEqual(self.row(3), jane)

        # the fix: the lead gets in with the rest of its record, the row is replayed
        r = self.dlq("replay", jid, "--set", "email=jane@acme.com")
        self.assertIn("replayed id=%s edited=email" % jid, r.stdout)
        self.assertEqual(wait_for("the edited lead", lambda: self.lead("jane@acme.com")),
                         ("Jane", "Doe", "Acme"))
        jane = self.row(3)
        self.assertIsNotNone(jane[5], "the replayed row is marked replayed")
        raw = json.loads(jane[6])
        self.assertEqual(raw["fields"]["email"], "jane@acme.com")
        self.assertEqual(len(raw["replay_edits"]), 1)
        self.assertEqual(raw["replay_edits"][0]["set"], {"email": "jane@acme.com"})
        self.assertEqual(raw["replay_edits"][0]["was"], {"email": "jane@@acme"})
        self.assertEqual(raw["source_ref"]["line"], 3)
        listed = self.dlq("list").stdout.splitlines()
        self.assertEqual(len(listed), 1, listed)
        self.assertIn("id=%s " % bid, listed[0])
        self.assertNotIn("edited=", listed[0])
        every = self.dlq("list", "--all").stdout
        self.assertRegex(every, r"id=%s .* edited=email reason=" % jid)

        # a second bad edit: refused again, the same row open again with the new reason
        r = self.dlq("replay", bid, "--set", "email=bob@beta")
        self.assertIn("replayed id=%s edited=email" % bid, r.stdout)

        def reopened():
            b = self.row(4)
            return b if b[5] is None and b[4] > bob[4] else None
        bob = wait_for("line 4 refused again", reopened)
        self.assertEqual(bob[1:3], ("bad_email", "email"))
        self.assertIn('"bob@beta" is not an email address', bob[3])
        raw = json.loads(bob[6])
        self.assertEqual(raw["fields"]["email"], "bob@beta")
        self.assertEqual(raw["replay_edits"][0]["was"], {"email": "bob@@beta.example"})
        self.assertEqual(self.p.count("SELECT count(*) FROM quarantine"), 2)
        listed = self.dlq("list").stdout.splitlines()
        self.assertEqual(len(listed), 1, listed)
        self.assertRegex(listed[0], r"^id=%s .*code=bad_email field=email .*replayed=- "
                         r"edited=email reason=\".*\"bob@beta\" is not" % bid)
        show = self.dlq("show", bid).stdout
        self.assertRegex(show, r'edit at=\S+ field=email was="bob@@beta.example" now="bob@beta"')
        shown = json.loads(self.dlq("show", bid, "--json").stdout)
        self.assertEqual(shown["raw"]["replay_edits"][0]["was"]["email"], "bob@@beta.example")
        self.assertIsNone(self.lead("bob@beta"))
        self.assertEqual(self.p.count("SELECT count(*) FROM leads"), 2)

        # fixed for good, and a field dropped on the way: in, without company
        r = self.dlq("replay", bid, "--set", "fields.email=bob@beta.example", "--unset", "company")
        self.assertIn("replayed id=%s edited=email,company" % bid, r.stdout)
        self.assertEqual(wait_for("bob's lead", lambda: self.lead("bob@beta.example")),
                         ("Bob", "Roe", None))
        bob = self.row(4)
        self.assertIsNotNone(bob[5])
        raw = json.loads(bob[6])
        self.assertNotIn("company", raw["fields"])
        self.assertEqual([e["was"] for e in raw["replay_edits"]],
                         [{"email": "bob@@beta.example"},
                          {"email": "bob@beta", "company": "Beta"}])
        self.assertEqual(self.dlq("list").stdout, "")
        show = self.dlq("show", bid).stdout
        self.assertEqual(len(re.findall(r"^edit at=", show, re.M)), 3, show)
        self.assertIn('field=company was="Beta" now=-', show)


if __name__ == "__main__":
    unittest.main()
