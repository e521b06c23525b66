#!/bin/sh
# Memory and time of one hostile HTML mail, without Postfix: a staff reply
# of about 30 MiB of HTML (a command line at its top, then tags nested 200
# deep, each with 900 attributes, over and over: inside libxml2's depth and
# attribute limits, so that only the size bound stops it), read as the
# customer's text (parse) and stripped for the customer's copy (strip), each
# once under /usr/bin/time -v.
#   bench/html-memory.sh [SOURCE_TREE]
# SOURCE_TREE (default: this one) is built with bench/html-memory.c, so that
# another version can be measured the same way. Prints one RESULT line per
# path with the peak RSS and the time. Target: each under 200 MB and 5 s
# (the line says MISS, and the exit status is 1, past that).
set -u
SRC=${1:-.}
MB=${BENCH_HTML_MB:-30}
WORK=$(mktemp -d /tmp/tm-bench-html.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
DRIVER=$WORK/html-memory
PKGS="gmime-3.0 glib-2.0 libxml-2.0"
cc -std=c11 -O2 -g -D_GNU_SOURCE -I"$SRC" $(pkg-config --cflags $PKGS) -o "$DRIVER" \
    bench/html-memory.c "$SRC"/parser/*.c $(ls "$SRC"/util/lines.c 2>/dev/null) "$SRC/router/commands.c" "$SRC/router/address.c" \
    $(pkg-config --libs $PKGS) || exit 1

python3 - "$WORK/hostile.eml" "$MB" <<'PY'
import sys
path, mb = sys.argv[1], int(sys.argv[2])
attrs = "".join(" a%d=x" % i for i in range(900))
block = ("<div%s>" % attrs) * 200 + "deep" + "</div>" * 200
html = "<html><body><p>#status pending</p><p>Hello Jan,</p>"
body = []
size = len(html)
while size < mb * 1024 * 1024:
    body.append(block)
    size += len(block)
html += "".join(body) + "</body></html>\n"
open(path, "w").write(
    "From: Lead <lead@example.com>\nTo: jan@acme.test\nSubject: Re: [TKT-1] outage\n"
    "Message-ID: <hostile-html@example.com>\nMIME-Version: 1.0\n"
    "Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n" + html)
PY

status=0
for path in parse strip; do
    /usr/bin/time -v "$DRIVER" "$path" "$WORK/hostile.eml" >"$WORK/$path.out" 2>"$WORK/$path.time" ||
        { cat "$WORK/$path.time"; exit 1; }
    rss_kb=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$WORK/$path.time")
    wall=$(awk '/Elapsed \(wall clock\)/ { print $NF }' "$WORK/$path.time")
    ms=$(awk '$1 == "TIME" { print $2 }' "$WORK/$path.out")
    out=$(awk '$1 == "TIME" { print $3 }' "$WORK/$path.out")
    verdict=ok
    python3 -c "import sys; sys.exit(0 if $rss_kb < 200 * 1024 and $ms < 5000 else 1)" ||
        { verdict=MISS; status=1; }
    echo "RESULT html-memory $path: $MB MiB hostile HTML, peak RSS $((rss_kb / 1024)) MB," \
         "$ms ms in the parser ($wall wall), $out bytes out: $verdict"
done
exit "$status"
