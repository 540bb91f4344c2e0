#!/usr/bin/python3
"""The weekly report as one HTML page (`handoff report --html FILE`): the test_report store
(schema from the store's own migrations) with test_report_quality's imports (every kind and
source, a summary that does not add up) plus a lead, a channel and a reason full of markup,
the workbook and the page written in one run, the page parsed with Python's html.parser and
every number in it compared with the same cell of the .xlsx read back with openpyxl (the
workbook itself is checked against an independent computation in test_report.py and
test_report_quality.py, and its Summary again here). One section per sheet, each compared
cell by cell: Summary (KPIs and the data freshness), Funnel, Sources, Lost reasons (the
Pareto table, its chart's bars and cumulative points, both matrices), Lost and rejected,
Reps (speed to lead), Calibration (grids, bands, quadrants), Learnings (rules with their
lifts, intervals and verdicts; sources), Handoffs, Data quality (every table, its totals and
checks), Definitions. Also: no external resource and no script, every tag closed (each SVG
chart), the markup from the data shown as text, the same bytes on a second run, and a page
that cannot be written fails the run without leaving a workbook behind.
"""
import datetime as dt
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from decimal import ROUND_HALF_UP, Decimal
from html.parser import HTMLParser

import openpyxl

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_report as tr  # noqa: E402  (the store builder and the independent Summary)
import test_report_quality as tq  # noqa: E402  (the imports of every kind)

EVIL_COMPANY = '<script>alert("x")</script> & Sons'
EVIL_NAME = "Eve <b>& Mallory"
EVIL_CHANNEL = "web<img src=x onerror=alert(1)>&co"
EVIL_REASON = "<script>steal()</script>&amp"
VOID = {"meta", "br", "img", "input", "link", "hr"}


class Row(list):
    """A table row's cells; cls = the row's class ("total", "against", ...)."""
    cls = ""


class Page(HTMLParser):
    """Tables as lists of rows of cells (tag, text, attrs), every start/end tag checked."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors, self.tags, self.attrs = [], [], [], []
        self.tables, self.row, self.cell, self.text, self.svgs = [], None, None, [], 0
        self.named, self.marks, self.sections, self.ids = {}, [], [], []
        self.svg_class = None

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(attrs)
        a = dict(attrs)
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "svg":
            self.svgs += 1
            self.svg_class = a.get("class", "")
        if tag not in VOID:
            self.stack.append(tag)
        if tag == "section":
            self.sections.append(a.get("id"))
        if tag in ("rect", "circle") and "data-v" in a:  # a chart's value mark
            self.marks.append((self.svg_class, a.get("class"), float(a["data-v"])))
        if tag == "table":
            self.tables.append([])
            if "data-table" in a:
                assert a["data-table"] not in self.named, a
                self.named[a["data-table"]] = self.tables[-1]
        elif tag == "tr":
            self.row = Row()
            self.row.cls = a.get("class", "")
        elif tag in ("td", "th"):
            self.cell = [tag, "", a]

    def handle_startendtag(self, tag, attrs):  # <rect .../>: complete in itself
        self.tags.append(tag)
        self.attrs.extend(attrs)
        a = dict(attrs)
        if tag in ("rect", "circle") and "data-v" in a:
            self.marks.append((self.svg_class, a.get("class"), float(a["data-v"])))

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append("</%s> closes %r" % (tag, self.stack[-3:]))
            return
        self.stack.pop()
        if tag in ("td", "th"):
            self.row.append(tuple(self.cell))
            self.cell = None
        elif tag == "tr":
            self.tables[-1].append(self.row)

    def handle_data(self, data):
        self.text.append(data)
        if self.cell is not None:
            self.cell[1] += data


def excel_text(v, fmt):
    """A number as the workbook's number format shows it (half away from zero)."""
    pos, neg, _zero = (fmt.split(";") + ["", ""])[:3] if ";" in fmt else (fmt, None, None)
    pct = pos.endswith("%")
    dec = len(pos.split(".")[1].rstrip("%")) if "." in pos else 0
    x = Decimal(repr(v * 100 if pct else v)).quantize(Decimal(1).scaleb(-dec), ROUND_HALF_UP)
    body = ("{:,.%df}" % dec).format(abs(x)) if "," in pos else ("{:.%df}" % dec).format(abs(x))
    sign = "-" if x < 0 else ("+" if pos.startswith("+") and x > 0 else "")
    return sign + body + ("%" if pct else "")


