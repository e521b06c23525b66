#!/bin/sh
# The HTML report in a real browser (Debian's chromium, headless): it
# renders without console errors, asks for nothing beyond its own file, has
# its three charts, every number it shows is the one of report --json, it
# prints on A4, and a subject written to attack the page shows as text.
# Then the text tables with such values: long and wide characters keep the
# columns of list and sla aligned, control characters cannot reach the
# terminal.
set -u
. tests/e2e/lib.sh
. tests/e2e/report-scenario.sh
if ! command -v chromium >/dev/null 2>&1; then
    echo "ok 1 # SKIP chromium is not installed (scripts/install-deps installs it)"
    echo "1..1"
    exit 0
fi
report_setup
report_scenario
tctl() { "$E2E_ROOT/$BUILD/ticketctl" -c "$CONF" "$@"; }

# A subject made to break out of the page, and one of wide characters from
# an address that is not ASCII either; both breach their response goal.
ESC=$(printf '\033')
customer 2026-11-16T09:00:00Z 'Mallory <mallory@acme.test>' \
    '<script>alert(1)</script><img src="http://192.0.2.7/x.png"> & "quotes"' \
    'h1@acme.test' 'Severity: 2

Please look.'
customer 2026-11-17T09:00:00Z 'Jürgen <jürgen@acme.test>' \
    "Bestellübersicht 注文一覧が表示されない ${ESC}[31mred${ESC}[0m and a subject far too long to fit any column of a terminal" \
    'h2@acme.test' 'Severity: 2

Die Übersicht fehlt.'
tick 2026-11-20T00:00:00Z
tick "$R_NOW"

tctl report --now "$R_NOW" --json >"$R_DIR/report.json"
out=$(tctl report --now "$R_NOW" --html "$R_DIR/report.html")
is "$out" "wrote $R_DIR/report.html" "report --html writes the page"
python3 "$E2E_ROOT/tests/e2e/report-browser.py" "$R_DIR/report.html" "$R_DIR/report.json" \
    >"$R_DIR/seen.json" 2>"$R_DIR/browser.log"
ok $? "chromium opens the page"
seen() { json "$1" <"$R_DIR/seen.json"; }
is "$(seen 'd["console_errors"]')" "[]" "no console error"
is "$(seen 'd["requests"]')" "[]" "no request leaves the file"
is "$(seen 'd["scripts"]')" "0" "the page has no script"
is "$(seen 'sorted(d["charts"])')" '["attainment", "backlog", "distribution"]' "the three charts are there"
is "$(seen '[d["charts"]["backlog"], d["charts"]["attainment"], d["charts"]["distribution"], d["svg"]]')" \
    "[30, 12, 10, 3]" "a bar for each day, each goal of each severity, each bucket"
is "$(seen 'd["mismatches"]')" "[]" "every number in the page is the one of report --json"
is "$(seen 'd["text_mismatches"]')" "[]" "and reads as that number"
is "$(seen 'd["numbers"] > 300')" "true" "the page's numbers were compared ($(seen 'd["numbers"]'))"
is "$(seen 'd["pdf_page_size"]')" "[595, 842]" "it prints on A4"
like "$(seen 'd["text"]')" '<script>alert\(1\)</script><img src="http://192\.0\.2\.7/x\.png"> & "quotes"' \
    "the hostile subject shows as text"
like "$(json '[b["ticket"] for b in d["breaches"]]' <"$R_DIR/report.json")" '"TKT-8", "TKT-9"' \
    "both new tickets are in the breaches"

tctl report --now "$R_NOW" --html "$R_DIR/report-nl.html" --language nl >/dev/null
tctl report --now "$R_NOW" --json --language nl >"$R_DIR/report-nl.json"
python3 "$E2E_ROOT/tests/e2e/report-browser.py" "$R_DIR/report-nl.html" "$R_DIR/report-nl.json" \
    >"$R_DIR/seen-nl.json" 2>>"$R_DIR/browser.log"
is "$(json '[d["console_errors"], d["requests"], d["mismatches"], d["text_mismatches"]]' <"$R_DIR/seen-nl.json")" \
    "[[], [], [], []]" "the Dutch page too: no error, no request, the same numbers"
like "$(json 'd["text"]' <"$R_DIR/seen-nl.json")" 'Servicerapportage' "in Dutch"

# Text tables: columns by display width.  COLUMN TEXT HEADING: the display
# column where HEADING starts on the first line, and where every other line
# has a cell starting there.
aligned() {
    python3 -c '
import sys, unicodedata
lines = sys.stdin.read().splitlines()
def col(s, n):
    w = 0
    for ch in s[:n]:
        w += 0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
    return w
def starts(line):
    out, w, prev = [], 0, " "
    for ch in line:
        if ch != " " and prev == " ":
            out.append(w)
        w += 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        prev = ch
    return out
head = lines[0]
want = col(head, head.index(sys.argv[1]))
bad = [l for l in lines[1:] if want not in starts(l)]
print("ok" if not bad else bad)' "$1"
}
is "$(tctl list | aligned CREATED)" "ok" "list: the column after a non-ASCII address lines up"
is "$(tctl sla --now "$R_NOW" | aligned SUBJECT)" "ok" "sla: the subject column lines up"
is "$(tctl sla --now "$R_NOW" | aligned RESOLUTION)" "ok" "sla: so does the resolution column"
like "$(tctl list | grep TKT-9)" 'Bestellübersicht 注文一覧が表示されない .\[31mred.\[0m and a …$' \
    "a long subject is cut with an ellipsis"
is "$(tctl list | grep -c "$ESC")" "0" "no escape character reaches the terminal"

done_testing
