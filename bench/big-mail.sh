#!/bin/sh
# The daemon's memory under many big messages at once: BENCH_SESSIONS (50)
# parallel SMTP sessions through the private Postfix, each sending one
# message of BENCH_SIZE bytes (5 MiB) to support (python smtplib,
# tests/e2e/fault-load.py), a message that got a 4xx answer sent again for
# up to BENCH_RETRY seconds (120), as a sending MTA would.
# Reports the daemon's peak resident size (VmHWM from /proc, what
# /usr/bin/time -v calls "Maximum resident set size"), its size before and
# after, the answers the senders got and how many messages were stored.
# BENCH_BUDGET, when set, is the daemon's [milter] max_buffered_bytes
# (68719476736, its largest, is practically no budget at all).
# Every accepted message must be stored once: otherwise the benchmark fails.
set -u
. tests/e2e/lib.sh
SESSIONS=${BENCH_SESSIONS:-50}
SIZE=${BENCH_SIZE:-5242880}
RETRY=${BENCH_RETRY:-120}
LOAD=tests/e2e/fault-load.py
[ -n "${BENCH_BUDGET:-}" ] && E2E_CONF_EXTRA="[milter]
max_buffered_bytes = $BENCH_BUDGET"
e2e_setup >/dev/null || { echo "# postfix with the milter did not start"; exit 1; }

value() { awk -v k="$1" '$1 == k { print $2; exit }' "$2"; }
status_kb() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$MILTER_PID/status"; }

python3 "$LOAD" send --port "$SMTP_PORT" --prefix warm --count 5 --sessions 5 \
    --out "$E2E_DIR/warm.json" >/dev/null 2>&1
sleep 1
rss_before=$(status_kb VmRSS)
hwm_before=$(status_kb VmHWM)
python3 "$LOAD" send --port "$SMTP_PORT" --prefix big --count "$SESSIONS" --sessions "$SESSIONS" \
    --size "$SIZE" --retry "$RETRY" --out "$E2E_DIR/sent.json" >"$E2E_DIR/send.out" 2>&1
sleep 2
hwm=$(status_kb VmHWM)
rss_after=$(status_kb VmRSS)
sed 's/^/# sender: /' "$E2E_DIR/send.out"

accepted=$(value accepted "$E2E_DIR/send.out")
unfinished=$(value unfinished "$E2E_DIR/send.out")
tempfails=$(value answers_4xx "$E2E_DIR/send.out")
secs=$(value seconds "$E2E_DIR/send.out")
stored=$(sql "SELECT count(DISTINCT message_id) FROM messages WHERE message_id LIKE 'big-%'")
rows=$(sql "SELECT count(*) FROM messages WHERE message_id LIKE 'big-%'")
busy=$(grep -c 'tempfail: .*buffered' "$E2E_DIR/milter.log")

echo "RESULT big-mail-rss: $SESSIONS x $((SIZE / 1024)) KiB at once on $(nproc) CPUs," \
     "budget ${BENCH_BUDGET:-default}: daemon peak RSS $hwm kB (before $rss_before kB, peak" \
     "before $hwm_before kB, after $rss_after kB)"
echo "RESULT big-mail-answers: $accepted accepted in ${secs}s, $tempfails 4xx answers on the way" \
     "($busy budget log lines), $unfinished unfinished, $stored stored ($rows rows)"
verdict=ok
[ "$unfinished" -eq 0 ] && [ "$stored" -eq "$accepted" ] && [ "$rows" -eq "$accepted" ] ||
    verdict=MISMATCH
echo "RESULT big-mail: stored $stored/$accepted, $verdict"
[ "$verdict" = ok ]