def table_after(page, first_header):
    for t in page.tables:
        if t and t[0] and t[0][0][1] == first_header:
            return t
    raise AssertionError("no table headed %r" % first_header)


def num(cell):
    return float(cell[2]["data-v"]) if "data-v" in cell[2] else None


def same(html_cell, xl_value, what, fmt=None):
    tr.close(num(html_cell), xl_value, what)
    if fmt and xl_value is not None:
        assert html_cell[1] == excel_text(xl_value, fmt), (what, html_cell[1], fmt, xl_value)


def same_cell(h, x, what):
    """An HTML cell shows what the workbook cell x shows: the value in its number format
    (exact in data-v), a date or time as yyyy-mm-dd [hh:mm], a text as is, a blank as empty."""
    v = x.value
    if isinstance(v, dt.datetime):
        f = "%Y-%m-%d %H:%M" if "h" in x.number_format else "%Y-%m-%d"
        assert h[1] == v.strftime(f) and num(h) is None, (what, h, v)
    elif isinstance(v, (int, float)) and not isinstance(v, bool):
        assert num(h) is not None, (what, h, v)
        same(h, v, what, x.number_format)
    elif v is None:
        assert h[1] == "" and num(h) is None, (what, h)
    else:
        assert h[1] == v and num(h) is None, (what, h[1], v)


def same_rows(rows, ws, r0, ncols, what, c0=1):
    """HTML rows = the sheet's rows r0.. (ncols cells from column c0), cell by cell."""
    for i, r in enumerate(rows):
        assert len(r) == ncols, (what, i, len(r), ncols)
        for k in range(ncols):
            same_cell(r[k], ws.cell(r0 + i, c0 + k), "%s row %d col %d" % (what, i + 1, k + 1))


def head(t):
    return [c[1] for c in t[0]]


def sheet_head(ws, row, n, c0=1):
    return [ws.cell(row, c0 + k).value for k in range(n)]


def named(page, name):
    assert name in page.named, (name, sorted(page.named))
    return page.named[name]


def check_freshness(page, wb):
    """Summary's data freshness: when each source was last imported (the imports table)."""
    ws = wb["Summary"]
    x = tr.find_row(ws, "Data freshness: last import per source") + 1
    t = named(page, "freshness")
    assert head(t) == sheet_head(ws, x, 5), head(t)
    xl, _ = tr.rows_until(ws, x + 1)
    assert len(t) - 1 == len(xl) >= 7, (len(t), len(xl))
    same_rows(t[1:], ws, x + 1, 5, "freshness")
    return len(xl)


def check_funnel(page, wb):
    ws = wb["Funnel"]
    t = named(page, "funnel")
    assert head(t) == sheet_head(ws, 4, 14), head(t)
    assert len(t) == 13
    same_rows(t[1:], ws, 5, 14, "Funnel")
    assert [r.cls for r in t[1:]] == [""] * 8 + ["young"] * 4
    assert sum(num(r[2]) for r in t[1:]) > 0  # not all zero
    # its chart: the five counts per cohort week, as the sheet's column chart
    cols = [v for svg, cls, v in page.marks if "funnel" in svg.split() and cls == "col"]
    assert cols == [float(ws.cell(5 + i, 3 + k).value) for i in range(12) for k in range(5)]


def check_sources_drill(page, wb):
    """The drill-down channel > source > campaign, its subtotals and Total, as on the sheet."""
    ws = wb["Sources"]
    x = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "Channel"
             and ws.cell(r, 2).value == "Original source")
    t = named(page, "sources-drill")
    assert head(t) == sheet_head(ws, x, 12), head(t)
    xl, total = tr.rows_until(ws, x + 1, "Total")
    assert len(t) - 1 == len(xl) + 1 >= 10, (len(t), len(xl))
    same_rows(t[1:], ws, x + 1, 12, "Sources drill-down")
    assert [r.cls == "total" for r in t[1:]] == [
        str(r[0]).endswith(" total") for r in xl] + [True]
    return len(xl)


