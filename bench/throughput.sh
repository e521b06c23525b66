#!/bin/sh
# Messages per second through a private Postfix, without and with the
# milter: BENCH_N messages (default 2000) of BENCH_SIZE bytes (2048) in
# BENCH_SESSIONS (20) parallel SMTP sessions from smtp-source, timed until
# smtp-source exits, i.e. until every message has its 250. With the milter
# each message is a ticket committed to SQLite before Postfix answers.
# Target: at least 90% of Postfix alone.
#
# smtp-source writes "Message-Id: <pid.fd.remaining@host>" itself, where
# "remaining" is its count of messages not yet started. That count drops
# before every new message and a descriptor is reused only after its
# message is done, so the ids of one run are distinct and the milter sees N
# different messages (it records a repeated Message-ID only once). The run
# without the milter counts the distinct ids the sink received, to be sure.
#
# The machine's busy CPU time is sampled around each run (/proc/stat): on a
# small machine Postfix alone already keeps every CPU busy, and then the
# ratio is mostly the extra CPU each message costs with the milter.
set -u
. tests/e2e/lib.sh
N=${BENCH_N:-2000}
S=${BENCH_SESSIONS:-20}
SIZE=${BENCH_SIZE:-2048}
RES=$(mktemp /tmp/tm-bench.XXXXXX)

busy_ticks() {
    awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat
}

# load: sends the N messages and writes the wall time, the CPU used by the
# whole machine and smtp-source's complaints (it prints one for any answer
# it did not expect) to $RES.
load() {
    b0=$(busy_ticks)
    t0=$(date +%s.%N)
    smtp-source -s "$S" -m "$N" -l "$SIZE" -f customer@acme.test -t support@example.com \
        "127.0.0.1:$SMTP_PORT" >"$E2E_DIR/source.out" 2>&1
    echo "source_rc $?" >>"$RES"
    t1=$(date +%s.%N)
    b1=$(busy_ticks)
    echo "seconds $(python3 -c 'import sys; print(float(sys.argv[2]) - float(sys.argv[1]))' "$t0" "$t1")" >>"$RES"
    echo "busy_ticks $((b1 - b0))" >>"$RES"
    echo "source_errors $(grep -c . "$E2E_DIR/source.out")" >>"$RES"
    sed 's/^/# smtp-source: /' "$E2E_DIR/source.out" | head -n 5
}

# Postfix alone; afterwards every copy is awaited in the sink to count the ids.
(
    E2E_NO_MILTER=1
    e2e_setup >/dev/null || { echo "# postfix did not start"; exit 1; }
    echo "phase alone" >>"$RES"
    load
    wait_for "$N" 60 sink_count
    echo "ids $(cat "$SINK_DIR"/* | grep -i '^Message-Id:' | sort -u | wc -l)" >>"$RES"
) || exit 1

# Postfix with a milter that only reads each message and accepts it: what
# the milter protocol costs before any work is done.
NOOP=$(mktemp /tmp/tm-noop-milter.XXXXXX)
# shellcheck disable=SC2046
cc -O2 -o "$NOOP" bench/noop-milter.c $(pkg-config --cflags --libs milter) -lpthread ||
    { echo "# cannot build bench/noop-milter.c"; exit 1; }
(
    E2E_MILTER_CMD=$NOOP
    e2e_setup >/dev/null || { echo "# postfix with the no-op milter did not start"; exit 1; }
    echo "phase noop" >>"$RES"
    load
    echo "milter_ticks $(awk '{ print $14 + $15 }' "/proc/$MILTER_PID/stat")" >>"$RES"
) || exit 1
rm -f "$NOOP"

# Postfix with the milter; the tickets are counted when smtp-source is done:
# each was committed before its 250.
(
    e2e_setup >/dev/null || { echo "# postfix with the milter did not start"; exit 1; }
    echo "phase milter" >>"$RES"
    load
    echo "milter_ticks $(awk '{ print $14 + $15 }' "/proc/$MILTER_PID/stat")" >>"$RES"
    echo "tickets $(tctl list --json | json 'len(d)')" >>"$RES"
    echo "tempfails $(grep -c 'tempfail' "$E2E_DIR/milter.log")" >>"$RES"
) || exit 1

# value PHASE KEY: KEY's value from that phase's part of $RES.
value() {
    awk -v p="$1" -v k="$2" '$1 == "phase" { cur = $2; next } cur == p && $1 == k { print $2 }' "$RES"
}
# calc EXPR: a Python expression over N and HZ (clock ticks per second).
calc() {
    python3 -c 'import sys; N = int(sys.argv[2]); HZ = int(sys.argv[3]); print(eval(sys.argv[1]))' \
        "$1" "$N" "$(getconf CLK_TCK)"
}

alone_s=$(value alone seconds)
noop_s=$(value noop seconds)
with_s=$(value milter seconds)
noop=$(calc "'%.1f' % (N / $noop_s)")
noop_ratio=$(calc "'%.1f' % (100 * $alone_s / $noop_s)")
vs_noop=$(calc "'%.1f' % (100 * $noop_s / $with_s)")
alone=$(calc "'%.1f' % (N / $alone_s)")
with=$(calc "'%.1f' % (N / $with_s)")
ratio=$(calc "'%.1f' % (100 * $alone_s / $with_s)")
cpu_alone=$(calc "'%.2f' % (1000 * $(value alone busy_ticks) / HZ / N)")
cpu_with=$(calc "'%.2f' % (1000 * $(value milter busy_ticks) / HZ / N)")
cpu_milter=$(calc "'%.2f' % (1000 * $(value milter milter_ticks) / HZ / N)")
cpu_noop=$(calc "'%.2f' % (1000 * $(value noop busy_ticks) / HZ / N)")
cpu_noop_milter=$(calc "'%.2f' % (1000 * $(value noop milter_ticks) / HZ / N)")
ids=$(value alone ids)
tickets=$(value milter tickets)
errors=$(($(value alone source_errors) + $(value noop source_errors) + $(value milter source_errors)))
tempfails=$(value milter tempfails)
rm -f "$RES"

echo "messages: $N in $S sessions of $SIZE bytes on $(nproc) CPUs; distinct Message-Ids from smtp-source: $ids"
echo "postfix alone: $alone msg/s; with a no-op milter: $noop msg/s ($noop_ratio%); with ticket-milter: $with msg/s; ratio $ratio%"
echo "CPU per message (whole machine): alone $cpu_alone ms, with the no-op milter $cpu_noop ms (of which that milter $cpu_noop_milter ms), with ticket-milter $cpu_with ms (of which the milter process $cpu_milter ms)"
echo "tickets committed with the milter: $tickets of $N (ticketctl list --json); smtp-source error lines: $errors; milter tempfails: $tempfails"
verdict=ok
[ "$tickets" = "$N" ] || verdict=MISMATCH
echo "RESULT throughput: postfix $alone msg/s, with milter $with msg/s, ratio $ratio% (target >= 90%), tickets $tickets/$N $verdict"
echo "RESULT throughput baseline: a no-op milter alone keeps $noop_ratio% ($noop msg/s); ticket-milter keeps $vs_noop% of the no-op milter's rate"
[ "$verdict" = ok ]
