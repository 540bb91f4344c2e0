#!/usr/bin/python3
"""One source for the definitions: the workbook's Definitions sheet, the Markdown that
`handoff report --definitions-md` prints and the "Definitions" section of reports/README.md
are the same list (src/report/definitions.c). Fails, naming the first difference, when the
README was not regenerated after the list changed, or the sheet drifts from it."""
import os
import shutil
import subprocess
import sys
import tempfile

import openpyxl

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_report as tr  # noqa: E402

SRC = os.environ.get("HO_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))


def readme_section():
    with open(os.path.join(SRC, "reports", "README.md"), encoding="utf-8") as f:
        text = f.read()
    a = text.index("<!-- definitions:begin -->\n") + len("<!-- definitions:begin -->\n")
    b = text.index("<!-- definitions:end -->")
    return text[a:b]


def rows_of(md):
    lines = md.strip("\n").split("\n")
    assert lines[0] == "| sheet | term | definition |" and lines[1] == "|---|---|---|", lines[:2]
    out = []
    for line in lines[2:]:
        assert line.startswith("| ") and line.endswith(" |"), line
        cells = line[2:-2].split(" | ")
        assert len(cells) == 3, line
        out.append(tuple(cells))
    return out


def main():
    assert tr.HO_BIN, "HO_BIN is not set"
    res = subprocess.run([tr.HO_BIN, "report", "--definitions-md"], capture_output=True,
                         text=True, timeout=30)
    assert res.returncode == 0, res.stderr
    printed, readme = res.stdout, readme_section()
    if printed != readme:
        a, b = printed.splitlines(), readme.splitlines()
        diff = next((i, x, y) for i, (x, y) in enumerate(zip(a + [""] * 99, b + [""] * 99))
                    if x != y)
        raise AssertionError("reports/README.md Definitions differ from the C list at line %d:"
                             "\n  C:      %s\n  README: %s\nregenerate with `handoff report "
                             "--definitions-md`" % diff)
    defs = rows_of(printed)
    assert len(defs) >= 30, len(defs)
    # every sheet the workbook has is defined, and nothing names a sheet it does not have
    tmp = tempfile.mkdtemp(prefix="ho-report-defs-")
    try:
        db = os.path.join(tmp, "handoff.db")
        tr.store_schema(db)
        out = os.path.join(tmp, "w.xlsx")
        res = tr.run_report(db, out, "-q")
        assert res.returncode == 0, res.stderr
        wb = openpyxl.load_workbook(out)
        ws = wb["Definitions"]
        assert wb.sheetnames[-1] == "Definitions"
        assert [ws.cell(4, c).value for c in (1, 2, 3)] == ["Sheet", "Term", "Definition"]
        got = [tuple(ws.cell(r, c).value for c in (1, 2, 3)) for r in range(5, ws.max_row + 1)]
        assert got == defs, [(g, d) for g, d in zip(got, defs) if g != d][:2]
        sheets = {d[0] for d in defs} - {"All sheets"}
        assert sheets == set(wb.sheetnames) - {"Definitions"}, sheets ^ set(wb.sheetnames)
        # long definitions wrap, and their rows are tall enough for it
        for r in range(5, ws.max_row + 1):
            assert ws.cell(r, 3).alignment.wrap_text
            lines = -(-len(ws.cell(r, 3).value) // 95)
            assert (ws.row_dimensions[r].height or 15) >= 15 * lines, (r, lines)
        # the other sheets point here, not to a file the meeting does not have
        assert "Definitions sheet" in wb["Summary"].cell(2, 1).value
        print("test_report_definitions: ok (%d definitions)" % len(defs))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
