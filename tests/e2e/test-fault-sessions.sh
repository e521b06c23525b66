#!/bin/sh
# Fault: 100 parallel SMTP sessions for a minute (FAULT_SECONDS), each
# sending message after message.  No error reaches a sender, every accepted
# message is stored, and the daemon's memory stays flat: its resident size
# (VmRSS) is reported before, during and after the load.
#
# Memory bounds: 100 sessions are 100 milter threads, each with its stack
# and parser buffers, so the first seconds of load raise the RSS once.  A
# leak is what keeps growing after that: from 10 s into the load to its end
# (some 15000 messages later) the RSS may grow by at most 10% + 4 MB, and
# after the load it may be at most 1.5 x its size before the load + 10 MB.
set -u
. tests/e2e/lib.sh
e2e_setup || { echo "not ok 1 - private Postfix with the milter starts"; exit 1; }
SECONDS_LOAD=${FAULT_SECONDS:-60}
SESSIONS=100
LOAD=tests/e2e/fault-load.py
value() { awk -v k="$1" '$1 == k { print $2; exit }' "$2"; }
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$MILTER_PID/status"; }

# A few messages first, so that "before" is the daemon at work, not fresh.
python3 "$LOAD" send --port "$SMTP_PORT" --prefix warm --count 50 --sessions 5 \
    --out "$E2E_DIR/warm.json" >/dev/null 2>&1
sleep 1
before=$(rss)

python3 "$LOAD" send --port "$SMTP_PORT" --prefix sess --seconds "$SECONDS_LOAD" \
    --sessions "$SESSIONS" --out "$E2E_DIR/sent.json" >"$E2E_DIR/send.out" 2>&1 &
sender=$!
# RSS every 2 seconds while the load runs.
(
    t=0
    while kill -0 "$sender" 2>/dev/null; do
        echo "$t $(awk '/^VmRSS:/ { print $2 }' "/proc/$MILTER_PID/status")"
        sleep 2
        t=$((t + 2))
    done
) >"$E2E_DIR/rss.txt" &
sampler=$!
wait "$sender"
wait "$sampler"
sleep 2
after=$(rss)
threads=$(awk '/^Threads:/ { print $2 }' "/proc/$MILTER_PID/status")

sed 's/^/# sender: /' "$E2E_DIR/send.out"
S=$E2E_DIR/send.out
sent=$(value sent "$S")
accepted=$(value accepted "$S")
# The RSS 10 s into the load, its peak, and at the end of the load.
early=$(awk '$1 >= 10 { print $2; exit }' "$E2E_DIR/rss.txt")
peak=$(awk 'BEGIN { m = 0 } $2 > m { m = $2 } END { print m }' "$E2E_DIR/rss.txt")
late=$(tail -n 1 "$E2E_DIR/rss.txt" | cut -d' ' -f2)
echo "# RSS kB: before $before, 10 s into the load $early, peak $peak, end of the load $late, after $after ($threads threads after)"
echo "# RSS samples (s kB): $(tr '\n' ' ' <"$E2E_DIR/rss.txt")"

ok $([ "$sent" -ge "$SESSIONS" ]; echo $?) "$SESSIONS sessions sent $sent messages in ${SECONDS_LOAD}s"
is "$(value answers_4xx "$S")" "0" "no 4xx answer"
is "$(value answers_5xx "$S")" "0" "no 5xx answer"
is "$(value lost_connections "$S")" "0" "no lost or refused connection"
is "$accepted" "$sent" "every message was accepted"

sink_ours() { grep -l -i '^Message-Id: <sess-' "$SINK_DIR"/* 2>/dev/null | wc -l; }
wait_for "$accepted" 90 sink_ours
python3 "$LOAD" check --db "$DB" --sink "$SINK_DIR" --sent "$E2E_DIR/sent.json" --prefix sess \
    >"$E2E_DIR/check.out" 2>&1
C=$E2E_DIR/check.out
is "$(value stored_distinct "$C")" "$accepted" "every accepted message is stored"
is "$(value db_duplicates "$C")" "0" "once"
is "$(value tickets_ours "$C")" "$accepted" "each with its ticket"
is "$(value in_sink_not_db "$C")" "0" "none reached the mailbox without its stored copy"
is "$(value sink_distinct "$C")" "$accepted" "every accepted message reached the support mailbox"
echo "# sent $sent accepted $accepted tempfailed $(value answers_4xx "$S") tickets $(value tickets_ours "$C")"

ok $(kill -0 "$MILTER_PID" 2>/dev/null; echo $?) "the daemon is still running"
# AddressSanitizer keeps freed memory in quarantine (256 MB) on purpose, so
# the resident size says nothing there; its LeakSanitizer checks at exit.
if nm -D "$BUILD/ticket-milter" 2>/dev/null | grep -q __asan_init ||
   nm "$BUILD/ticket-milter" 2>/dev/null | grep -q __asan_init; then
    echo "ok $((TAP_N + 1)) # SKIP memory flat: AddressSanitizer build (leaks are checked at exit)"
    echo "ok $((TAP_N + 2)) # SKIP memory after the load: AddressSanitizer build"
    TAP_N=$((TAP_N + 2))
# ThreadSanitizer's shadow memory and access history grow with every
# thread and page the daemon touches: the resident size says nothing there.
elif nm "$BUILD/ticket-milter" 2>/dev/null | grep -q ' __tsan_init$'; then
    echo "ok $((TAP_N + 1)) # SKIP memory flat: ThreadSanitizer build"
    echo "ok $((TAP_N + 2)) # SKIP memory after the load: ThreadSanitizer build"
    TAP_N=$((TAP_N + 2))
else
    ok $([ "$late" -le $((early * 11 / 10 + 4096)) ]; echo $?) \
        "memory flat under load: $late kB at the end <= 1.1 x $early kB (10 s in) + 4 MB"
    ok $([ "$after" -le $((before * 3 / 2 + 10240)) ]; echo $?) \
        "memory after the load: $after kB <= 1.5 x $before kB (before) + 10 MB"
fi

done_testing
