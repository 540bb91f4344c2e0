#!/usr/bin/env python3
"""Independent verifier of a lead corpus (issue 12).

Reads the export files of a folder (what `handoff demo-data --people N` writes, or any real
exports of the same formats) with its own code path -- Python's csv and json modules and the
shared definitions of CONTRACT-12 section 3 / issue 12 "Policy", never handoff's C parser and
never a generator's manifest -- and writes the counts a correct import must produce:

  people             distinct email keys over the accepted records of the lead sources only
  files.<name>       read / accepted / skipped{reason} / quarantined{reason}, and
                     new / merged (lead files), matched / unmatched (activities, at arrival),
                     recorded / pending / unknown_lead / before_lead_created / flagged
                     (feedback; unknown_lead = pending older than the grace period at --now)
  outcomes           recorded outcome rows per type
  flags              recorded rows per flag code (sales_accepted_without_mql, ...)
  outcomes_by_week   {ISO week: {outcome: n}} of recorded rows; without_mql_by_week the same
                     for rows flagged sales_accepted_without_mql
  reasons_by_week    {ISO week: {rejected|lost: {reason: n}}} of recorded rows (UTC weeks)
  sal_by_week        {ISO week: leads whose accepted outcome (recorded or implied) is in it}
  unmatched_activities  accepted activity rows whose address is no person at all
  pending_feedback   feedback rows for addresses no lead source has (still unknown)
  created_at         {email key: ms} per person (earliest accepted record with a date)
  cohorts            people by ISO week of created_at (earliest accepted record), total and
                     by the profile of that earliest record

Usage: verify.py DIR [--order FILE,FILE,...] [--reasons deploy/reasons.yaml] [--out X.json]
--order is the import order (arrival decides new vs merged and matched vs unmatched); the
default is the order the end-to-end test uses: activities_02 first (before its people),
then the CRM exports, the webhooks, the other activity files, the feedback.

Rules (the first rule a record fails is its reason):
  CSV: a row whose field count differs from the header's -> bad_column_count; a field that is
  not UTF-8 -> bad_utf8; email blank after trimming -> missing_email; not a valid email ->
  bad_email; then per kind: lead created date present but not a date -> bad_date (blank is
  fine); activity type not one of the known types -> unknown_activity_type, date blank ->
  missing_date, not a date -> bad_date; feedback outcome not one of the six (after trim +
  lower-case) -> unknown_outcome, date blank -> missing_date, not a date -> bad_date.
  JSONL: not UTF-8 or not a JSON object -> bad_json; a Facebook leadgen notification
  ({"object":"page", entry[].changes[]}) -> skipped notification_only; LinkedIn testLead
  true -> skipped test_lead; a submission id already seen for that source -> skipped
  duplicate_delivery; then email and date rules as above.
  Feedback for an unknown address -> pending (accepted); dated before the lead's created_at
  -> before_lead_created (quarantined by the store).
"""
import csv
import datetime
import json
import os
import re
import sys

WS = " \t\r\n"
ATOM = re.compile(r"[a-z0-9_%+'-]+\Z")
LABEL = re.compile(r"[a-z0-9-]+\Z")
OUTCOMES = ("accepted", "rejected", "sql", "opportunity", "won", "lost")
ACTIVITY_TYPES = ("email_open", "email_click", "page_view", "webinar_attended",
                  "content_download", "demo_request", "free_trial_signup", "unsubscribe",
                  "form_submit")
RANK = {"ML": 0, "MQL": 1, "SAL": 2, "SQL": 3, "OPPORTUNITY": 4, "WON": 5}
UTC = datetime.timezone.utc


# ---- shared definitions (CONTRACT-12 section 3) -------------------------------------------
def email_key(raw):
    k = raw.strip(WS)
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in k)


def email_valid(k):
    if k.count("@") != 1:
        return False
    local, domain = k.split("@")
    if not all(a and ATOM.match(a) for a in local.split(".")):
        return False
    labels = domain.split(".")
    if len(labels) < 2:
        return False
    for lab in labels:
        if not lab or not LABEL.match(lab) or lab[0] == "-" or lab[-1] == "-":
            return False
    last = labels[-1]
    return len(last) >= 2 and last.isascii() and last.isalpha()


