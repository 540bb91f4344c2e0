#!/usr/bin/python3
"""The weekly workbook opens in LibreOffice: headless conversion to PDF succeeds, every sheet
prints one page wide on the pages it should (counted per sheet from the PDF's page footers,
"<sheet> ... Page n of m"), the first page renders to a PNG, and a LibreOffice round trip to
.xlsx keeps the numbers and the Pareto chart's line on its secondary axis (so LibreOffice
understood the combined chart, not just skipped it).

Needs soffice (Debian: libreoffice-calc-nogui) and pdftotext/pdftoppm (poppler-utils), both
installed by deploy/install-deps.sh --test. A missing tool is a failure with that message,
never a skip."""
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

import openpyxl

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_report as tr  # noqa: E402  (the known-outcome database and the checks)
import test_report_quality as tq  # noqa: E402  (+ imports, flags: a full Data quality sheet)


def soffice():
    for name in ("soffice", "libreoffice"):
        path = shutil.which(name)
        if path:
            return path
    raise AssertionError("soffice not found: install libreoffice-calc-nogui "
                         "(deploy/install-deps.sh --test)")


# Most pages each sheet may take for the known-outcome database (printed landscape, one page
# wide). A sheet that stops fitting the width pages across and blows these.
MAX_PAGES = {"Summary": 1, "Funnel": 1, "Sources": 2, "Lost reasons": 2,
             "Lost and rejected": 1, "Reps": 1, "Calibration": 1, "Learnings": 1, "Handoffs": 1,
             "Data quality": 1, "Definitions": 2}


def tool(name):
    path = shutil.which(name)
    if not path:
        raise AssertionError("%s not found: install poppler-utils (deploy/install-deps.sh --test)"
                             % name)
    return path


def pages_per_sheet(pdf, sheets):
    """Sheet name of each page, from its footer ("&A" left, "Page &P of &N" right)."""
    info = subprocess.run([tool("pdfinfo"), pdf], capture_output=True, text=True, timeout=60)
    n = int([l.split()[1] for l in info.stdout.splitlines() if l.startswith("Pages:")][0])
    counts = {}
    for i in range(1, n + 1):
        text = subprocess.run([tool("pdftotext"), "-f", str(i), "-l", str(i), "-layout", pdf,
                               "-"], capture_output=True, text=True, timeout=60).stdout
        foot = [l for l in text.splitlines() if "Page %d of %d" % (i, n) in l]
        assert foot, (i, text[-300:])
        name = foot[-1].split("Page ")[0].strip()
        assert name in sheets, (i, name)
        counts[name] = counts.get(name, 0) + 1
    return counts, n


def convert(exe, src, fmt, outdir, profile):
    res = subprocess.run([exe, "--headless", "--norestore", "--nologo",
                          "-env:UserInstallation=file://" + profile,
                          "--convert-to", fmt, "--outdir", outdir, src],
                         capture_output=True, text=True, timeout=240)
    assert res.returncode == 0, (res.returncode, res.stdout, res.stderr)
    assert "Error" not in res.stderr, res.stderr
    return res


def main():
    exe = soffice()
    tmp = tempfile.mkdtemp(prefix="ho-report-lo-")
    try:
        db = os.path.join(tmp, "handoff.db")
        tr.build_db(db)
        tq.fill_imports(db)
        out = os.path.join(tmp, "week.xlsx")
        res = tr.run_report(db, out, "-q")
        assert res.returncode == 0, res.stderr
        profile = os.path.join(tmp, "lo-profile")

        convert(exe, out, "pdf", os.path.join(tmp, "pdf"), profile)
        pdf = os.path.join(tmp, "pdf", "week.pdf")
        with open(pdf, "rb") as f:
            head = f.read(5)
        assert head == b"%PDF-", head
        assert os.path.getsize(pdf) > 20000, os.path.getsize(pdf)  # 10 sheets and 5 charts
        wb0 = openpyxl.load_workbook(out)
        counts, total = pages_per_sheet(pdf, wb0.sheetnames)
        assert set(counts) == set(wb0.sheetnames), counts  # every sheet printed
        for sheet, n in counts.items():
            assert n <= MAX_PAGES[sheet], (sheet, n, counts)
        # pages come in sheet order (the footer names them), the Summary first
        png = os.path.join(tmp, "page")
        subprocess.run([tool("pdftoppm"), "-r", "50", "-f", "1", "-l", "1", "-png", pdf, png],
                       check=True, timeout=120)
        first = [f for f in os.listdir(tmp) if f.startswith("page") and f.endswith(".png")]
        assert len(first) == 1, first
        with open(os.path.join(tmp, first[0]), "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"

        convert(exe, out, "xlsx:Calc MS Excel 2007 XML", os.path.join(tmp, "lo"), profile)
        back = os.path.join(tmp, "lo", "week.xlsx")
        wb1 = openpyxl.load_workbook(back)
        assert wb1.sheetnames == wb0.sheetnames
        for sheet in ("Summary", "Funnel", "Reps"):
            a, b = wb0[sheet], wb1[sheet]
            for row in range(1, a.max_row + 1):
                for col in range(1, a.max_column + 1):
                    x, y = a.cell(row, col).value, b.cell(row, col).value
                    if isinstance(x, float) or isinstance(y, float):
                        assert abs((x or 0) - (y or 0)) < 1e-9, (sheet, row, col, x, y)
                    else:
                        assert x == y, (sheet, row, col, x, y)
        # LibreOffice understood the print setup too (what a printed copy looks like)
        for sheet in wb0.sheetnames:
            assert wb1[sheet].page_setup.orientation == "landscape", sheet
        assert wb1["Funnel"].print_title_rows == wb0["Funnel"].print_title_rows == "$4:$4"
        assert wb1["Handoffs"].print_title_rows == "$1:$1", wb1["Handoffs"].print_title_rows
        with zipfile.ZipFile(back) as z:
            charts = [z.read(n).decode() for n in z.namelist()
                      if n.startswith("xl/charts/chart") and n.endswith(".xml")]
        assert len(charts) == 5, len(charts)
        combo = [c for c in charts if "<c:lineChart>" in c and "<c:barChart>" in c]  # Pareto
        assert len(combo) == 1, "LibreOffice lost the Pareto line"
        assert 'c:crosses val="max"' in combo[0]
        print("test_report_libreoffice: ok (%s, %d pages: %s)" % (exe, total, counts))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
