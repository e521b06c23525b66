#!/bin/sh
# The mail admin's ticketctl against a running daemon behind a real Postfix:
# statistics, customers, search, close and reopen, export, purge, and a
# backup taken while mail arrives, verified, pruned, and restored once the
# daemon is stopped (and refused while it runs).
set -u
. tests/e2e/lib.sh
F=tests/fixtures/e2e
# The daemon writes its counters every metrics_interval: each second here,
# so that the counter check below always runs.
E2E_CONF_EXTRA='[milter]
metrics_interval = 1'
e2e_setup || { echo "not ok 1 - private Postfix with the milter starts"; exit 1; }

tickets() { tctl list --json | json 'len(d)'; }
field() { tctl show "$1" --json | json "$2"; }
stat() { tctl stats --json | json "$1"; }

send_mail "$F/new-outage.eml"
ok $? "a customer's mail is accepted (TKT-1)"
send_mail "$F/second-question.eml"
ok $? "a second customer's mail is accepted (TKT-2)"
send_mail "$F/unknown-sender.eml"
ok $? "a stranger's mail is accepted (TKT-3)"
is "$(tickets)" "3" "three tickets"

# stats
wait_for 1 30 stat 'd["acks"]["sent"]'
out=$(tctl stats)
like "$out" '^Acknowledgements +[1-9][0-9]* sent' "stats counts the acknowledgements sent"
like "$out" '^Commit latency +p50 ' "stats has a commit latency line"
is "$(stat 'd["tickets"]["total"]')" "3" "stats --json counts three tickets"
is "$(stat 'd["outbox_depth"] >= 0 and d["sla"]["breaches"] == 0')" "true" \
    "stats --json has the outbox depth and no SLA breach"
like "$(stat 'd["ack_latency_us"]["p50"]')" '^[0-9]+$' "the ack queue-to-relay p50 is measured"
wait_for 3 10 stat 'd["messages_seen"]'
is "$(stat 'd["messages_seen"] >= 3')" "true" "the daemon's counters show the mail seen"

# customers
out=$(tctl customers)
like "$out" '^acme +1 ' "customers: acme has one open ticket"
like "$out" '^bakker +1 ' "customers: bakker has one open ticket"
like "$out" '^unknown +1 ' "customers: one open ticket of an unknown sender"
is "$(tctl customers --json | json '[c["customer"] for c in d]')" '["acme", "bakker", "unknown"]' \
    "customers --json lists the configured customers and the unknown"

# search
is "$(tctl search --json checkout | json '[h["id"] for h in d]')" '["TKT-1"]' \
    "search finds a word of a subject"
is "$(tctl search --json factuur | json '[h["id"] for h in d]')" '["TKT-2"]' \
    "search finds a word of a decoded Dutch subject and text"
like "$(tctl search 'customers cannot')" '^TKT-1 ' "search finds words of a message's text"
like "$(tctl search nosuchword)" 'no ticket has "nosuchword"' "search says when nothing matches"

# close and reopen
out=$(tctl close TKT-1)
is "$?" "0" "close TKT-1 succeeds"
like "$out" 'TKT-1: open -> closed; the customer is told' "close says what changed"
is "$(field TKT-1 'd["status"]')" "closed" "TKT-1 is closed"
like "$(field TKT-1 '[e["actor"] for e in d["events"] if e["type"] == "status"]')" \
    '^\["ticketctl:' "the change is a status event by ticketctl"
wait_for 1 20 sh -c "grep -l -E '^Subject: \[TKT-1\] Status' '$SINK_DIR'/* 2>/dev/null | wc -l"
ok $? "the customer gets the status-change notice"
like "$(tctl close TKT-1)" 'already closed' "closing again changes nothing"
tctl reopen TKT-1 >/dev/null
is "$(field TKT-1 'd["status"]')" "open" "reopen TKT-1 opens it again"
is "$(field TKT-1 'd["resolved_at"]')" "null" "and clears its resolution time"
# A ticket resolved weeks ago and reopened: the weeks it stood resolved
# are paused time, so its deadlines lie ahead and tick escalates nothing.
long_ago=$(date -u -d '30 days ago' +%Y-%m-%dT%H:%M:%SZ)
resolved=$(date -u -d '30 days ago + 1 minute' +%Y-%m-%dT%H:%M:%SZ)
db_exec "UPDATE tickets SET status = 'resolved',
    created_at = '$long_ago', first_response_at = NULL, resolved_at = '$resolved'
    WHERE id = 1; DELETE FROM timers WHERE ticket_id = 1"
last_event=$(sql 'SELECT max(id) FROM events')
escalations() {
    sql "SELECT count(*) FROM events WHERE ticket_id = 1 AND id > $last_event
         AND type IN ('sla-warning', 'sla-breach', 'stage')"
}
out=$(tctl reopen TKT-1 --quiet)
like "$out" 'TKT-1: resolved -> open$' "reopen TKT-1 from resolved, quietly"
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
is "$(field TKT-1 "d['status'] == 'open' and d['first_response_due'] > '$now'")" "true" \
    "it is open with its response deadline ahead"