def iso_week(ms):
    d = datetime.datetime.fromtimestamp(ms / 1000.0, UTC)
    y, w, _ = d.isocalendar()
    return "%04d-W%02d" % (y, w)


def ms_of(dt):
    return int(round(dt.timestamp() * 1000))


def parse_fmt(text, fmt):
    """ms of a naive-UTC or aware date-time in fmt, or None."""
    try:
        dt = datetime.datetime.strptime(text, fmt)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return ms_of(dt)


def parse_iso_offset(text):
    """ISO 8601 with Z or +HH:MM / +HHMM (feedback, webhooks), or None."""
    m = re.fullmatch(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})", text)
    if not m:
        return None
    try:
        base = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return None
    frac = float(m.group(2)) if m.group(2) else 0.0
    z = m.group(3)
    off = 0
    if z != "Z":
        z = z.replace(":", "")
        off = (int(z[1:3]) * 60 + int(z[3:5])) * (1 if z[0] == "+" else -1)
    dt = base.replace(tzinfo=datetime.timezone(datetime.timedelta(minutes=off)))
    return ms_of(dt) + int(round(frac * 1000))


def load_reasons(path):
    """{code: set(outcomes)} from reasons.yaml, read line by line (no YAML library needed)."""
    out, code, inside = {}, None, False
    with open(path, encoding="utf-8") as f:
        for line in f:
            s = line.split("#", 1)[0].rstrip()
            if not s:
                continue
            if re.match(r"^reasons:\s*$", s):
                inside = True
                continue
            if inside and re.match(r"^\S", s):
                inside = False
            if not inside:
                continue
            m = re.match(r"^  ([a-z0-9_]+):\s*$", s)
            if m:
                code = m.group(1)
                out[code] = set()
                continue
            m = re.match(r"^    outcomes:\s*\[(.*)\]\s*$", s)
            if m and code:
                out[code] = {x.strip() for x in m.group(1).split(",") if x.strip()}
    return out


# ---- the stage a CRM record states (CONTRACT-12 section 1) ----------------------------------
def hubspot_stage(lifecycle, status):
    lc = lifecycle.strip().lower()
    st = status.strip().lower()
    base = {"subscriber": "ML", "lead": "ML", "other": "ML", "": "ML",
            "marketing qualified lead": "MQL", "sales qualified lead": "SQL",
            "opportunity": "OPPORTUNITY", "customer": "WON", "evangelist": "WON"}.get(lc, "ML")
    if st == "unqualified" and RANK[base] <= RANK["ML"]:
        return "DISQUALIFIED"
    if st == "open deal" and RANK[base] < RANK["OPPORTUNITY"]:
        return "OPPORTUNITY"
    if st in ("in progress", "attempted to contact", "connected"):
        if RANK[base] >= RANK["MQL"] and RANK[base] < RANK["SAL"]:
            return "SAL"
    return base


def salesforce_stage(status, converted):
    st = status.strip().lower()
    if st == "closed - converted" or converted.strip().lower() == "true":
        return "SQL"
    return {"open - not contacted": "ML", "working - contacted": "SAL",
            "closed - not converted": "DISQUALIFIED"}.get(st, "ML")


def marketo_stage(status):
    return {"marketing qualified": "MQL", "sales qualified": "SQL"}.get(
        status.strip().lower(), "ML")


LEAD_CSV = {
    # profile: (email column, date column, date parser, stage(row) or None)
    "hubspot": ("Email", "Create Date", lambda t: parse_fmt(t, "%Y-%m-%d %H:%M"),
                lambda r: hubspot_stage(r["Lifecycle Stage"], r["Lead Status"])),
    "salesforce": ("Email", "CreatedDate", parse_iso_offset,
                   lambda r: salesforce_stage(r["Status"], r["IsConverted"])),
    "marketo": ("email", "createdAt", parse_iso_offset, lambda r: marketo_stage(r["leadStatus"])),
}


def profile_of(name):
    n = os.path.basename(name)
    for p in ("hubspot", "salesforce", "marketo", "activities", "feedback"):
        if n.startswith(p):
            return p
    if n.endswith(".jsonl"):
        return "webhooks"
    return None


