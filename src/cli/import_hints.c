/* import_hints.c - why a file is not importable text, and what to do; see import_hints.h */
#include <stdio.h>
#include <string.h>

#include "cli/import_hints.h"

/* UTF-16 without a byte-order mark: ASCII text with a NUL in every other byte. */
static bool s_utf16_no_bom(const unsigned char *h, size_t n)
{
    size_t even = 0, odd = 0;
    for (size_t i = 0; i + 1 < n; i += 2) {
        even += h[i] == 0;
        odd += h[i + 1] == 0;
    }
    size_t pairs = n / 2;
    return pairs >= 4 && (even * 10 >= pairs * 9 || odd * 10 >= pairs * 9);
}

bool ho_import_hint_bytes(const unsigned char *h, size_t n, const char *path, char *out, size_t cap)
{
    if ((n >= 2 && ((h[0] == 0xFF && h[1] == 0xFE) || (h[0] == 0xFE && h[1] == 0xFF))) ||
        s_utf16_no_bom(h, n)) {
        snprintf(out, cap,
                 "%s is UTF-16 text (Excel's \"Unicode Text\" or a Windows export); convert it "
                 "to UTF-8 first: iconv -f UTF-16 -t UTF-8 '%s' > converted.csv",
                 path, path);
        return true;
    }
    if (n >= 4 && memcmp(h, "PK\x03\x04", 4) == 0) {
        snprintf(out, cap,
                 "%s is a ZIP archive (an .xlsx workbook?), not CSV: save the sheet as \"CSV "
                 "UTF-8\" or run libreoffice --headless --convert-to csv '%s'",
                 path, path);
        return true;
    }
    if (n >= 4 && memcmp(h, "\xD0\xCF\x11\xE0", 4) == 0) {
        snprintf(out, cap,
                 "%s is a legacy Excel .xls workbook, not CSV: save the sheet as \"CSV UTF-8\" "
                 "or run libreoffice --headless --convert-to csv '%s'",
                 path, path);
        return true;
    }
    if (n >= 2 && h[0] == 0x1F && h[1] == 0x8B) {
        snprintf(out, cap, "%s is gzip-compressed: zcat '%s' | handoff import - --source PROFILE",
                 path, path);
        return true;
    }
    size_t ctl = 0;
    for (size_t i = 0; i < n; i++) {
        if (h[i] == 0) {
            ctl = n; /* text never holds a NUL */
            break;
        }
        ctl += h[i] < 0x20 && h[i] != '\t' && h[i] != '\r' && h[i] != '\n';
    }
    if (n > 0 && ctl * 20 > n) {
        snprintf(out, cap,
                 "%s is binary data, not a CSV or JSON Lines export (its bytes are not shown)",
                 path);
        return true;
    }
    return false;
}

bool ho_import_hint_file(const char *path, char *out, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return false;
    }
    unsigned char head[4096];
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    return ho_import_hint_bytes(head, n, path, out, cap);
}

bool ho_import_hint_header(const char *const *cols, size_t n, char *out, size_t cap)
{
    if (n != 1 || !cols[0] || !strchr(cols[0], ';')) {
        return false;
    }
    snprintf(out, cap,
             "the header is one column holding ';': a semicolon-separated export (Excel in a "
             "European locale). Save it with commas, or read it with a profile whose options "
             "say delimiter: \";\" (copy deploy/profiles/NAME.yaml, add `options: {delimiter: "
             "\";\"}` and pass --profile-file)");
    return true;
}
