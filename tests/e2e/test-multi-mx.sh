#!/bin/sh
# Two MX hosts, one PostgreSQL database: two private Postfix instances,
# each with its own ticket-milter, the same config and secret file, one
# database (a private cluster, tests/pg-cluster) and one sink.
#   1. load spread over both hosts: one ticket and one acknowledgement
#      each, every acknowledgement sent once (counted in the sink by its
#      In-Reply-To);
#   2. the same messages (same Message-IDs, same bytes) to both hosts at
#      once: one ticket and one acknowledgement each;
#   3. one daemon killed with SIGKILL in the middle of a load while it
#      holds claimed outbox rows it could not send (its relay takes the
#      connection and never answers): nothing lost, nothing twice, and
#      those rows sent by the other daemon once their lease ([outbound]
#      lease = 5 here) has run out;
#   4. PostgreSQL stopped during a load: both hosts answer 451, and after
#      it is back every retried message is stored once.
# Needs the PostgreSQL server (skipped without it).
set -u
E2E_DATABASE=pg
E2E_RELAY=sink
E2E_OUTBOUND_EXTRA="lease = 5"
export E2E_DATABASE E2E_RELAY E2E_OUTBOUND_EXTRA
. tests/e2e/lib.sh
if ! command -v pg_config >/dev/null 2>&1 && ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then
    echo "1..0 # SKIP no PostgreSQL server installed"
    exit 0
fi
e2e_setup || { echo "not ok 1 - private Postfix with the milter starts"; exit 1; }
e2e_second_host || { echo "not ok 1 - the second host starts"; exit 1; }
ok 0 "two hosts on one PostgreSQL database (ports $SMTP_PORT and $SMTP_PORT_B)"

N1=${MULTI_MX_SPREAD:-1000}
N2=${MULTI_MX_SAME:-100}
N3=${MULTI_MX_KILL:-300}
N4=${MULTI_MX_PGDOWN:-300}
LOAD=tests/e2e/multi-mx-load.py
RUN=$(date +%s)

value() { awk -v k="$1" '$1 == k { print $2; exit }' "$2"; }
# The acknowledgements in the sink for PREFIX: all, and distinct.
acks_all() { grep -h -i "^In-Reply-To: <$1-" "$SINK_DIR"/* 2>/dev/null | wc -l; }
acks_distinct() { grep -h -i "^In-Reply-To: <$1-" "$SINK_DIR"/* 2>/dev/null | sort -u | wc -l; }
stored() { sql "SELECT count(*) FROM messages WHERE message_id LIKE '$1-%'"; }
stored_distinct() { sql "SELECT count(DISTINCT message_id) FROM messages WHERE message_id LIKE '$1-%'"; }
tickets() { sql "SELECT count(DISTINCT ticket_id) FROM messages WHERE message_id LIKE '$1-%'"; }
tickets_opened() { sql "SELECT count(*) FROM tickets WHERE subject LIKE '$1 message %'"; }
ack_rows() {
    sql "SELECT count(*) FROM outbox o JOIN messages m ON m.ticket_id = o.ticket_id
         WHERE o.kind = 'ack' AND m.message_id LIKE '$1-%'"
}
claimant_of() { sed -n 's/.*outbox: claims rows as \([^ ]*\) .*/\1/p' "$1" | tail -n 1; }

# check PREFIX COUNT [resent]: the database and the sink after a load of
# COUNT distinct messages.  With "resent" an acknowledgement may have
# been sent twice: the database went away between the relay's 250 and the
# outcome's commit, and the outbox is at-least-once (outbound/dispatch.c);
# how many is reported.
check() {
    wait_for "$2" 120 acks_distinct "$1"
    # Time for a second copy of any acknowledgement to arrive.
    sleep 3
    is "$(stored "$1")" "$2" "$1: $2 messages stored"
    is "$(stored_distinct "$1")" "$2" "$1: each once"
    is "$(tickets "$1")" "$2" "$1: $2 tickets"
    is "$(tickets_opened "$1")" "$2" "$1: and no other ticket opened"
    is "$(ack_rows "$1")" "$2" "$1: one acknowledgement queued per ticket"
    is "$(acks_distinct "$1")" "$2" "$1: every acknowledgement reached the customer"
    if [ "${3:-}" = resent ]; then
        echo "# $1: $(( $(acks_all "$1") - $2 )) acknowledgements sent again (their outcome" \
            "was not committed when the database went away)"
    else
        is "$(acks_all "$1")" "$2" "$1: each exactly once"
    fi
}

# ---- 1. spread ----
start=$(date +%s)
python3 "$LOAD" --ports "$SMTP_PORT,$SMTP_PORT_B" --prefix spread --count "$N1" --run "$RUN" \
    --sessions 4 --retry 60 >"$E2E_DIR/spread.out" 2>&1
sed 's/^/# spread: /' "$E2E_DIR/spread.out"
is "$(value accepted "$E2E_DIR/spread.out")" "$N1" "spread: all $N1 accepted"
check spread "$N1"
echo "# spread: $N1 messages in $(( $(date +%s) - start )) s; acknowledgements sent per daemon:"
sql "SELECT claimed_by, count(*) FROM outbox WHERE status = 'sent' GROUP BY 1 ORDER BY 1" |
    sed 's/^/#   daemon /'
ok $([ "$(sql "SELECT count(DISTINCT claimed_by) FROM outbox WHERE status = 'sent'")" -eq 2 ]
     echo $?) "spread: both daemons sent acknowledgements"

# ---- 2. the same messages to both hosts ----
python3 "$LOAD" --ports "$SMTP_PORT,$SMTP_PORT_B" --prefix same --count "$N2" --run "$RUN" \
    --to-all --sessions 4 --retry 60 >"$E2E_DIR/same.out" 2>&1
sed 's/^/# same: /' "$E2E_DIR/same.out"
is "$(value accepted "$E2E_DIR/same.out")" "$((2 * N2))" \
    "same: both hosts accepted each of the $N2 messages"
check same "$N2"

# ---- 3. one daemon killed while it holds claimed rows ----
# B's relay takes the connection and never answers: what B claims, it
# cannot send.
BLACKHOLE_PORT=$(free_port)
python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64); held = []
while True:
    c, _ = s.accept(); held.append(c)' "$BLACKHOLE_PORT" >/dev/null 2>&1 &