# ---- the state a correct pipeline builds ---------------------------------------------------
class World:
    def __init__(self, reasons):
        self.reasons = reasons
        self.people = {}  # key -> {"created": ms|None, "first_profile", "rank", "disq"}
        self.files = {}
        self.activity_ids = set()
        self.activities_distinct = 0
        self.activities_resent = 0
        self.activity_keys = []  # accepted activity email keys (for the final unmatched)
        self.feedback = []  # accepted feedback rows, applied after all lead files

    def file(self, name, kind, source):
        d = {"kind": kind, "source": source, "read": 0, "accepted": 0, "skipped": {},
             "quarantined": {}}
        self.files[os.path.basename(name)] = d
        return d

    def lead(self, f, profile, key, created, stage):
        f["accepted"] += 1
        p = self.people.get(key)
        if p is None:
            p = self.people[key] = {"created": None, "first_profile": None, "rank": 0,
                                    "disq": False, "records": 0}
            f["new"] = f.get("new", 0) + 1
        else:
            f["merged"] = f.get("merged", 0) + 1
        p["records"] += 1
        if created is not None and (p["created"] is None or created < p["created"]):
            p["created"] = created
            p["first_profile"] = profile
        if stage == "DISQUALIFIED":
            p["disq"] = True
        elif stage in RANK:
            p["rank"] = max(p["rank"], RANK[stage])


def bump(d, k, n=1):
    d[k] = d.get(k, 0) + n


def csv_rows(path):
    """(line, row or None, reason) per record; header stripped of a BOM."""
    with open(path, encoding="utf-8", errors="surrogateescape", newline="") as fh:
        rd = csv.reader(fh)
        header = next(rd)
        if header and header[0].startswith("\ufeff"):
            header[0] = header[0][1:]
        for row in rd:
            if not row:
                continue
            if len(row) != len(header):
                yield rd.line_num, None, "bad_column_count"
            elif any(any("\udc80" <= ch <= "\udcff" for ch in v) for v in row):
                yield rd.line_num, None, "bad_utf8"
            else:
                yield rd.line_num, dict(zip(header, row)), None


def email_reason(raw):
    if raw is None or raw.strip(WS) == "":
        return None, "missing_email"
    k = email_key(raw)
    return (k, None) if email_valid(k) else (None, "bad_email")


def read_lead_csv(w, path, profile):
    f = w.file(path, "lead", profile)
    col_email, col_date, parse, stage_of = LEAD_CSV[profile]
    for _line, row, why in csv_rows(path):
        f["read"] += 1
        if why is None:
            key, why = email_reason(row[col_email])
        if why is None:
            raw = row[col_date].strip(WS)
            created = parse(raw) if raw else None
            if raw and created is None:
                why = "bad_date"
        if why:
            bump(f["quarantined"], why)
            continue
        w.lead(f, profile, key, created, stage_of(row))


# ---- form webhooks -------------------------------------------------------------------------
def linkedin_email_questions(folder):
    path = os.path.join(folder, "linkedin_lead_forms.json")
    out = {}
    if not os.path.exists(path):
        return out
    with open(path, encoding="utf-8") as fh:
        doc = json.load(fh)
    for form in doc.get("elements", []):
        for q in form.get("content", {}).get("questions", []):
            if q.get("predefinedField") == "EMAIL":
                out[str(form.get("id"))] = q.get("questionId")
    return out