def check_pareto(page, wb):
    """The Pareto chart: one bar per reason = the table's Total, one point per reason = its
    Cumulative share, in the table's order, ending at 100 %."""
    ws = wb["Lost reasons"]
    xl, _ = tr.rows_until(ws, tr.find_row(ws, "Code") + 1, "Total")
    bars = [v for svg, cls, v in page.marks if "pareto" in svg and cls == "bar"]
    cum = [v for svg, cls, v in page.marks if "pareto" in svg and cls == "cum"]
    assert len(bars) == len(cum) == len(xl) >= 5, (len(bars), len(cum), len(xl))
    for b, c, x in zip(bars, cum, xl):
        tr.close(b, x[4], "pareto bar %s" % x[0])
        tr.close(c, x[7], "pareto cumulative %s" % x[0])
    tr.close(cum[-1], 1.0, "pareto ends at 100%")
    assert bars == sorted(bars, reverse=True)


def check_matrix(page, ws, title, name):
    t = named(page, name)
    x0 = tr.find_row(ws, title) + 1
    hd = [ws.cell(x0, c).value for c in range(3, ws.max_column + 1)]
    hd = hd[:hd.index("Total") + 1]
    assert head(t)[1:] == hd, (head(t), hd)
    xl, _ = tr.rows_until(ws, x0 + 1)
    assert len(t) - 1 == len(xl) >= 5
    for i, r in enumerate(t[1:]):
        assert r[0][1] == xl[i][1]
    same_rows([r[1:] for r in t[1:]], ws, x0 + 1, len(hd), name, c0=3)


def check_reps(page, wb):
    """Speed to lead per rep (named as what it is: assignment -> acceptance)."""
    ws = wb["Reps"]
    t = named(page, "reps")
    want = sheet_head(ws, 4, 11)
    want[5] = "Median assignment\u2192acceptance (h)"  # the sheet: "Median time to accept (h)"
    assert head(t) == want, head(t)
    xl, _ = tr.rows_until(ws, 5)
    assert len(t) - 1 == len(xl) >= 3, (len(t), len(xl))
    same_rows(t[1:], ws, 5, 11, "Reps")
    assert all(num(r[5]) is not None for r in t[1:])  # every rep has a median here
    return len(xl)


def check_calibration_tables(page, wb):
    ws = wb["Calibration"]
    for title in ("By score band", "By quadrant"):
        t = named(page, title)
        x = tr.find_row(ws, title) + 1
        assert head(t) == sheet_head(ws, x, 9), head(t)
        xl, _ = tr.rows_until(ws, x + 1)
        assert len(t) - 1 == len(xl) >= 3, (title, len(t), len(xl))
        same_rows(t[1:], ws, x + 1, 9, title)
    # the chart: SQL rate and Won rate per score band (the sheet's chart's columns G and H)
    x = tr.find_row(ws, "By score band") + 1
    xl, _ = tr.rows_until(ws, x + 1)
    cols = [v for svg, cls, v in page.marks if "bands" in svg.split() and cls == "col"]
    assert len(cols) == 2 * len(xl)
    for i, r in enumerate(xl):
        tr.close(cols[2 * i], r[6] or 0, "band %s SQL rate" % r[0])
        tr.close(cols[2 * i + 1], r[7] or 0, "band %s Won rate" % r[0])
    quads = [r[0][1] for r in named(page, "By quadrant")[1:]]
    assert not {"mql_now", "nurture", "never", "group_offering"} & set(quads), quads