BLACKHOLE_PID=$!
milter_stop_b
cp "$CONF_B" "$B_DIR/conf.normal"
sed -i "s|^smtp_url = .*|smtp_url = smtp://127.0.0.1:$BLACKHOLE_PORT|" "$CONF_B"
milter_start_b
ok $? "kill: the second daemon runs again, with a relay that never answers"
B_CLAIMANT=$(claimant_of "$B_DIR/milter.log")
A_CLAIMANT=$(claimant_of "$E2E_DIR/milter.log")
held() {
    sql "SELECT count(*) FROM outbox WHERE status = 'pending' AND claimed_by = '$B_CLAIMANT'"
}
python3 "$LOAD" --ports "$SMTP_PORT,$SMTP_PORT_B" --prefix kill --count "$N3" --run "$RUN" \
    --sessions 4 --retry 120 >"$E2E_DIR/kill.out" 2>&1 &
sender=$!
wait_for 1 60 held
HELD=$(sql "SELECT string_agg(id::text, ',') FROM outbox
            WHERE status = 'pending' AND claimed_by = '$B_CLAIMANT'")
kill -KILL "$MILTER_PID_B"
wait "$MILTER_PID_B" 2>/dev/null
MILTER_PID_B=
n_held=$(echo "$HELD" | tr ',' '\n' | grep -c .)
echo "# kill: SIGKILL with $(stored kill) of $N3 stored, $n_held outbox rows claimed by it, unsent"
ok $([ "$n_held" -gt 0 ]; echo $?) "kill: the daemon died holding claimed rows ($n_held)"
taken() {
    sql "SELECT count(*) FROM outbox WHERE id IN ($HELD) AND status = 'sent'
         AND claimed_by = '$A_CLAIMANT'"
}
wait_for "$n_held" 30 taken
is "$(taken)" "$n_held" "kill: the other daemon sent them once their lease ran out"
# B back, with its relay: its Postfix's deferred mail and the sender's
# retries get through again.
cp "$B_DIR/conf.normal" "$CONF_B"
milter_start_b
ok $? "kill: the second daemon starts again"
kill "$BLACKHOLE_PID" 2>/dev/null
wait "$BLACKHOLE_PID" 2>/dev/null
wait "$sender"
sed 's/^/# kill: /' "$E2E_DIR/kill.out"
is "$(value accepted "$E2E_DIR/kill.out")" "$N3" "kill: after retries all $N3 accepted"
check kill "$N3"

# ---- 4. PostgreSQL stopped during a load ----
python3 "$LOAD" --ports "$SMTP_PORT,$SMTP_PORT_B" --prefix pgdown --count "$N4" --run "$RUN" \
    --sessions 2 --retry 120 >"$E2E_DIR/pgdown.out" 2>&1 &
sender=$!
wait_for 50 60 stored pgdown
at_stop=$(stored pgdown)
"$E2E_ROOT/tests/pg-cluster" stop "$PG_DIR" >>"$E2E_DIR/pg-cluster.log" 2>&1
ok $? "pgdown: PostgreSQL stopped during the load ($at_stop of $N4 stored)"
probe() {
    swaks --server 127.0.0.1 --port "$1" --from probe@acme.test --to support@example.com \
        --header "Subject: probe" --timeout 30 >"$E2E_DIR/probe-$1.txt" 2>&1
    grep -q '^<\*\* *451 4\.3\.0' "$E2E_DIR/probe-$1.txt"
}
probe "$SMTP_PORT"
ok $? "pgdown: the first host answers 451 4.3.0"
grep '451' "$E2E_DIR/probe-$SMTP_PORT.txt" | head -n 1 | sed 's/^/#   /'
probe "$SMTP_PORT_B"
ok $? "pgdown: the second host answers 451 4.3.0"
sleep 3
"$E2E_ROOT/tests/pg-cluster" again "$PG_DIR" >>"$E2E_DIR/pg-cluster.log" 2>&1
ok $? "pgdown: PostgreSQL is back"
wait "$sender"
sed 's/^/# pgdown: /' "$E2E_DIR/pgdown.out"
is "$(value accepted "$E2E_DIR/pgdown.out")" "$N4" "pgdown: after retries all $N4 accepted"
ok $([ "$(value answers_451 "$E2E_DIR/pgdown.out")" -gt 0 ]; echo $?) \
    "pgdown: the sender saw 451 answers while it was down"
check pgdown "$N4" resent
is "$(sql "SELECT count(*) FROM outbox WHERE status = 'pending'")" "0" "the outbox is empty"

done_testing