def webhook_fields(doc, li_email):
    """(shape, submission id, email or None, submitted at ms or None, date text)."""
    if "field_data" in doc:
        email = None
        for e in doc.get("field_data") or []:
            if e.get("name") in ("email", "work_email") and e.get("values"):
                email = e["values"][0]
        t = doc.get("created_time", "")
        return "facebook", doc.get("id"), email, parse_iso_offset(t) if isinstance(t, str) else None, t
    if "formResponse" in doc:
        m = re.search(r"leadGenForm:(\d+)", doc.get("versionedLeadGenFormUrn", ""))
        qid = li_email.get(m.group(1)) if m else None
        email = None
        for a in doc["formResponse"].get("answers", []):
            if a.get("questionId") == qid:
                email = a.get("answerDetails", {}).get("textQuestionAnswer", {}).get("answer")
        t = doc.get("submittedAt")
        return "linkedin", doc.get("id"), email, t if isinstance(t, int) else None, t
    if "fields" in doc and "context" in doc:
        email = None
        for e in doc.get("fields", []):
            if e.get("name") == "email":
                email = e.get("value")
        t = doc.get("submittedAt", "")
        ms = int(t) if isinstance(t, str) and t.isdigit() else None
        sid = "%s/%s" % (doc["context"].get("hutk"), t)
        return "hubspot_forms", sid, email, ms, t
    if doc.get("event_type") == "form_response":
        fr = doc.get("form_response", {})
        email = None
        for a in fr.get("answers", []):
            if a.get("type") == "email":
                email = a.get("email")
        t = fr.get("submitted_at", "")
        return "typeform", fr.get("token"), email, parse_iso_offset(t) if isinstance(t, str) else None, t
    return None, None, None, None, None


def read_webhooks(w, path, folder):
    f = w.file(path, "lead", "webhooks")
    li_email = linkedin_email_questions(folder)
    seen = set()
    f["by_shape"] = {}
    with open(path, "rb") as fh:
        data = fh.read()
    for raw in data.split(b"\n"):
        if not raw.strip():
            continue
        f["read"] += 1
        try:
            doc = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            doc = None
        if not isinstance(doc, dict):
            bump(f["quarantined"], "bad_json")
            continue
        if doc.get("object") == "page" and "entry" in doc:
            bump(f["skipped"], "notification_only")
            continue
        shape, sid, email, at, _t = webhook_fields(doc, li_email)
        if shape is None:
            bump(f["quarantined"], "unknown_shape")
            continue
        bump(f["by_shape"], shape)
        if doc.get("testLead") is True:
            bump(f["skipped"], "test_lead")
            continue
        if (shape, sid) in seen:
            bump(f["skipped"], "duplicate_delivery")
            continue
        seen.add((shape, sid))
        key, why = email_reason(email if isinstance(email, str) else None)
        if why is None and at is None:
            why = "bad_date"
        if why:
            bump(f["quarantined"], why)
            continue
        w.lead(f, "webhooks", key, at, None)


# ---- activities and feedback ---------------------------------------------------------------
def read_activities(w, path):
    f = w.file(path, "activity", "activities")
    f["matched"] = f["unmatched"] = f["resent"] = 0
    for _line, row, why in csv_rows(path):
        f["read"] += 1
        if why is None:
            key, why = email_reason(row["email"])
        if why is None and row["activity_type"].strip(WS).lower() not in ACTIVITY_TYPES:
            why = "unknown_activity_type"
        if why is None:
            raw = row["activity_date"].strip(WS)
            if not raw:
                why = "missing_date"
            elif parse_iso_offset(raw) is None:
                why = "bad_date"
        if why:
            bump(f["quarantined"], why)
            continue
        f["accepted"] += 1
        ident = (row["source_system"], row["activity_id"])
        if ident in w.activity_ids:
            f["resent"] += 1
            w.activities_resent += 1
            continue
        w.activity_ids.add(ident)
        w.activities_distinct += 1
        w.activity_keys.append(key)
        f["matched" if key in w.people else "unmatched"] += 1


def read_feedback(w, path):
    f = w.file(path, "feedback", "feedback")
    for line, row, why in csv_rows(path):
        f["read"] += 1
        if why is None:
            key, why = email_reason(row["lead_email"])
        outcome = row["outcome"].strip(WS).lower() if why is None else None
        if why is None and outcome not in OUTCOMES:
            why = "unknown_outcome"
        at = None
        if why is None:
            raw = row["occurred_at"].strip(WS)
            at = parse_iso_offset(raw) if raw else None
            why = "missing_date" if not raw else ("bad_date" if at is None else None)
        if why:
            bump(f["quarantined"], why)
            continue
        f["accepted"] += 1
        reason = row["reason"].strip(WS).lower()
        w.feedback.append({"file": f, "line": line, "key": key, "outcome": outcome,
                           "reason": reason, "at": at})


