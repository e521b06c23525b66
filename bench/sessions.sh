#!/bin/sh
# The daemon under 100 parallel SMTP sessions: BENCH_SESSIONS (100)
# sessions, each sending message after message for BENCH_SECONDS (60)
# through the private Postfix (python smtplib, tests/e2e/fault-load.py).
# Reports the daemon's resident size (VmRSS) before, at the peak and after,
# its CPU time (utime + stime from /proc/PID/stat) per message and as a
# share of one CPU, and the messages per second.  Every accepted message
# must be stored once: otherwise the benchmark fails.
set -u
. tests/e2e/lib.sh
SESSIONS=${BENCH_SESSIONS:-100}
SECS=${BENCH_SECONDS:-60}
LOAD=tests/e2e/fault-load.py
e2e_setup >/dev/null || { echo "# postfix with the milter did not start"; exit 1; }

value() { awk -v k="$1" '$1 == k { print $2; exit }' "$2"; }
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$MILTER_PID/status"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$MILTER_PID/stat"; }
calc() { python3 -c 'import sys; print(eval(sys.argv[1]))' "$1"; }
HZ=$(getconf CLK_TCK)

python3 "$LOAD" send --port "$SMTP_PORT" --prefix warm --count 50 --sessions 5 \
    --out "$E2E_DIR/warm.json" >/dev/null 2>&1
sleep 1
rss_before=$(rss)
c0=$(cpu_ticks)
python3 "$LOAD" send --port "$SMTP_PORT" --prefix sess --seconds "$SECS" --sessions "$SESSIONS" \
    --out "$E2E_DIR/sent.json" >"$E2E_DIR/send.out" 2>&1 &
sender=$!
peak=0
while kill -0 "$sender" 2>/dev/null; do
    r=$(rss)
    [ "$r" -gt "$peak" ] && peak=$r
    sleep 1
done
wait "$sender"
c1=$(cpu_ticks)
sleep 2
rss_after=$(rss)
threads=$(awk '/^Threads:/ { print $2 }' "/proc/$MILTER_PID/status")
sed 's/^/# sender: /' "$E2E_DIR/send.out"

sent=$(value sent "$E2E_DIR/send.out")
accepted=$(value accepted "$E2E_DIR/send.out")
secs=$(value seconds "$E2E_DIR/send.out")
errors=$(($(value answers_4xx "$E2E_DIR/send.out") + $(value answers_5xx "$E2E_DIR/send.out") +
          $(value lost_connections "$E2E_DIR/send.out")))
stored=$(sql "SELECT count(DISTINCT message_id) FROM messages WHERE message_id LIKE 'sess-%'")
rows=$(sql "SELECT count(*) FROM messages WHERE message_id LIKE 'sess-%'")
cpu_s=$(calc "'%.1f' % (($c1 - $c0) / $HZ)")
cpu_pct=$(calc "'%.0f' % (100.0 * ($c1 - $c0) / $HZ / $secs)")
cpu_msg=$(calc "'%.2f' % (1000.0 * ($c1 - $c0) / $HZ / max($accepted, 1))")
rate=$(calc "'%.1f' % ($accepted / $secs)")

echo "sessions: $SESSIONS for ${SECS}s on $(nproc) CPUs; $sent messages sent, $accepted accepted, $errors errors, $stored stored ($rows rows)"
echo "RESULT sessions-rss: $SESSIONS sessions ${SECS}s: daemon RSS before $rss_before kB, peak $peak kB, after $rss_after kB ($threads threads after)"
echo "RESULT sessions-cpu: $SESSIONS sessions ${SECS}s: $rate msg/s, daemon CPU $cpu_s s ($cpu_pct% of one CPU), $cpu_msg ms per message"
verdict=ok
[ "$errors" -eq 0 ] && [ "$stored" -eq "$accepted" ] && [ "$rows" -eq "$accepted" ] || verdict=MISMATCH
echo "RESULT sessions: errors $errors, stored $stored/$accepted, $verdict"
[ "$verdict" = ok ]
