#!/bin/sh
# Fault: the milter is killed with SIGKILL in the middle of a load of 1000
# messages and started again.  While it is down Postfix answers 4xx
# (milter_default_action = tempfail) and the sender tries again, as a
# sending MTA would.  Afterwards every message Postfix accepted (each
# distinct Message-ID that reached the support mailbox) has exactly one
# stored message row and one ticket, and none was accepted without one.
set -u
. tests/e2e/lib.sh
e2e_setup || { echo "not ok 1 - private Postfix with the milter starts"; exit 1; }
N=1000
LOAD=tests/e2e/fault-load.py

# value KEY FILE: the number after KEY in a "key value" summary.
value() { awk -v k="$1" '$1 == k { print $2; exit }' "$2"; }
stored() { sql "SELECT count(*) FROM messages WHERE message_id LIKE 'kill-%'"; }

python3 "$LOAD" send --port "$SMTP_PORT" --prefix kill --count "$N" --sessions 10 --retry 60 \
    --out "$E2E_DIR/sent.json" >"$E2E_DIR/send.out" 2>&1 &
sender=$!

# Kill it when about a third of the load is stored, with sessions in flight.
wait_for 300 60 stored
at_kill=$(stored)
old_pid=$MILTER_PID
kill -KILL "$old_pid"
wait "$old_pid" 2>/dev/null
MILTER_PID=
echo "# SIGKILL with $at_kill of $N messages stored"
ok $([ "$at_kill" -lt "$N" ]; echo $?) "the daemon was killed in the middle of the load ($at_kill stored)"
sleep 2
milter_start
ok $? "it starts again on the same database"
ok $([ "$MILTER_PID" != "$old_pid" ] && kill -0 "$MILTER_PID" 2>/dev/null; echo $?) \
    "a new daemon runs"

wait "$sender"
sed 's/^/# sender: /' "$E2E_DIR/send.out"
accepted=$(value accepted "$E2E_DIR/send.out")
tempfailed=$(value answers_4xx "$E2E_DIR/send.out")
lost=$(value lost_connections "$E2E_DIR/send.out")
is "$(value sent "$E2E_DIR/send.out")" "$N" "the sender sent $N messages"
is "$(value rejected "$E2E_DIR/send.out")" "0" "none got a 5xx answer"
ok $([ "$((tempfailed + lost))" -gt 0 ]; echo $?) \
    "the outage was seen by the sender ($tempfailed 4xx answers, $lost lost connections)"
is "$accepted" "$N" "after retries Postfix accepted every message"

# Every accepted copy is delivered to the support mailbox (the sink).
sink_ours() { grep -l -i '^Message-Id: <kill-' "$SINK_DIR"/* 2>/dev/null | wc -l; }
wait_for "$accepted" 60 sink_ours
python3 "$LOAD" check --db "$DB" --sink "$SINK_DIR" --sent "$E2E_DIR/sent.json" --prefix kill \
    >"$E2E_DIR/check.out" 2>&1
sed 's/^/# check: /' "$E2E_DIR/check.out"
C=$E2E_DIR/check.out
tickets=$(value tickets_ours "$C")
echo "# sent $N accepted $(value sink_distinct "$C") tempfailed $tempfailed (answers to" \
    "$(value retried "$E2E_DIR/send.out") messages, sent again) lost-connections $lost" \
    "tickets $tickets stored-rows $(value stored_rows "$C")" \
    "stored-before-the-kill-and-accepted-on-retry $(value recovered_after_commit "$C")"

is "$(value sink_distinct "$C")" "$accepted" "every accepted Message-ID reached the support mailbox"
is "$(value sink_copies "$C")" "$accepted" "each exactly once"
is "$(value in_sink_not_told "$C")" "0" "and only those the sender was told were accepted"
is "$(value in_sink_not_db "$C")" "0" "no message was accepted without a stored copy"
is "$(value db_duplicates "$C")" "0" "no message is stored twice"
is "$(value stored_distinct "$C")" "$(value sink_distinct "$C")" \
    "stored messages = accepted messages"
is "$(value multi_ticket "$C")" "0" "each message belongs to one ticket"
is "$tickets" "$(value sink_distinct "$C")" "one ticket per accepted message"
is "$(value tickets_total "$C")" "$tickets" "and no other ticket was opened"
is "$(sql 'PRAGMA integrity_check')" "ok" "the database is intact"

done_testing