FUNNEL = {"accepted": 1, "sql": 2, "opportunity": 3, "won": 4, "lost": 4}
OUTCOME_ORDER = {"accepted": 0, "rejected": 0, "sql": 1, "opportunity": 2, "won": 3, "lost": 3}


def derive(rows, crm_rank):
    """A lead's recorded outcomes taken in occurred_at order (never arrival order: the same
    rows in any order give the same result). The funnel only moves forward: accepted (SAL),
    sql, opportunity, won/lost; a jump implies the stages it skips (lost needs SAL before
    it); rejected sends a lead at most SAL back to marketing. A row that would move the lead
    backward (rejected past SAL, an earlier stage after a later one, anything after won or
    lost) is recorded and flagged out_of_order. The CRM's own stage counts as reached.
    Returns the instants of its accepted outcomes, recorded or implied (contract: "SAL in
    week W = leads whose accepted outcome (recorded or implied) occurred in W")."""
    r = max(0, crm_rank - RANK["MQL"]) if crm_rank >= RANK["SAL"] else 0
    r_sales, terminal, sal = 0, False, []
    for row in sorted(rows, key=lambda x: (x["at"], OUTCOME_ORDER[x["outcome"]], x["seq"])):
        o = row["outcome"]
        if o == "rejected":
            if r <= 1 and not terminal:
                r = r_sales = 0
            else:
                row["flags"].append("out_of_order")
            continue
        t = FUNNEL[o]
        if terminal or t < r_sales:
            row["flags"].append("out_of_order")
            continue
        if o == "accepted" or (t > r and r < 1):
            sal.append(row["at"])  # a recorded accepted, or a jump over SAL (implied)
        r_sales = t
        r = max(r, t)
        terminal = t == 4
    return sal


def apply_feedback(w, now_ms, grace_ms, model_mql=frozenset()):
    """Store-side results of the accepted feedback rows. model_mql: email keys the scoring
    model made MQL (none by default; the end-to-end test makes the MQL rule unreachable).
    sales_accepted_without_mql follows the issue text: an outcome on a lead marketing's
    model never qualified ("leads sales works that the model missed"); a CRM export's own
    MQL stage is not marketing's qualification."""
    res = {"outcomes": {}, "flags": {}, "reasons_by_week": {}, "outcomes_by_week": {},
           "without_mql_by_week": {}, "pending": 0, "outcomes_on_crm_mql_leads": 0,
           "unknown_lead_after_grace": 0, "before_lead_created": 0, "sal_by_week": {}}
    per_lead = {}
    for seq, fb in enumerate(w.feedback):
        f = fb["file"]
        p = w.people.get(fb["key"])
        if p is None:
            # waits as pending; at a tick past the grace period it counts as unknown_lead
            # (the row is kept either way)
            res["pending"] += 1
            if now_ms is not None and now_ms - fb["at"] > grace_ms:
                res["unknown_lead_after_grace"] += 1
                bump(f, "unknown_lead")
            else:
                bump(f, "pending")
            continue
        if p["created"] is not None and fb["at"] < p["created"]:
            bump(f, "before_lead_created")
            res["before_lead_created"] += 1
            continue
        bump(f, "recorded")
        row = dict(fb, seq=seq, flags=[])
        if fb["key"] not in model_mql:
            row["flags"].append("sales_accepted_without_mql")
        if p["rank"] >= RANK["MQL"]:
            res["outcomes_on_crm_mql_leads"] += 1
        o, reason = fb["outcome"], fb["reason"]
        if o in ("lost", "rejected"):
            if reason == "":
                reason = "unspecified"
            elif reason not in w.reasons:
                row["flags"].append("reason_outside_taxonomy")
            elif o not in w.reasons[reason]:
                row["flags"].append("reason_not_for_outcome")
            wk = res["reasons_by_week"].setdefault(iso_week(fb["at"]), {})
            bump(wk.setdefault(o, {}), reason)
        bump(res["outcomes"], o)
        bump(res["outcomes_by_week"].setdefault(iso_week(fb["at"]), {}), o)
        per_lead.setdefault(fb["key"], []).append(row)
    for key, rows in per_lead.items():
        weeks = {iso_week(at) for at in derive(rows, w.people[key]["rank"])}
        for wk in weeks:
            bump(res["sal_by_week"], wk)
        for row in rows:
            if "sales_accepted_without_mql" in row["flags"]:
                bump(res["without_mql_by_week"], iso_week(row["at"]))
            for fl in row["flags"]:
                bump(res["flags"], fl)
            if row["flags"]:
                bump(row["file"], "flagged")
    return res


