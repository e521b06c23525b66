#!/bin/sh
# Ingest rate on a database of one million tickets against an empty one.
# The big database is made by bench/gen-tickets.py (BENCH_TICKETS tickets,
# default 1000000: three years of history, ~2 messages, ~7 events, an ack
# and 6 timers each, some 6 GB) after the daemon has created the schema.
# Then BENCH_N messages (2000) of BENCH_SIZE bytes (2048) go through the
# private Postfix in BENCH_SESSIONS (20) sessions from smtp-source, as in
# bench/throughput.sh, BENCH_ROUNDS times (3) on each database; the rate is
# messages over the seconds until smtp-source is done (each message
# committed before its 250).  Target: the rate with a million tickets is
# within 20% of the rate on the empty database.
#
# Generating takes some minutes; with BENCH_MILLION_DB=FILE the generated
# database is kept in FILE and copied from there on the next run.
set -u
. tests/e2e/lib.sh
N=${BENCH_N:-2000}
S=${BENCH_SESSIONS:-20}
SIZE=${BENCH_SIZE:-2048}
ROUNDS=${BENCH_ROUNDS:-3}
TICKETS=${BENCH_TICKETS:-1000000}
RES=$(mktemp /tmp/tm-bench.XXXXXX)

now() { date +%s.%N; }
calc() { python3 -c 'import sys; print(eval(sys.argv[1]))' "$1"; }
tickets() { sql 'SELECT count(*) FROM tickets'; }

# Both databases run at once, each behind its own private Postfix and
# daemon, and the rounds alternate between them, so that whatever else the
# machine does weighs on both alike.  env_save/env_use switch lib.sh's
# variables from one to the other.
VARS="E2E_DIR SINK_DIR CONF DB SMTP_PORT OUT_PORT MILTER_PORT MILTER_SOCKET SINK_PORT MILTER_PID SINK_PID"
env_save() { for v in $VARS; do eval "${1}_$v=\${$v:-}"; done; }
env_use() { for v in $VARS; do eval "$v=\${${1}_$v:-}"; done; export $VARS; }
teardown_both() {
    for e in million empty; do
        env_use "$e"
        [ -n "$E2E_DIR" ] && e2e_teardown
    done
    rm -f "$RES"
}

# one PHASE ROUND: a run of smtp-source; its rate, the daemon's CPU per
# message and the tickets it added go to $RES.
one() {
    before=$(tickets)
    c0=$(awk '{ print $14 + $15 }' "/proc/$MILTER_PID/stat")
    t0=$(now)
    smtp-source -s "$S" -m "$N" -l "$SIZE" -f customer@acme.test -t support@example.com \
        "127.0.0.1:$SMTP_PORT" >"$E2E_DIR/source.out" 2>&1
    t1=$(now)
    c1=$(awk '{ print $14 + $15 }' "/proc/$MILTER_PID/stat")
    added=$(($(tickets) - before))
    errors=$(grep -c . "$E2E_DIR/source.out")
    rate=$(calc "'%.1f' % ($N / ($t1 - $t0))")
    cpu=$(calc "'%.3f' % (1000.0 * ($c1 - $c0) / $(getconf CLK_TCK) / $N)")
    echo "$1 round $2: $rate msg/s, $added tickets added, $errors smtp-source error lines," \
        "milter CPU $cpu ms/msg, RSS $(awk '/^VmRSS:/ { print $2 }' "/proc/$MILTER_PID/status") kB"
    echo "$1 rate $rate" >>"$RES"
    echo "$1 cpu $cpu" >>"$RES"
    echo "$1 added $added" >>"$RES"
    echo "$1 errors $errors" >>"$RES"
}

# A million tickets.
e2e_setup >/dev/null || { echo "# postfix with the milter did not start"; exit 1; }
env_save million
trap teardown_both EXIT
milter_stop
if [ -n "${BENCH_MILLION_DB:-}" ] && [ -s "$BENCH_MILLION_DB" ]; then
    echo "# copying $BENCH_MILLION_DB"
    rm -f "$DB" "$DB-wal" "$DB-shm"
    cp "$BENCH_MILLION_DB" "$DB"
else
    echo "# generating $TICKETS tickets"
    g0=$(now)
    python3 bench/gen-tickets.py --tickets "$TICKETS" "$DB" 2>"$E2E_DIR/gen.err" | sed 's/^/# generated: /'
    [ -s "$DB" ] || { tail -n 5 "$E2E_DIR/gen.err"; exit 1; }
    echo "# generated in $(calc "'%.0f' % ($(now) - $g0)") s"
    if [ -n "${BENCH_MILLION_DB:-}" ]; then
        cp "$DB" "$BENCH_MILLION_DB"
    fi
fi
echo "# database: $(sql 'SELECT count(*) FROM tickets') tickets," \
    "$(sql 'SELECT count(*) FROM messages') messages, $(du -m "$DB" | cut -f1) MB"
s0=$(now)
milter_start || exit 1
echo "# the daemon took $(calc "'%.2f' % ($(now) - $s0)") s to listen on it"
echo "million_tickets $(tickets)" >>"$RES"
env_save million

# The empty database.
e2e_setup >/dev/null || { echo "# postfix with the milter did not start"; exit 1; }
env_save empty
trap teardown_both EXIT

r=1
while [ "$r" -le "$ROUNDS" ]; do
    env_use empty
    one empty "$r"
    env_use million
    one million "$r"
    r=$((r + 1))
done

# avg PHASE KEY: the mean of KEY's values for PHASE.
avg() { awk -v p="$1" -v k="$2" '$1 == p && $2 == k { s += $3; n++ } END { printf "%.2f", n ? s / n : 0 }' "$RES"; }
sum() { awk -v p="$1" -v k="$2" '$1 == p && $2 == k { s += $3 } END { print s + 0 }' "$RES"; }
empty=$(avg empty rate)
million=$(avg million rate)
cpu_empty=$(avg empty cpu)
cpu_million=$(avg million cpu)
ratio=$(calc "'%.1f' % (100.0 * $million / $empty)")
have=$(awk '$1 == "million_tickets" { print $2 }' "$RES")
errors=$(($(sum empty errors) + $(sum million errors)))
added=$(($(sum empty added) + $(sum million added)))
want=$((2 * ROUNDS * N))

verdict=ok
[ "$added" -eq "$want" ] && [ "$errors" -eq 0 ] || verdict=MISMATCH
[ "$verdict" = ok ] && [ "$(calc "int($ratio >= 80)")" = 0 ] && verdict=SLOW
echo "RESULT million: empty database $empty msg/s, $have tickets $million msg/s," \
    "ratio $ratio% (target >= 80%), tickets $added/$want, smtp-source errors $errors, $verdict"
echo "RESULT million-cpu: daemon CPU per message: empty database $cpu_empty ms, $have tickets $cpu_million ms"
[ "$verdict" = ok ]
