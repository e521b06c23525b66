#!/bin/sh
# Fault: long readers while mail comes in.  A reader holds one read
# transaction open for several seconds (reading every stored message, raw
# bytes and all) and ticketctl reads the whole database again and again,
# while a load of 400 messages arrives in 10 sessions.  No 4xx or 5xx
# reaches the sender, and every message is stored.
set -u
. tests/e2e/lib.sh
e2e_setup || { echo "not ok 1 - private Postfix with the milter starts"; exit 1; }
N=400
HOLD=8
LOAD=tests/e2e/fault-load.py
value() { awk -v k="$1" '$1 == k { print $2; exit }' "$2"; }

# Some mail in the database first, so that the readers have work.
python3 "$LOAD" send --port "$SMTP_PORT" --prefix warm --count 100 --sessions 5 \
    --out "$E2E_DIR/warm.json" >"$E2E_DIR/warm.out" 2>&1
is "$(value accepted "$E2E_DIR/warm.out")" "100" "100 messages to start with"

# The long reader: one read transaction, held for $HOLD seconds.
python3 - "$DB" "$HOLD" "$E2E_DIR/reader" >"$E2E_DIR/reader.out" 2>&1 <<'PY' &
import sqlite3, sys, time
db, hold, flag = sys.argv[1], float(sys.argv[2]), sys.argv[3]
c = sqlite3.connect(db, isolation_level=None, timeout=30)
c.execute("BEGIN")
first = c.execute("SELECT count(*) FROM messages").fetchone()[0]
open(flag, "w").close()
t0 = time.time()
passes = 0
while time.time() - t0 < hold:
    for row in c.execute("SELECT m.*, t.* FROM messages m JOIN tickets t ON t.id = m.ticket_id"):
        pass
    passes += 1
    time.sleep(0.2)
last = c.execute("SELECT count(*) FROM messages").fetchone()[0]
held = time.time() - t0
c.execute("COMMIT")
after = c.execute("SELECT count(*) FROM messages").fetchone()[0]
print("held %.1f" % held)
print("passes %d" % passes)
print("snapshot_first %d" % first)
print("snapshot_last %d" % last)
print("after %d" % after)
PY
reader=$!
wait_for 1 10 sh -c "[ -e '$E2E_DIR/reader' ] && echo 1"

# ticketctl as a second reader, in a loop: export --json where it exists.
if tctl export --json >/dev/null 2>&1; then
    read_cmd="export --json"
else
    read_cmd="list --json"
fi
(
    n=0
    fails=0
    while [ ! -e "$E2E_DIR/load-done" ]; do
        # shellcheck disable=SC2086
        tctl $read_cmd >/dev/null 2>>"$E2E_DIR/tctl.err" || fails=$((fails + 1))
        n=$((n + 1))
    done
    echo "runs $n"
    echo "fails $fails"
) >"$E2E_DIR/tctl.out" 2>&1 &
tctl_loop=$!

python3 "$LOAD" send --port "$SMTP_PORT" --prefix busy --count "$N" --sessions 10 \
    --out "$E2E_DIR/sent.json" >"$E2E_DIR/send.out" 2>&1
load_running=$(kill -0 "$reader" 2>/dev/null && echo yes || echo no)
touch "$E2E_DIR/load-done"
wait "$reader"
wait "$tctl_loop"
sed 's/^/# sender: /' "$E2E_DIR/send.out"
sed 's/^/# reader: /' "$E2E_DIR/reader.out"
sed 's/^/# ticketctl '"$read_cmd"': /' "$E2E_DIR/tctl.out"
S=$E2E_DIR/send.out
R=$E2E_DIR/reader.out

is "$load_running" "yes" "the read transaction was still open when the load was done"
ok $(python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= float(sys.argv[2]) else 1)' \
    "$(value held "$R")" "$HOLD"; echo $?) "the reader held it for $(value held "$R") s"
is "$(value snapshot_last "$R")" "$(value snapshot_first "$R")" "its view did not change meanwhile"
is "$(value sent "$S")" "$N" "the sender sent $N messages"
is "$(value answers_4xx "$S")" "0" "no 4xx answer reached the sender"
is "$(value answers_5xx "$S")" "0" "no 5xx answer reached the sender"
is "$(value lost_connections "$S")" "0" "no connection was lost"
is "$(value accepted "$S")" "$N" "all $N were accepted"
is "$(value fails "$E2E_DIR/tctl.out")" "0" "ticketctl $read_cmd never failed ($(value runs "$E2E_DIR/tctl.out") runs)"
is "$(grep -c 'tempfail' "$E2E_DIR/milter.log")" "0" "the daemon logged no tempfail"

sink_ours() { grep -l -i '^Message-Id: <busy-' "$SINK_DIR"/* 2>/dev/null | wc -l; }
wait_for "$N" 60 sink_ours
python3 "$LOAD" check --db "$DB" --sink "$SINK_DIR" --sent "$E2E_DIR/sent.json" --prefix busy \
    >"$E2E_DIR/check.out" 2>&1
C=$E2E_DIR/check.out
is "$(value stored_distinct "$C")" "$N" "every message is stored"
is "$(value db_duplicates "$C")" "0" "once"
is "$(value tickets_ours "$C")" "$N" "each with its ticket"
is "$(value sink_distinct "$C")" "$N" "and every one reached the support mailbox"
is "$(value in_sink_not_db "$C")" "0" "none without its stored copy"
echo "# sent $N accepted $(value accepted "$S") tempfailed $(value answers_4xx "$S")" \
    "tickets $(value tickets_ours "$C") (reader held ${HOLD}s+, ticketctl $read_cmd $(value runs "$E2E_DIR/tctl.out") runs)"

done_testing
