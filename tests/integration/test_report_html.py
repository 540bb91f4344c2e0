#!/usr/bin/python3
"""The weekly report as one HTML page (`handoff report --html FILE`): the test_report store
(schema from the store's own migrations) plus a lead, a channel and a reason full of markup,
the workbook and the page written in one run, the page parsed with Python's html.parser and
every number in it compared with the same cell of the .xlsx read back with openpyxl (the
workbook itself is checked against an independent computation in test_report.py, and its
Summary again here). Also: no external resource and no script, every tag closed (each SVG
chart), the markup from the data shown as text, the same bytes on a second run, and a page
that cannot be written fails the run without leaving a workbook behind.
"""
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

EVIL_COMPANY = '<script>alert("x")</script> & Sons'
EVIL_NAME = "Eve <b>& Mallory"
EVIL_CHANNEL = "web<img src=x onerror=alert(1)>&co"
EVIL_REASON = "<script>steal()</script>&amp"
VOID = {"meta", "br", "img", "input", "link", "hr"}


class Page(HTMLParser):
    """Tables as lists of rows of cells (tag, text, attrs), every start/end tag checked."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors, self.tags, self.attrs = [], [], [], []
        self.tables, self.row, self.cell, self.text, self.svgs = [], None, None, [], 0

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(attrs)
        if tag == "svg":
            self.svgs += 1
        if tag not in VOID:
            self.stack.append(tag)
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th"):
            self.cell = [tag, "", dict(attrs)]

    def handle_startendtag(self, tag, attrs):  # <rect .../>: complete in itself
        self.tags.append(tag)
        self.attrs.extend(attrs)

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
        tr.check_summary(wb, tr.Expected(db))  # the workbook's numbers are true ...
        n = check_summary(page, wb)  # ... and the page shows the same ones
        check_sources(page, wb)
        check_reasons(page, wb)
        check_grid(page, wb)
        check_drilldown(page, wb)
        assert table_after(page, "Sheet")[1:] and any(
            r[1][1] == "Median assignment\u2192acceptance (h)" for r in table_after(page, "Sheet"))

        # deterministic: the same store and week give the same bytes
        html2 = os.path.join(tmp, "again.html")
        res = tr.run_report(db, os.path.join(tmp, "again.xlsx"), "-c", cfg, "--html", html2, "-q")
        assert res.returncode == 0, res.stderr
        with open(html, "rb") as f1, open(html2, "rb") as f2:
            assert f1.read() == f2.read(), "two runs differ"

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
        assert table_after(e, "Recorded at")[1:] == [] and e.svgs == 1  # trend only

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
        print("test_report_html: ok (%d KPI rows, %d tables, %d charts, %d bytes)" % (
            n, len(page.tables), page.svgs, os.path.getsize(html)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