def check_learnings(page, wb):
    """Every rule's and every source's lifts, sample size, interval and verdict; the rules
    whose lift contradicts their points are marked."""
    ws = wb["Learnings"]
    out = []
    for name, first in (("rules", "Rule"), ("sources", "Channel")):
        t = named(page, name)
        x = tr.find_row(ws, first)
        assert head(t) == sheet_head(ws, x, 11), head(t)
        xl, _ = tr.rows_until(ws, x + 1)
        assert len(t) - 1 == len(xl) >= 3, (name, len(t), len(xl))
        same_rows(t[1:], ws, x + 1, 11, "Learnings " + name)
        assert sum(num(r[5]) is not None for r in t[1:]) >= 2  # lifts there
        out.append(len(xl))
    for r in named(page, "rules")[1:]:
        against = r[10][1].startswith(("CONTRADICTED", "NOT SUPPORTED"))
        assert (r.cls == "against") == against and \
            ("bad" in r[10][2].get("class", "")) == against, r
    return out


def check_handoffs(page, wb):
    """This week's handed-off leads: every row, display names (no stage or quadrant codes)."""
    ws = wb["Handoffs"]
    t = named(page, "handoffs")
    assert head(t) == sheet_head(ws, 1, 15), head(t)
    assert len(t) - 1 == ws.max_row - 1 >= 5, (len(t), ws.max_row)
    same_rows(t[1:], ws, 2, 15, "Handoffs")
    codes = {"NEW", "MQL", "SAL", "SQL", "OPPORTUNITY", "WON", "LOST", "RECYCLED",
             "DISQUALIFIED", "mql_now", "nurture", "never", "group_offering"}
    assert not codes & {c[1] for r in t[1:] for c in (r[10], r[14])}
    return len(t) - 1


def check_quality(page, wbv):
    """Data quality: every table, its Total row (the SUM formulas' values) and its Check."""
    ws = wbv["Data quality"]
    titles = [k[0] for k in tq.KINDS] + ["Skipped and quarantined rows by reason",
                                        "Sales outcomes recorded in %s, by feedback source" % tr.WEEK]
    for title in titles:
        t = named(page, title)
        hdr, rows, total = tq.table_at(ws, title)
        assert head(t) == sheet_head(ws, hdr, len(t[0])), (title, head(t))
        assert len(t) - 1 == len(rows) + 1 and t[-1].cls == "total", (title, len(t), len(rows))
        same_rows(t[1:], ws, hdr + 1, len(t[0]), title)
    checks = [r[-1] for k in tq.KINDS for r in named(page, k[0])[1:]]
    assert {c[1] for c in checks} == {"ok", "MISMATCH"}
    assert all(("bad" in c[2].get("class", "")) == (c[1] == "MISMATCH") for c in checks)
    t = named(page, "Feedback waiting for its lead")
    for r in t[1:]:
        x = tr.find_row(ws, r[0][1])
        same_cell(r[1], ws.cell(x, 4), r[0][1])
    assert len(t) - 1 >= 1
    return len(titles) + 1


def add_markup(db):
    """A lead of the report week with markup in its name, company and channel, rejected for a
    reason full of markup: the page must show them as text."""
    a, b = tr.week_bounds(tr.WEEK)
    c = sqlite3.connect(db)
    cur = c.execute("INSERT INTO leads (email, first_name, last_name, company, original_source,"
                    " original_campaign, source_channel, created_at, updated_at) VALUES"
                    " (?,?,?,?,?,?,?,?,?)", ("eve@evil.example", EVIL_NAME, "<i>", EVIL_COMPANY,
                                              "<src>", "c&c", EVIL_CHANNEL, a + 1000, a + 1000))
    lid = cur.lastrowid
    c.execute("INSERT INTO outcomes (lead_id, event_id, rep_id, outcome, reason, occurred_at)"
              " VALUES (?,?,?,?,?,?)", (lid, "evil-1", "r1", "rejected", EVIL_REASON, a + 5000))
    c.commit()
    c.close()


