#!/usr/bin/python3
"""The weekly workbook's seven sheets written by Python XlsxWriter, for bench_report.c to
compare with handoff's C writer on the same database (same definitions, reports/README.md;
same constant-memory mode; charts included; no Pareto secondary-axis post-processing needed,
XlsxWriter combines charts itself).

usage: report_xlsxwriter.py DB OUT WEEK TZ
"""
import datetime as dt
import json
import sqlite3
import statistics
import sys
from zoneinfo import ZoneInfo

import xlsxwriter

HOUR = 3600000.0


def week_add(label, n):
    y, w = int(label[:4]), int(label[6:])
    d = dt.date.fromisocalendar(y, w, 1) + dt.timedelta(weeks=n)
    iy, iw, _ = d.isocalendar()
    return "%04d-W%02d" % (iy, iw), d


def bounds(monday, z):
    nxt = monday + dt.timedelta(days=7)
    a = dt.datetime(monday.year, monday.month, monday.day, tzinfo=z)
    b = dt.datetime(nxt.year, nxt.month, nxt.day, tzinfo=z)
    return int(a.timestamp() * 1000), int(b.timestamp() * 1000)


def main(db_path, out, week, tz):
    z = ZoneInfo(tz)
    weeks = []
    for k in range(-11, 1):
        label, monday = week_add(week, k)
        weeks.append((label, monday) + bounds(monday, z))
    as_of, a4, a12 = weeks[-1][3], weeks[-4][2], weeks[0][2]
    c = sqlite3.connect("file:%s?mode=ro" % db_path, uri=True)
    P = dict(asof=as_of, a4=a4, a12=a12, wa=weeks[-1][2])
    has_kind = c.execute("SELECT count(*) FROM pragma_table_info('stage_history')"
                         " WHERE name='kind'").fetchone()[0]
    c.executescript("""
        CREATE TEMP TABLE periods (idx INTEGER PRIMARY KEY, a INTEGER, b INTEGER);
        CREATE TEMP VIEW transitions AS SELECT * FROM main.stage_history %s;
    """ % ("WHERE kind='transition'" if has_kind else ""))
    c.executemany("INSERT INTO periods VALUES (?,?,?)",
                  [(i, w[2], w[3]) for i, w in enumerate(weeks)] + [(12, a4, as_of)])
    c.execute("""CREATE TEMP TABLE reach AS SELECT lead_id,
        max(CASE WHEN to_stage IN ('MQL','SAL','SQL','OPPORTUNITY','WON') THEN at END) mql,
        max(CASE WHEN to_stage IN ('SAL','SQL','OPPORTUNITY','WON') THEN at END) sal,
        max(CASE WHEN to_stage IN ('SQL','OPPORTUNITY','WON') THEN at END) sql,
        max(CASE WHEN to_stage IN ('OPPORTUNITY','WON') THEN at END) opp,
        max(CASE WHEN to_stage='WON' THEN at END) won
        FROM transitions WHERE at < :asof GROUP BY lead_id""", P)
    c.execute("CREATE UNIQUE INDEX temp.reach_id ON reach(lead_id)")
    c.execute("""CREATE TEMP TABLE cohort AS SELECT p.idx idx, h.lead_id lead_id, min(h.at) e
        FROM transitions h CROSS JOIN periods p ON h.at >= p.a AND h.at < p.b
        WHERE h.to_stage='MQL' AND h.at >= :a12 AND h.at < :asof GROUP BY p.idx, h.lead_id""", P)
    c.execute("""CREATE TEMP TABLE score_asof AS SELECT lead_id, id score_id, score, grade, quadrant
        FROM (SELECT lead_id, id, score, grade, quadrant, row_number() OVER
        (PARTITION BY lead_id ORDER BY at DESC, id DESC) rn FROM scores WHERE at < :asof)
        WHERE rn = 1""", P)
    c.execute("CREATE UNIQUE INDEX temp.score_asof_id ON score_asof(lead_id)")

    wb = xlsxwriter.Workbook(out, {"constant_memory": True})
    wb.set_properties({"title": "handoff weekly conversion report " + week, "author": "handoff",
                       "created": dt.datetime.fromtimestamp(as_of / 1000)})
    f = {k: wb.add_format(v) for k, v in dict(
        title={"bold": True, "font_size": 14}, head={"bold": True, "bg_color": "#D9E1F2",
                                                    "bottom": 1, "text_wrap": True},
        int={"num_format": "#,##0"}, avg={"num_format": "#,##0.0"},
        money={"num_format": "#,##0.00"}, pct={"num_format": "0.0%"},
        date={"num_format": "yyyy-mm-dd"}, dt={"num_format": "yyyy-mm-dd hh:mm"},
        bold={"bold": True}).items()}

    def rate(ws, r, col, n, d):
        if d:
            ws.write_number(r, col, n / d, f["pct"])
        else:
            ws.write_blank(r, col, None, f["pct"])

    def header(ws, r, cols):
        for i, h in enumerate(cols):
            ws.write_string(r, i, h, f["head"])

    # Summary
    ws = wb.add_worksheet("Summary")
    per = [dict() for _ in range(13)]

    def fill(sql, fn):
        for row in c.execute(sql, P):
            fn(per[row[0]], row)
    fill("SELECT p.idx, count(*) FROM leads l CROSS JOIN periods p ON l.created_at>=p.a AND"
         " l.created_at<p.b WHERE l.created_at>=:a12 AND l.created_at<:asof GROUP BY p.idx",
         lambda d, r: d.__setitem__("Leads", r[1]))
    fill("SELECT p.idx, h.to_stage, count(DISTINCT h.lead_id) FROM transitions h CROSS JOIN periods p"
         " ON h.at>=p.a AND h.at<p.b WHERE h.at>=:a12 AND h.at<:asof GROUP BY p.idx, h.to_stage",
         lambda d, r: d.__setitem__(r[1], r[2]))
    fill("SELECT p.idx, total(o.amount) FROM outcomes o CROSS JOIN periods p ON o.occurred_at>=p.a AND"
         " o.occurred_at<p.b WHERE o.outcome='won' GROUP BY p.idx",
         lambda d, r: d.__setitem__("amount", r[1]))
    fill("SELECT p.idx, sum(o.outcome='accepted'), count(*) FROM outcomes o CROSS JOIN periods p ON"
         " o.occurred_at>=p.a AND o.occurred_at<p.b WHERE o.outcome IN ('accepted','rejected')"
         " GROUP BY p.idx", lambda d, r: d.__setitem__("acc", (r[1], r[2])))
    fill("SELECT c.idx, count(*), count(CASE WHEN r.sql>=c.e THEN 1 END) FROM cohort c LEFT JOIN"
         " reach r ON r.lead_id=c.lead_id GROUP BY c.idx",
         lambda d, r: d.__setitem__("coh", (r[2], r[1])))
    fill("SELECT p.idx, count(DISTINCT b.assignment_id) FROM sla_breaches b CROSS JOIN periods p ON"
         " b.at>=p.a AND b.at<p.b GROUP BY p.idx", lambda d, r: d.__setitem__("sla", r[1]))
    durs = [[] for _ in range(13)]
    for idx, v in c.execute("SELECT p.idx, s.accepted_at-s.assigned_at FROM assignments s JOIN"
                            " periods p ON s.assigned_at>=p.a AND s.assigned_at<p.b WHERE"
                            " s.accepted_at IS NOT NULL AND s.accepted_at<:asof", P):
        durs[idx].append(v)
    ws.write_string(0, 0, "Weekly conversion report " + week, f["title"])
    header(ws, 3, ["Metric", week, weeks[-2][0], "Delta", "4-week average"])
    counts = [("Leads", "Leads"), ("MQLs", "MQL"), ("SALs", "SAL"), ("SQLs", "SQL"),
              ("Opportunities", "OPPORTUNITY"), ("Won", "WON"), ("Won amount", "amount")]
    r = 4
    for name, key in counts + [("SLA breaches", "sla"), ("Recycled", "RECYCLED")]:
        vals = [per[i].get(key, 0) for i in (11, 10)]
        ws.write_string(r, 0, name, f["bold"])
        ws.write_number(r, 1, vals[0], f["int"])
        ws.write_number(r, 2, vals[1], f["int"])
        ws.write_number(r, 3, vals[0] - vals[1], f["int"])
        ws.write_number(r, 4, sum(per[i].get(key, 0) for i in range(8, 12)) / 4, f["avg"])
        r += 1
    for name, key in (("MQL→SQL rate", "coh"), ("SAL acceptance rate", "acc")):
        ws.write_string(r, 0, name, f["bold"])
        for col, i in ((1, 11), (2, 10), (4, 12)):
            n, d = per[i].get(key, (0, 0))
            rate(ws, r, col, n, d)
        r += 1
    ws.write_string(r, 0, "Median speed-to-lead (h)", f["bold"])
    for col, i in ((1, 11), (2, 10), (4, 12)):
        if durs[i]:
            ws.write_number(r, col, statistics.median(durs[i]) / HOUR, f["avg"])
    ws.set_column(0, 0, 28)
    ws.set_column(1, 4, 14)

    # Funnel
    ws = wb.add_worksheet("Funnel")
    header(ws, 3, ["MQL cohort", "Week starts", "MQL", "SAL", "SQL", "Opportunity", "Won",
                   "MQL→SAL", "SAL→SQL", "SQL→Opp", "Opp→Won", "MQL→SQL", "MQL→Won"])
    fun = {row[0]: row[1:] for row in c.execute(
        "SELECT c.idx, count(*), count(CASE WHEN r.sal>=c.e THEN 1 END), count(CASE WHEN"
        " r.sql>=c.e THEN 1 END), count(CASE WHEN r.opp>=c.e THEN 1 END), count(CASE WHEN"
        " r.won>=c.e THEN 1 END) FROM cohort c LEFT JOIN reach r ON r.lead_id=c.lead_id WHERE"
        " c.idx<12 GROUP BY c.idx")}
    for i, w in enumerate(weeks):
        n = fun.get(i, (0, 0, 0, 0, 0))
        ws.write_string(4 + i, 0, w[0])
        ws.write_datetime(4 + i, 1, dt.datetime(w[1].year, w[1].month, w[1].day), f["date"])
        for k in range(5):
            ws.write_number(4 + i, 2 + k, n[k], f["int"])
        for k, (a, b) in enumerate(((1, 0), (2, 1), (3, 2), (4, 3), (2, 0), (4, 0))):
            rate(ws, 4 + i, 7 + k, n[a], n[b])
    ch = wb.add_chart({"type": "column"})
    for k in range(5):
        ch.add_series({"name": ["Funnel", 3, 2 + k], "categories": ["Funnel", 4, 0, 15, 0],
                       "values": ["Funnel", 4, 2 + k, 15, 2 + k]})
    ch.set_title({"name": "MQL cohorts: stages reached"})
    ch.set_x_axis({"name": "MQL cohort week"})
    ch.set_y_axis({"name": "Leads"})
    ws.insert_chart(18, 0, ch, {"x_scale": 2, "y_scale": 1.3})

    # Sources
    ws = wb.add_worksheet("Sources")
    header(ws, 3, ["Original source", "Campaign", "Leads", "MQL", "SQL", "Won", "Won amount",
                   "Lead→MQL", "MQL→SQL", "SQL→Won", "Lead→Won"])
    r = 4
    for row in c.execute(
            "SELECT coalesce(nullif(l.original_source,''),'(none)') s,"
            " coalesce(nullif(l.original_campaign,''),'(none)') k, count(*) n, count(r.mql),"
            " count(r.sql), count(r.won), total(w.amount) FROM leads l LEFT JOIN reach r ON"
            " r.lead_id=l.id LEFT JOIN (SELECT lead_id, total(amount) amount FROM outcomes WHERE"
            " outcome='won' AND occurred_at<:asof GROUP BY lead_id) w ON w.lead_id=l.id WHERE"
            " l.created_at>=:a12 AND l.created_at<:asof GROUP BY s, k ORDER BY n DESC, s, k", P):
        ws.write_row(r, 0, row[:2])
        for k in range(4):
            ws.write_number(r, 2 + k, row[2 + k], f["int"])
        ws.write_number(r, 6, row[6], f["money"])
        rate(ws, r, 7, row[3], row[2])
        rate(ws, r, 8, row[4], row[3])
        rate(ws, r, 9, row[5], row[4])
        rate(ws, r, 10, row[5], row[2])
        r += 1

    # Lost reasons
    ws = wb.add_worksheet("Lost reasons")
    where = (" WHERE o.outcome IN ('rejected','lost') AND o.occurred_at>=:a12 AND"
             " o.occurred_at<:asof")
    rows = c.execute("SELECT coalesce(nullif(o.reason,''),'unspecified') code,"
                     " sum(o.outcome='rejected'), sum(o.outcome='lost'), sum(o.occurred_at>=:wa),"
                     " count(*) n FROM outcomes o" + where + " GROUP BY code ORDER BY n DESC,"
                     " code", P).fetchall()
    grand = sum(x[4] for x in rows)
    header(ws, 3, ["Code", "Reason", "Rejected (SAL)", "Lost (after SQL)", "Total", "This week",
                   "Share", "Cumulative share"])
    cum = 0
    for i, (code, rej, lost, wk, n) in enumerate(rows):
        cum += n
        ws.write_row(4 + i, 0, [code, code])
        for k, v in enumerate((rej, lost, n, wk)):
            ws.write_number(4 + i, 2 + k, v, f["int"])
        rate(ws, 4 + i, 6, n, grand)
        rate(ws, 4 + i, 7, cum, grand)
    if rows:
        last = 4 + len(rows) - 1
        bars = wb.add_chart({"type": "column"})
        bars.add_series({"name": "Rejected + lost", "categories": ["Lost reasons", 4, 1, last, 1],
                         "values": ["Lost reasons", 4, 4, last, 4]})
        line = wb.add_chart({"type": "line"})
        line.add_series({"name": "Cumulative share", "categories": ["Lost reasons", 4, 1, last, 1],
                         "values": ["Lost reasons", 4, 7, last, 7], "y2_axis": True,
                         "marker": {"type": "circle"}})
        bars.combine(line)
        bars.set_title({"name": "Lost and rejected reasons (Pareto)"})
        bars.set_x_axis({"name": "Reason"})
        bars.set_y_axis({"name": "Leads"})
        line.set_y2_axis({"name": "Cumulative share", "min": 0, "max": 1, "num_format": "0%"})
        ws.insert_chart(3, 9, bars)
    r = max(24, 4 + len(rows) + 2)
    for title, key in (("By original source", "coalesce(nullif(l.original_source,''),'(none)')"),
                       ("By rep", "coalesce(nullif(o.rep_id,''),'(none)')")):
        ws.write_string(r, 0, title, f["bold"])
        header(ws, r + 1, [title[3:], "Code", "Reason", "Rejected (SAL)", "Lost (after SQL)",
                           "Total"])
        r += 2
        for row in c.execute("SELECT %s k, coalesce(nullif(o.reason,''),'unspecified') code,"
                             " sum(o.outcome='rejected'), sum(o.outcome='lost'), count(*) n FROM"
                             " outcomes o LEFT JOIN leads l ON l.id=o.lead_id" % key + where +
                             " GROUP BY k, code ORDER BY k, n DESC, code", P):
            ws.write_row(r, 0, [row[0], row[1], row[1]])
            for k in range(3):
                ws.write_number(r, 3 + k, row[2 + k], f["int"])
            r += 1
        r += 1

    # Reps
    ws = wb.add_worksheet("Reps")
    header(ws, 3, ["Rep", "Name", "Assigned", "Accepted", "Acceptance rate",
                   "Median time to accept (h)", "SLA breaches", "Leads", "SQL", "SQL rate", "Won"])
    w_rep = (" WHERE s.rep_id IS NOT NULL AND s.rep_id<>'' AND s.assigned_at>=:a4 AND"
             " s.assigned_at<:asof")
    med = {}
    for rep, v in c.execute("SELECT s.rep_id, s.accepted_at-s.assigned_at FROM assignments s" +
                            w_rep + " AND s.accepted_at IS NOT NULL AND s.accepted_at<:asof", P):
        med.setdefault(rep, []).append(v)
    r = 4
    for row in c.execute(
            "SELECT s.rep_id, coalesce(max(nullif(s.rep_name,'')),''), count(*),"
            " count(CASE WHEN s.accepted_at IS NOT NULL AND s.accepted_at<:asof THEN 1 END),"
            " count(CASE WHEN EXISTS (SELECT 1 FROM sla_breaches b WHERE b.assignment_id=s.id"
            " AND b.at<:asof) THEN 1 END), count(DISTINCT s.lead_id), count(DISTINCT CASE WHEN"
            " r.sql>=s.assigned_at THEN s.lead_id END), count(DISTINCT CASE WHEN"
            " r.won>=s.assigned_at THEN s.lead_id END) FROM assignments s LEFT JOIN reach r ON"
            " r.lead_id=s.lead_id" + w_rep + " GROUP BY s.rep_id ORDER BY s.rep_id", P):
        ws.write_row(r, 0, row[:2])
        ws.write_number(r, 2, row[2], f["int"])
        ws.write_number(r, 3, row[3], f["int"])
        rate(ws, r, 4, row[3], row[2])
        if med.get(row[0]):
            ws.write_number(r, 5, statistics.median(med[row[0]]) / HOUR, f["avg"])
        ws.write_number(r, 6, row[4], f["int"])
        ws.write_number(r, 7, row[5], f["int"])
        ws.write_number(r, 8, row[6], f["int"])
        rate(ws, r, 9, row[6], row[5])
        ws.write_number(r, 10, row[7], f["int"])
        r += 1

    # Calibration
    ws = wb.add_worksheet("Calibration")
    frm = (" FROM leads l JOIN score_asof sa ON sa.lead_id=l.id LEFT JOIN reach r ON"
           " r.lead_id=l.id WHERE l.created_at>=:a12 AND l.created_at<:asof AND sa.score IS NOT"
           " NULL")
    r = 3
    for title, sql in (("By score band", "SELECT sa.score-(((sa.score%10)+10)%10) b, count(*),"
                        " count(r.mql), count(r.sql), count(r.won)" + frm + " GROUP BY b ORDER BY b"),
                       ("By quadrant", "SELECT coalesce(nullif(sa.quadrant,''),'(none)') q,"
                        " count(*), count(r.mql), count(r.sql), count(r.won)" + frm +
                        " GROUP BY q ORDER BY CASE q WHEN 'mql_now' THEN 0 WHEN 'group_offering'"
                        " THEN 1 WHEN 'nurture' THEN 2 WHEN 'never' THEN 3 ELSE 4 END, q")):
        ws.write_string(r, 0, title, f["bold"])
        header(ws, r + 1, [title[3:], "Leads", "MQL", "SQL", "Won", "MQL rate", "SQL rate",
                           "Won rate", "MQL→SQL"])
        r += 2
        for row in c.execute(sql, P):
            ws.write_string(r, 0, "%d–%d" % (row[0], row[0] + 9) if title.endswith("band")
                            else row[0])
            for k in range(4):
                ws.write_number(r, 1 + k, row[1 + k], f["int"])
            rate(ws, r, 5, row[2], row[1])
            rate(ws, r, 6, row[3], row[1])
            rate(ws, r, 7, row[4], row[1])
            rate(ws, r, 8, row[3], row[2])
            r += 1
        r += 1

    # Handoffs
    ws = wb.add_worksheet("Handoffs")
    cols = ["MQL at", "Name", "Email", "Company", "Title", "Location", "Source", "Campaign",
            "Score", "Grade", "Quadrant", "Top reason", "Owner", "Assigned at", "Status"]
    header(ws, 0, cols)
    ws.freeze_panes(1, 0)

    def local(ms):
        return dt.datetime.fromtimestamp(ms // 1000, z).replace(tzinfo=None)
    r = 1
    for row in c.execute(
            "SELECT c.e, l.first_name, l.last_name, l.email, l.company, l.title, l.city, l.state,"
            " l.country, l.original_source, l.original_campaign, sa.score, sa.grade, sa.quadrant,"
            " sc.explanation_json, a.rep_id, a.rep_name, a.queue, a.assigned_at, (SELECT"
            " h.to_stage FROM transitions h WHERE h.lead_id=c.lead_id AND h.at<:asof ORDER BY"
            " h.at DESC, h.id DESC LIMIT 1) FROM cohort c JOIN leads l ON l.id=c.lead_id LEFT"
            " JOIN score_asof sa ON sa.lead_id=c.lead_id LEFT JOIN scores sc ON sc.id=sa.score_id"
            " LEFT JOIN assignments a ON a.id=(SELECT x.id FROM assignments x WHERE"
            " x.lead_id=c.lead_id AND x.assigned_at<:asof ORDER BY x.assigned_at DESC, x.id DESC"
            " LIMIT 1) WHERE c.idx=11 ORDER BY c.e, c.lead_id", P):
        top = ""
        if row[14]:
            best = None
            for it in json.loads(row[14]):
                if isinstance(it.get("points"), int) and (best is None
                                                          or it["points"] > best["points"]):
                    best = it
            if best:
                top = "%s (%+d)%s" % (best["rule"], best["points"],
                                      ": " + best["detail"] if best.get("detail") else "")
        ws.write_datetime(r, 0, local(row[0]), f["dt"])
        ws.write_row(r, 1, [" ".join(x for x in row[1:3] if x), row[3] or "", row[4] or "",
                            row[5] or "", ", ".join(x for x in row[6:9] if x), row[9] or "",
                            row[10] or ""])
        if row[11] is not None:
            ws.write_number(r, 8, row[11], f["int"])
        ws.write_row(r, 9, [row[12] or "", row[13] or "", top,
                            row[16] or row[15] or ("queue " + row[17] if row[17] else "")])
        if row[18] is not None:
            ws.write_datetime(r, 13, local(row[18]), f["dt"])
        ws.write_string(r, 14, row[19] or "")
        r += 1
    ws.autofilter(0, 0, max(r - 1, 1), len(cols) - 1)
    wb.close()
    print("handoff_rows=%d" % (r - 1))


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    main(*sys.argv[1:])