like "$(tctl tick)" 'tick at ' "tick runs after the reopen"
is "$(escalations)" "0" "and escalates nothing: the time it stood resolved does not count"
is "$(sql "SELECT count(*) FROM timers WHERE ticket_id = 1 AND fired_at IS NULL
           AND due_at <= '$(date -u +%Y-%m-%dT%H:%M:%SZ)'")" "0" \
    "none of its timers lies in the past"

# --db with an explicit -c still reads the configuration
out=$(tctl --db "$DB" tick 2>&1)
is "$?" "0" "tick with -c and --db runs"
like "$out" '^tick at ' "and does not ask for -c"
out=$(tctl --db "$DB" close TKT-1)
like "$out" 'TKT-1: open -> closed; the customer is told' \
    "close with -c and --db tells the customer, as the configuration says"
tctl --db "$DB" reopen TKT-1 --quiet >/dev/null
is "$(field TKT-1 'd["status"]')" "open" "and reopen with --db opens it again"

err=$(tctl close TKT-99 2>&1)
is "$?" "1" "close of a ticket that does not exist exits 1"
is "$err" "ticketctl: no ticket TKT-99" "and says so in one sentence"

# export
out=$(tctl export --json)
is "$(printf '%s\n' "$out" | json 'len(d)')" "3" "export --json has every ticket"
is "$(printf '%s\n' "$out" | json 'd[0]["messages"][0]["text"].startswith("Since 09:40")')" "true" \
    "with the text of its messages"
like "$(printf '%s\n' "$out" | json '[e["type"] for e in d[0]["events"]]')" '"created".*"status"' \
    "and its events"
is "$(tctl export --json TKT-2 | json '[t["id"] for t in d]')" '["TKT-2"]' \
    "export --json TKT-2 has that ticket alone"
# One serialiser: export, show and list say the same of a ticket.
ticket_of() { json '{k: v for k, v in (d[0] if isinstance(d, list) else d).items() if k not in ("messages", "events")}'; }
exported=$(tctl export --json TKT-2 | ticket_of)
is "$(tctl show TKT-2 --json | ticket_of)" "$exported" "show --json and export describe the ticket alike"
is "$(tctl list --json | json '[t for t in d if t["id"] == "TKT-2"]' | ticket_of)" "$exported" \
    "and so does list --json"
is "$(tctl show TKT-2 --json | json '[e["detail"] for e in d["events"]]')" \
    "$(tctl export --json TKT-2 | json '[e["detail"] for e in d[0]["events"]]')" \
    "event details are the same objects in both"

# purge
tctl close TKT-2 >/dev/null
tomorrow=$(date -u -d tomorrow +%Y-%m-%d)
out=$(tctl purge --before "$tomorrow")
like "$out" '^purged 1 closed tickets' "purge removes the raw mail of the one closed ticket"
is "$(sql "SELECT count(*) FROM messages m JOIN tickets t ON t.id = m.ticket_id WHERE t.id = 2 AND m.raw IS NULL")" \
    "1" "TKT-2's raw message is gone"
is "$(sql "SELECT count(*) FROM messages WHERE ticket_id = 1 AND raw IS NOT NULL")" "1" \
    "the open TKT-1 keeps its raw message"
like "$(field TKT-2 '[e["type"] for e in d["events"]]')" '"created".*"status".*"purged"' \
    "TKT-2 keeps its events and records the purge"
is "$(tctl export --json TKT-2 | json 'd[0]["messages"][0]["raw_size"]')" "null" \
    "export shows the raw message as purged"
tctl purge --before "not-a-date" >/dev/null 2>&1
is "$?" "2" "purge with a bad date is a usage error"

# backup while mail arrives
BK=$E2E_DIR/backups
smtp-source -s 4 -m 300 -l 2000 -f load@acme.test -t support@example.com \
    "127.0.0.1:$SMTP_PORT" >"$E2E_DIR/load.log" 2>&1 &
LOAD_PID=$!
wait_for 20 30 tickets
start=$(date +%s%N)
out=$(tctl backup "$BK")
rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
ok $rc "backup during a load of 300 messages succeeds"
echo "# $out"
echo "# backup while the daemon writes: ${ms} ms wall"
if on_sqlite; then
    like "$out" 'integrity ok, row counts of [0-9]+ tables equal' "backup reports its verification"
else
    like "$out" 'pg_restore --list ok, the data of [0-9]+ tables' "backup reports its verification"
fi
file=$(ls "$BK"/tickets-*Z.db | head -n 1)
like "$(basename "$file")" '^tickets-[0-9]{8}T[0-9]{6}Z\.db$' "the copy is named by UTC time, to the second"
# More copies for as long as the load lasts, each in a directory of its
# own (one directory keeps only the newest of a day).
n=0
good=0
while kill -0 "$LOAD_PID" 2>/dev/null && [ "$n" -lt 20 ]; do
    n=$((n + 1))
    tctl backup "$BK/during-$n" >/dev/null && good=$((good + 1))
done
wait "$LOAD_PID"
is "$good" "$n" "every one of $n more backups during the load was verified"
wait_for 303 30 tickets
is "$(tickets)" "303" "and the daemon stored every message of the load meanwhile"
is "$(ls -a "$BK" | grep -c tmp)" "0" "no temporary file is left"

