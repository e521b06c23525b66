#!/bin/sh
# Parser speed on one core, without Postfix: every fixture of
# tests/fixtures/parser parsed BENCH_REPEAT times (default 20), plus a
# typical support mail of about 50 KB (text, its HTML alternative and a
# small attachment), written here. Prints messages and MB per second over
# the corpus, the slowest fixture and the time for the 50 KB mail.
# Target: the 50 KB mail well under a millisecond.
# Then the hostile shapes of bench/hostile-mail.py (100 and 200 KB
# Subjects of encoded-word fragments in several variants, a From of
# 10,000 addresses, References of 20,000 ids, header blocks of 1 MB, a
# forwarded message with GMime's quadratic shapes, ...): one RESULT line
# each with the fastest of 3 parses. Target: every one within 100 ms.
set -u
REPEAT=${BENCH_REPEAT:-20}
WORK=$(mktemp -d /tmp/tm-bench-parser.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
TIMER=$WORK/parser-time
cc -std=c11 -O2 -D_GNU_SOURCE -I. $(pkg-config --cflags gmime-3.0 glib-2.0 libxml-2.0) -o "$TIMER" \
    fuzz/parser-time.c parser/*.c util/lines.c $(pkg-config --libs gmime-3.0 glib-2.0 libxml-2.0) || exit 1

python3 - "$WORK/typical-50k.eml" <<'PY'
import base64, sys
para = ("Since this morning the order screen shows an error when we save a delivery. "
        "We restarted the application server and cleared the cache, without result. ") * 3
text = "Hello support,\n\n" + "\n\n".join(para for _ in range(45)) + "\n\nKind regards,\nAnna\n"
html = "<html><body>" + "".join("<p>%s</p>" % para for _ in range(45)) + "</body></html>"
att = base64.encodebytes(bytes(range(256)) * 24).decode()
msg = ("From: Anna de Vries <anna@klant.example>\nTo: support@help.example\n"
       "Subject: Order screen error\nDate: Wed, 05 Mar 2025 09:30:00 +0100\n"
       "Message-ID: <typical-50k@klant.example>\nMIME-Version: 1.0\n"
       "Content-Type: multipart/mixed; boundary=\"m\"\n\n--m\n"
       "Content-Type: multipart/alternative; boundary=\"a\"\n\n--a\n"
       "Content-Type: text/plain; charset=utf-8\n\n" + text + "\n--a\n"
       "Content-Type: text/html; charset=utf-8\n\n" + html + "\n--a--\n--m\n"
       "Content-Type: application/octet-stream; name=\"trace.bin\"\n"
       "Content-Disposition: attachment; filename=\"trace.bin\"\n"
       "Content-Transfer-Encoding: base64\n\n" + att + "--m--\n")
open(sys.argv[1], "w").write(msg)
PY

"$TIMER" -n "$REPEAT" tests/fixtures/parser/*.eml >"$WORK/corpus.out" || exit 1
"$TIMER" -n 200 "$WORK/typical-50k.eml" >"$WORK/typical.out" || exit 1
read -r _ files bytes secs <<EOT
$(grep '^TOTAL' "$WORK/corpus.out")
EOT
slowest=$(grep '^TIME ' "$WORK/corpus.out" | sort -k2 -g | tail -n 1)
slow_ms=$(echo "$slowest" | awk '{ print $2 }')
slow_name=$(basename "$(echo "$slowest" | awk '{ print $4 }')")
typ_ms=$(awk '$1 == "TIME" { print $2 }' "$WORK/typical.out")
typ_kb=$(awk '$1 == "TIME" { printf "%.0f", $3 / 1024 }' "$WORK/typical.out")
rate=$(python3 -c "import sys; print('%.0f' % ($files / $secs))")
mbs=$(python3 -c "import sys; print('%.1f' % ($bytes / 1048576 / $secs))")
echo "corpus: $files fixtures, $bytes bytes, one pass in $secs s (mean of $REPEAT passes)"
echo "RESULT parser: $rate msg/s, $mbs MB/s over the fixtures; slowest $slow_name $slow_ms ms; typical ${typ_kb} KB mail $typ_ms ms (target < 1 ms)"
status=0
python3 -c "import sys; sys.exit(0 if $typ_ms < 1.0 else 1)" || status=1

python3 bench/hostile-mail.py "$WORK/hostile" || exit 1
"$TIMER" -n 3 "$WORK"/hostile/*.eml >"$WORK/hostile.out" || exit 1
over=0
while read -r tag ms bytes file; do
    [ "$tag" = TIME ] || continue
    name=$(basename "$file" .eml)
    kb=$(( bytes / 1024 ))
    verdict=ok
    if python3 -c "import sys; sys.exit(0 if $ms <= 100.0 else 1)"; then :; else
        verdict=OVER
        over=$((over + 1))
    fi
    echo "RESULT parser-hostile $name (${kb} KB): $ms ms per message (target <= 100 ms) $verdict"
done <"$WORK/hostile.out"
[ "$over" -eq 0 ] || status=1

# The corpus the last fuzz run of make check ended with (test-fuzz-parser
# keeps it): every input, the fastest of 3, against the same 100 ms.
CORPUS=${BUILD:-build}/fuzz/corpus
if [ -d "$CORPUS" ]; then
    find "$CORPUS" -type f -print0 | xargs -0 "$TIMER" -n 3 >"$WORK/corpus.out" 2>&1
    n=$(grep -c '^TIME ' "$WORK/corpus.out")
    slowest=$(grep '^TIME ' "$WORK/corpus.out" | sort -k2 -g | tail -n 1)
    over=$(awk '$1 == "TIME" && $2 > 100' "$WORK/corpus.out" | wc -l)
    verdict=ok
    [ "$over" -eq 0 ] || { verdict=OVER; status=1; }
    echo "RESULT parser-fuzz-corpus: $n inputs, $over over 100 ms; slowest $(echo "$slowest" |
        awk '{ printf "%s ms (%d KB) %s", $2, $3 / 1024, $4 }') $verdict"
else
    echo "RESULT parser-fuzz-corpus: no corpus in $CORPUS (make check's fuzz run keeps one) skipped"
fi
exit "$status"