def check_summary(page, wb):
    ws = wb["Summary"]
    hdr = tr.find_row(ws, "Metric")
    t = table_after(page, "Metric")
    assert [c[1] for c in t[0][:5]] == [ws.cell(hdr, k).value for k in range(1, 6)], t[0]
    rows = [r for r in t[1:]]
    xl = [r for r in range(hdr + 1, ws.max_row + 1) if ws.cell(r, 6).value
          and ws.cell(r, 2).data_type == "n"]
    assert len(rows) == len(xl) >= 17, (len(rows), len(xl))
    for r, x in zip(rows, xl):
        assert r[0][1] == ws.cell(x, 1).value, (r[0], ws.cell(x, 1).value)
        for k in range(4):
            cell = ws.cell(x, 2 + k)
            same(r[1 + k], cell.value, "%s col %d" % (r[0][1], k), cell.number_format)
    return len(rows)


def check_sources(page, wb):
    ws = wb["Sources"]
    hdr = tr.find_row(ws, "Channel")
    xl, total = tr.rows_until(ws, hdr + 1, "Total")
    t = table_after(page, "Channel")
    assert [r[0][1] for r in t[1:]] == [r[0] for r in xl] + ["Total"]
    assert EVIL_CHANNEL.capitalize() in [r[0][1] for r in t[1:]] or \
        EVIL_CHANNEL in [r[0][1] for r in t[1:]]
    xl.append([ws.cell(total, c).value for c in range(1, 13)])
    for r, x in zip(t[1:], xl):
        for k in range(9):
            same(r[1 + k], x[3 + k], "Sources %s col %d" % (x[0], k))
    assert int(num(t[-1][1])) == sum(int(num(r[1])) for r in t[1:-1])


def check_reasons(page, wb):
    ws = wb["Lost reasons"]
    hdr = tr.find_row(ws, "Code")
    xl, total = tr.rows_until(ws, hdr + 1, "Total")
    t = table_after(page, "Code")
    assert [r[0][1] for r in t[1:-1]] == [r[0] for r in xl]
    assert EVIL_REASON in [r[0][1] for r in t[1:-1]]
    for r, x in zip(t[1:-1], xl):
        assert r[1][1] == x[1] and r[8][1] == x[8], (r, x)  # label, owner of the fix
        for k in range(6):
            same(r[2 + k], x[2 + k], "reason %s col %d" % (x[0], k))
    split = table_after(page, "Marketing's to fix")
    for r in split:
        x = tr.find_row(ws, r[0][1], col=2)
        same(r[1], ws.cell(x, 5).value, r[0][1])
    # reason x channel: same keys, same cells, heat-mapped backgrounds
    t = table_after(page, "Reason")
    x0 = tr.find_row(ws, "Reason \u00d7 channel (rejected + lost, 12 weeks)") + 1
    head = [ws.cell(x0, c).value for c in range(3, ws.max_column + 1)]
    head = head[:head.index("Total") + 1]
    assert [c[1] for c in t[0][1:]] == head, (t[0], head)
    xl, _ = tr.rows_until(ws, x0 + 1)
    assert len(t) - 1 == len(xl)
    for r, x in zip(t[1:], xl):
        assert r[0][1] == x[1]
        for k in range(len(head)):
            same(r[1 + k], x[2 + k], "matrix %s %s" % (x[0], head[k]))
    styles = {c[2].get("style") for r in t[1:] for c in r[1:-1]}
    assert "background:#ffffff" in styles and len(styles) > 3, styles


def check_grid(page, wb):
    ws = wb["Calibration"]
    for title in ("Leads: fit \u2193 interest \u2192", "Reached SQL: fit \u2193 interest \u2192"):
        t = table_after(page, title)
        x0 = tr.find_row(ws, title)
        assert [c[1] for c in t[0]] == [ws.cell(x0, c).value for c in range(1, 7)]
        for k, r in enumerate(t[1:]):
            assert r[0][1] == ws.cell(x0 + 1 + k, 1).value
            for i in range(5):
                v = ws.cell(x0 + 1 + k, 2 + i).value
                if isinstance(v, str):  # "k of n"
                    assert r[1 + i][1] == v and num(r[1 + i]) is None
                else:
                    same(r[1 + i], v, "grid %s %d/%d" % (title[:5], k, i))
        assert any("b" in c[2].get("class", "").split() for r in t[1:] for c in r[1:])