DEFAULT_ORDER = ["activities_02.csv", "hubspot_contacts.csv", "salesforce_leads.csv",
                 "marketo_leads.csv", "form_webhooks.jsonl", "activities_01.csv",
                 "activities_03.csv", "feedback.csv"]


def verify(folder, order=None, reasons_path=None, now_ms=None, grace_ms=7 * 86400000,
           model_mql=frozenset()):
    if reasons_path is None:
        here = os.path.dirname(os.path.abspath(__file__))
        reasons_path = os.path.join(here, "..", "..", "deploy", "reasons.yaml")
    w = World(load_reasons(reasons_path))
    order = [o for o in (order or DEFAULT_ORDER) if os.path.exists(os.path.join(folder, o))]
    for name in order:
        path = os.path.join(folder, name)
        prof = profile_of(name)
        if prof in LEAD_CSV:
            read_lead_csv(w, path, prof)
        elif prof == "webhooks":
            read_webhooks(w, path, folder)
        elif prof == "activities":
            read_activities(w, path)
        elif prof == "feedback":
            read_feedback(w, path)
    fb = apply_feedback(w, now_ms, grace_ms, model_mql)
    for f in w.files.values():
        assert f["read"] == f["accepted"] + sum(f["skipped"].values()) + sum(
            f["quarantined"].values())
    cohorts = {"total": {}, "by_first_source": {}}
    for p in w.people.values():
        if p["created"] is None:
            continue
        wk = iso_week(p["created"])
        bump(cohorts["total"], wk)
        bump(cohorts["by_first_source"].setdefault(wk, {}), p["first_profile"])
    stages = {}
    for p in w.people.values():
        st = "DISQUALIFIED" if p["disq"] and p["rank"] == 0 else \
            [k for k, v in RANK.items() if v == p["rank"]][0]
        bump(stages, st)
    return {
        "people": len(w.people),
        "people_in_several_sources": sum(1 for p in w.people.values() if p["records"] > 1),
        "people_without_created_at": sum(1 for p in w.people.values() if p["created"] is None),
        "crm_stage": stages,
        "order": order,
        "files": w.files,
        "activities_distinct": w.activities_distinct,
        "activities_resent": w.activities_resent,
        "unmatched_activities": sum(1 for k in w.activity_keys if k not in w.people),
        "outcomes": fb["outcomes"],
        "flags": fb["flags"],
        "flagged_rows": sum(f.get("flagged", 0) for f in w.files.values()),
        "reasons_by_week": fb["reasons_by_week"],
        "outcomes_by_week": fb["outcomes_by_week"],
        "without_mql_by_week": fb["without_mql_by_week"],
        "sal_by_week": fb["sal_by_week"],
        "outcomes_on_crm_mql_leads": fb["outcomes_on_crm_mql_leads"],
        "pending_feedback": fb["pending"],
        "unknown_lead_after_grace": fb["unknown_lead_after_grace"],
        "before_lead_created": fb["before_lead_created"],
        "cohorts": cohorts,
        "created_at": {k: p["created"] for k, p in sorted(w.people.items())},
    }


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--order", help="comma-separated import order (file names)")
    ap.add_argument("--reasons", help="reasons.yaml (default: the repo's deploy/reasons.yaml)")
    ap.add_argument("--now", help="ISO time of the last tick (pending older than the grace "
                    "period counts as unknown_lead)")
    ap.add_argument("--out", help="write the JSON here (default stdout)")
    a = ap.parse_args(argv)
    now = parse_iso_offset(a.now) if a.now else None
    res = verify(a.dir, a.order.split(",") if a.order else None, a.reasons, now)
    text = json.dumps(res, indent=2, sort_keys=True)
    if a.out:
        with open(a.out, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