out=$(tctl verify "$file")
is "$?" "0" "verify of the copy exits 0"
like "$out" 'integrity ok, schema version [0-9]+ \(current\)' "and says it is sound and current"
printf 'garbage that is not a database at all' >"$E2E_DIR/bad.db"
err=$(tctl verify "$E2E_DIR/bad.db" 2>&1)
is "$?" "1" "verify of a damaged file exits 1"
like "$err" "bad.db: is not an SQLite database" "and names the file"

# retention: three days of backups, keep two daily and nothing else
for day in 2026-11-20 2026-11-21 2026-11-22; do
    tctl backup "$E2E_DIR/ret" --now "${day}T03:00:00Z" --daily 2 --weekly 0 --monthly 0 >/dev/null
done
is "$(ls "$E2E_DIR/ret" | tr '\n' ' ')" "tickets-20261121T030000Z.db tickets-20261122T030000Z.db " \
    "backup prunes by the retention rule"
# Three copies within a minute, each pruned to one a day: the copy just
# made is the one kept, every time; and so it is with a copy dated later.
kept=0
for t in 10:00:00 10:00:30 10:00:45; do
    out=$(tctl backup "$E2E_DIR/ret2" --json --now "2026-11-20T${t}Z" --daily 1 --weekly 0 \
        --monthly 0)
    [ -f "$(printf '%s\n' "$out" | json 'd["path"]')" ] && kept=$((kept + 1))
done
is "$kept" "3" "a backup is never pruned by its own run, within one minute"
: >"$E2E_DIR/ret2/tickets-20991231T0000Z.db"
out=$(tctl backup "$E2E_DIR/ret2" --json --now 2026-11-21T10:00:00Z --daily 1 --weekly 0 \
    --monthly 0)
ok "$([ -f "$(printf '%s\n' "$out" | json 'd["path"]')" ]; echo $?)" \
    "nor when a copy dated in the future is in the directory"

# restore
backup_tickets=$(tctl verify --json "$file" | json 'd["tickets"]')
if ! on_sqlite; then
    # PostgreSQL: ticketctl points to pg_restore, and the way ticketctl(1)
    # gives works: into an empty database, the daemon stopped.
    err=$(tctl restore "$file" 2>&1)
    is "$?" "3" "restore on PostgreSQL is refused"
    like "$err" 'pg_restore into an empty database' "and says how it is done"
    milter_stop
    psql -X -q -d "$DB" -c "CREATE DATABASE tickets_restored"
    restored=$(printf '%s\n' "$DB" | sed 's|///tickets?|///tickets_restored?|')
    pg_restore --exit-on-error --no-owner --clean --if-exists -d "$restored" "$file"
    ok $? "pg_restore of the dump into an empty database succeeds"
    sed -i "s|^database = .*|database = $(printf '%s' "$restored" | sed 's/[&|\\]/\\&/g')|" "$CONF"
    DB=$restored
    is "$(tickets)" "$backup_tickets" "the database has the dump's tickets"
    milter_start
    send_mail "$F/sev1-outage.eml"
    ok $? "the daemon takes mail again on the restored database"
    is "$(tickets)" "$((backup_tickets + 1))" "as a new ticket"
    done_testing
    exit
fi
err=$(tctl restore "$file" 2>&1)
is "$?" "4" "restore is refused while the daemon runs"
like "$err" "tickets.db is in use by process $MILTER_PID" "and says which process holds it"
milter_stop
# A failed restore says where the database it would have replaced is.
mkdir -p "$E2E_DIR/.tickets.db.restore.tmp/blocker"
err=$(tctl restore "$file" 2>&1)
is "$?" "3" "a restore that cannot write its new file fails"
like "$err" 'as it was before this restore is saved as .*tickets.db.before-restore-' \
    "and says where the database was saved"
rm -rf "$E2E_DIR/.tickets.db.restore.tmp"
# A backup of another page size than the live (WAL) database.
cp "$file" "$E2E_DIR/big-pages.db"
sqlite3 "$E2E_DIR/big-pages.db" 'PRAGMA page_size = 8192; VACUUM'
out=$(tctl restore "$E2E_DIR/big-pages.db" 2>&1)
is "$?" "0" "restore of a backup with 8192-byte pages succeeds"
is "$(sql 'PRAGMA page_size')" "8192" "and the database has its page size"
out=$(tctl restore "$file")
is "$?" "0" "restore succeeds with the daemon stopped"
like "$out" 'kept as .*tickets.db.before-restore-' "the replaced database is kept"
is "$(ls "$E2E_DIR" | grep -c 'tickets.db.before-restore-[0-9TZ]*\(-[0-9]*\)\?$')" "3" \
    "each restore kept its own copy of the database it replaced"
is "$(tickets)" "$backup_tickets" "the database has the backup's tickets"
milter_start
send_mail "$F/sev1-outage.eml"
ok $? "the daemon takes mail again on the restored database"
is "$(tickets)" "$((backup_tickets + 1))" "as a new ticket"

done_testing