def check_drilldown(page, wb):
    ws = wb["Lost and rejected"]
    xl, _ = tr.rows_until(ws, 5)
    t = table_after(page, "Recorded at")
    assert len(t) - 1 == len(xl) > 3, (len(t), len(xl))
    for r, x in zip(t[1:], xl):
        assert r[0][1] == x[0].strftime("%Y-%m-%d %H:%M"), (r[0], x[0])
        assert [c[1] for c in r[1:]] == [x[k] or "" for k in range(1, 13)], (r, x)
    mine = [r for r in t[1:] if r[6][1] == EVIL_COMPANY]
    assert len(mine) == 1 and mine[0][2][1] == EVIL_REASON and mine[0][4][1] == EVIL_NAME + " <i>"


def check_page(path, markup=True):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    page = Page()
    page.feed(text)
    page.close()
    assert not page.errors, page.errors[:5]
    assert page.stack == [], page.stack  # every element closed, <html> last
    assert page.svgs >= (2 if markup else 1) and page.tags.count("svg") == page.svgs
    # self-contained: no script, no external reference of any kind
    assert "script" not in page.tags and "iframe" not in page.tags and "link" not in page.tags
    for name, value in page.attrs:
        assert not name.startswith("on"), name
        if name in ("src", "href", "xlink:href", "action"):
            assert value.startswith("#"), (name, value)
    assert "url(" not in text and "@import" not in text and "http" not in text
    # one section per workbook sheet, in its order, each reachable from the page's links
    assert page.sections == ["summary", "funnel", "sources", "reasons", "lost", "reps",
                             "calibration", "learnings", "handoffs", "quality", "definitions"]
    assert len(page.ids) == len(set(page.ids))
    links = [v[1:] for n, v in page.attrs if n == "href"]
    assert sorted(links) == sorted(page.sections), links
    assert "@media print" in text and "@page" in text
    if not markup:
        return page
    # the markup from the data is text on the page, never markup
    body = "".join(page.text)
    for s in (EVIL_COMPANY, EVIL_REASON, EVIL_NAME):
        assert s in body, s
    assert "&lt;script&gt;" in text and "&amp;" in text
    return page


def main():
    assert tr.HO_BIN, "HO_BIN is not set"
    tmp = tempfile.mkdtemp(prefix="ho-report-html-")
    try:
        db = os.path.join(tmp, "handoff.db")
        tr.build_db(db)
        tq.fill_imports(db)
        add_markup(db)
        conf = os.path.join(tmp, "conf")
        os.mkdir(conf)
        with open(os.path.join(conf, "handoff.yaml"), "w") as f:
            f.write("data_dir: %s\nworkers:\n  report:\n    timezone: %s\n" % (tmp, tr.TZ))
        with open(os.path.join(conf, "reasons.yaml"), "w") as f:
            f.write(tr.reasons_yaml())
        cfg = os.path.join(conf, "handoff.yaml")
        out, html = os.path.join(tmp, "w47.xlsx"), os.path.join(tmp, "w47.html")
        res = tr.run_report(db, out, "-c", cfg, "--html", html, "-q")
        assert res.returncode == 0, res.stderr
        assert res.stdout.strip().endswith(" html=%s" % html), res.stdout
        assert sorted(os.listdir(tmp)) == sorted(["handoff.db", "conf", "w47.xlsx", "w47.html"]
                                                 + [n for n in os.listdir(tmp)
                                                    if n.startswith("handoff.db-")])
        page = check_page(html)
        wb = openpyxl.load_workbook(out)
        wbv = openpyxl.load_workbook(out, data_only=True)  # the formulas' values
        tr.check_summary(wb, tr.Expected(db))  # the workbook's numbers are true ...
        n = check_summary(page, wb)  # ... and the page shows the same ones
        nfresh = check_freshness(page, wbv)
        check_funnel(page, wbv)
        check_sources(page, wb)
        check_sources_drill(page, wbv)
        check_reasons(page, wb)
        check_pareto(page, wbv)
        check_matrix(page, wbv["Lost reasons"], "Reason \u00d7 rep (rejected + lost, 12 weeks)",
                     "by-rep")
        check_grid(page, wb)
        check_calibration_tables(page, wbv)
        check_drilldown(page, wb)
        nreps = check_reps(page, wbv)
        nlearn = check_learnings(page, wbv)
        nhand = check_handoffs(page, wbv)
        ndq = check_quality(page, wbv)
        assert table_after(page, "Sheet")[1:] and any(
            r[1][1] == "Median assignment\u2192acceptance (h)" for r in table_after(page, "Sheet"))

        # deterministic: the same store and week give the same bytes
        html2 = os.path.join(tmp, "again.html")
        res = tr.run_report(db, os.path.join(tmp, "again.xlsx"), "-c", cfg, "--html", html2, "-q")
        assert res.returncode == 0, res.stderr
        with open(html, "rb") as f1, open(html2, "rb") as f2:
            assert f1.read() == f2.read(), "two runs differ"
        # recording for the page changes nothing in the workbook: the same bytes without it
        plain = os.path.join(tmp, "plain.xlsx")
        res = tr.run_report(db, plain, "-c", cfg, "-q")
        assert res.returncode == 0, res.stderr
        with open(out, "rb") as f1, open(plain, "rb") as f2:
            assert f1.read() == f2.read(), "the workbook differs with --html"

        # an empty store: every section still there and well-formed, zeros and empty rates
        empty = os.path.join(tmp, "empty.db")
        tr.store_schema(empty)
        res = tr.run_report(empty, os.path.join(tmp, "e.xlsx"), "--html",
                            os.path.join(tmp, "e.html"), "-q")
        assert res.returncode == 0, res.stderr
        e = check_page(os.path.join(tmp, "e.html"), markup=False)
        kpi = table_after(e, "Metric")
        assert kpi[1][0][1] == "Leads" and kpi[1][1][1] == "0", kpi[1]
        rate_row = next(r for r in kpi if r[0][1] == "MQL\u2192SQL rate")
        assert [c[1] for c in rate_row[1:5]] == ["", "", "", ""], rate_row
        assert table_after(e, "Recorded at")[1:] == [] and e.svgs == 2  # trend and funnel

        # a store from before the imports tables: the page says what it cannot show, as the
        # workbook does
        old = os.path.join(tmp, "old.db")
        tr.build_db(old)
        tq.make_old(old)
        res = tr.run_report(old, os.path.join(tmp, "o.xlsx"), "--html",
                            os.path.join(tmp, "o.html"), "-q")
        assert res.returncode == 0, res.stderr
        o = check_page(os.path.join(tmp, "o.html"), markup=False)
        body = "".join(o.text)
        assert "(this store records no imports yet)" in body and "records no imports yet (its " \
            "schema predates the imports table)" in body
        assert "freshness" not in o.named and "Lead files (CRM exports, form submissions)" in \
            o.named and "reps" in o.named and "handoffs" in o.named

        # a page that cannot be written fails the run, names the file, leaves nothing behind
        bad_out = os.path.join(tmp, "bad.xlsx")
        bad = os.path.join(tmp, "no-such-dir", "w.html")
        res = tr.run_report(db, bad_out, "-c", cfg, "--html", bad, "-q")
        assert res.returncode == 1 and bad in res.stderr, (res.returncode, res.stderr)
        assert not os.path.exists(bad_out)
        assert not [n for n in os.listdir(tmp) if ".tmp-" in n], os.listdir(tmp)
        h = subprocess.run([tr.HO_BIN, "report", "--help"], capture_output=True, text=True,
                           timeout=30)
        assert "--html FILE" in h.stdout
        print("test_report_html: ok (%d KPI rows, %d freshness rows, %d reps, %d rules, %d "
              "sources, %d handoffs, %d quality tables; %d tables, %d charts, %d bytes)" % (
                  n, nfresh, nreps, nlearn[0], nlearn[1], nhand, ndq, len(page.tables),
                  page.svgs, os.path.getsize(html)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
