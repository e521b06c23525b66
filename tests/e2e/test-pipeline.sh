#!/bin/sh
# The pipeline through a real Postfix: a support mail becomes a ticket
# before it is accepted, the delivered copy carries the tag, nothing is
# recorded twice, and every failure answers the sender as it should.
# Postfix reaches the milter over TCP here (inet:), the form for a milter
# on another host; the other tests use the unix socket of a deployment.
set -u
E2E_SOCKET=inet
. tests/e2e/lib.sh
F=tests/fixtures/e2e

e2e_setup || { echo "not ok 1 - private Postfix with the milter starts"; exit 1; }

tickets() { tctl list --json | json 'len(d)'; }
messages() { sql 'SELECT count(*) FROM messages'; }

# a. A new support mail is accepted and is ticket TKT-1.
send_mail "$F/new-outage.eml"
ok $? "a new support mail is accepted"
like "$(cat "$E2E_DIR/swaks.txt")" '<-  250 2\.0\.0 Ok: queued' "Postfix answers 250 after the milter"
list=$(tctl list --json)
is "$(echo "$list" | json 'd[0]["id"]')" "TKT-1" "the first ticket is TKT-1"
is "$(echo "$list" | json 'd[0]["requester"]')" "jan@acme.test" "its requester is the sender"
is "$(echo "$list" | json 'd[0]["customer"]')" "acme" "its customer is found by domain"
is "$(echo "$list" | json 'd[0]["subject"]')" "Checkout page returns error 500" "its subject is the mail's"
is "$(echo "$list" | json 'd[0]["status"]')" "open" "it is open"
show=$(tctl show TKT-1 --json)
is "$(echo "$show" | json 'len(d["messages"])')" "1" "the ticket holds the message"
is "$(echo "$show" | json 'd["messages"][0]["message_id"]')" "outage-1@acme.test" "with its Message-ID"
like "$(echo "$show" | json 'd["messages"][0]["queue_id"]')" '^[0-9A-F]{6,}$' "and Postfix's queue id"
like "$(echo "$show" | json '[e["type"] for e in d["events"]]')" '"created"' "a created event is recorded"
is "$(sql "SELECT length(raw) > 100 FROM messages WHERE message_id = 'outage-1@acme.test'")" "1" \
    "the raw message is stored"

# b. The copy delivered to the support mailbox carries the tag.
wait_for 1 20 sh -c "grep -l 'X-Ticket-ID: TKT-1' '$SINK_DIR'/* 2>/dev/null | wc -l"
copy=$(grep -l -E '^Message-ID: <outage-1@acme.test>' "$SINK_DIR"/* 2>/dev/null | head -n 1)
like "$(cat "$copy" 2>/dev/null)" '^X-Ticket-ID: TKT-1' "the delivered copy has X-Ticket-ID: TKT-1"
like "$(cat "$copy" 2>/dev/null)" '^Subject: \[TKT-1\] Checkout page returns error 500' \
    "the delivered subject starts with [TKT-1]"

# c. Another new mail is another ticket.
send_mail "$F/second-question.eml"
ok $? "a second support mail is accepted"
is "$(tickets)" "2" "it is a second ticket"
is "$(tctl show TKT-2 --json | json 'd["subject"]')" "Vraag over de factuur van november" \
    "its encoded subject is decoded"
is "$(tctl show TKT-2 --json | json 'd["customer"]')" "bakker" "it belongs to the other customer"

# d. A participant's reply with the tag in the subject joins that ticket and
#    is not tagged again.
before_t=$(tickets)
send_mail "$F/already-tagged.eml"
ok $? "a reply with [TKT-2] in its subject is accepted"
is "$(tickets)" "$before_t" "it opens no new ticket"
is "$(tctl show TKT-2 --json | json 'len(d["messages"])')" "2" "it is the second message of TKT-2"
wait_for 1 20 sh -c "grep -l 'tagged-1@bakker.nl' '$SINK_DIR'/* 2>/dev/null | wc -l"
copy=$(grep -l -E '^Message-ID: <tagged-1@bakker.nl>' "$SINK_DIR"/* 2>/dev/null | head -n 1)
like "$(cat "$copy" 2>/dev/null)" '^Subject: Re: \[TKT-2\] Vraag over de factuur van november$' \
    "its delivered subject is left as it was (one tag)"
like "$(cat "$copy" 2>/dev/null)" '^X-Ticket-ID: TKT-2' "and carries X-Ticket-ID: TKT-2"

# d2. Someone else using that tag does not get onto the ticket.
send_mail "$F/stranger-uses-tag.eml"
ok $? "a stranger's mail with [TKT-2] is accepted"
is "$(tickets)" "$((before_t + 1))" "it opens a ticket of its own"
is "$(tctl show TKT-2 --json | json 'len(d["messages"])')" "2" "nothing of it reaches TKT-2"
like "$(tctl show TKT-2 --json | json '[e["type"] for e in d["events"]]')" '"reference-refused"' \
    "TKT-2 records the refused reference"

# e. The same message twice: accepted twice, recorded once, same ticket.
before_t=$(tickets)
before_m=$(messages)
send_mail "$F/new-outage.eml"
ok $? "the same message offered again is accepted"
is "$(tickets)" "$before_t" "no ticket is added for it"
is "$(messages)" "$before_m" "no message is added for it"
wait_for 2 20 sh -c "grep -l '^Message-ID: <outage-1@acme.test>' '$SINK_DIR'/* | wc -l"
is "$(grep -l '^Message-ID: <outage-1@acme.test>' "$SINK_DIR"/* | xargs grep -h '^X-Ticket-ID:' | sort -u)" \
    "X-Ticket-ID: TKT-1" "both delivered copies carry TKT-1"

# f. Locked database: 451, nothing stored; after release the same mail goes in once.
# On PostgreSQL another session holds the tickets table, and is cancelled
# (its lock goes with its transaction) rather than killed; its readers
# wait for that lock too, so the tickets are counted before.
before_t=$(tickets)
if on_sqlite; then
    python3 -c '
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(30)
' "$DB" >"$E2E_DIR/locker.out" 2>&1 &
    locker=$!
    wait_for 1 10 sh -c "grep -c locked '$E2E_DIR/locker.out'"
else
    psql -X -q -d "$DB" -c "BEGIN; LOCK TABLE tickets IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(30)" \
        >"$E2E_DIR/locker.out" 2>&1 &
    locker=$!
    wait_for 1 10 sh -c "psql -X -A -t -d '$DB' -c \"SELECT count(*) FROM pg_locks
        WHERE relation = 'tickets'::regclass AND mode = 'AccessExclusiveLock' AND granted\""
fi
send_mail "$F/locked-retry.eml"
rc=$?
if ! on_sqlite; then
    sql "SELECT pg_cancel_backend(pid) FROM pg_stat_activity
        WHERE query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()" >/dev/null
fi
kill "$locker" 2>/dev/null
wait "$locker" 2>/dev/null
ok $(( rc == 0 )) "swaks sees a failure while the database is locked"
like "$(cat "$E2E_DIR/swaks.txt")" '<\*\* 451 4\.3\.0' "the answer is 451 4.3.0"
is "$(tickets)" "$before_t" "no ticket was made while locked"
like "$(cat "$E2E_DIR/milter.log")" 'tempfail: .*locked' "the milter logs the tempfail and its reason"
send_mail "$F/locked-retry.eml"
ok $? "after the lock is gone the same mail is accepted"
is "$(tickets)" "$((before_t + 1))" "and makes exactly one ticket"

# g. Unknown senders: a ticket without customer under accept, 550 under reject.
send_mail "$F/unknown-sender.eml"
ok $? "an unknown sender's mail is accepted under unknown_senders = accept"
is "$(tctl list --json | json '[t["customer"] for t in d if t["requester"] == "someone@stranger.test"][0]')" \
    "null" "its ticket has no customer"
milter_stop
sed -i 's/^unknown_senders = accept/unknown_senders = reject/' "$CONF"
milter_start
before_t=$(tickets)
sed 's/stranger-1@/stranger-2@/' "$F/unknown-sender.eml" >"$E2E_DIR/unknown2.eml"
send_mail "$E2E_DIR/unknown2.eml"
ok $(( $? == 0 )) "under unknown_senders = reject the mail is refused"
like "$(cat "$E2E_DIR/swaks.txt")" '<\*\* 550 5\.7\.1 .*registered support contacts' \
    "with 550 5.7.1 and a sentence"
is "$(tickets)" "$before_t" "and no ticket"

# h. Mail for other addresses passes untouched.
before_t=$(tickets)
send_mail "$F/not-support.eml"
ok $? "mail for another address is accepted"
wait_for 1 20 sh -c "grep -l 'lunch-1@acme.test' '$SINK_DIR'/* 2>/dev/null | wc -l"
copy=$(grep -l -E '^Message-ID: <lunch-1@acme.test>' "$SINK_DIR"/* 2>/dev/null | head -n 1)
ok $(grep -c '^X-Ticket-ID' "$copy") "it has no X-Ticket-ID"
like "$(cat "$copy")" '^Subject: Lunch on Friday\?$' "its subject is unchanged"
is "$(tickets)" "$before_t" "it made no ticket"

# i. Attachments are listed with the message; a message past the MIME
# limits is still taken whole, and its ticket says what was not read.
python3 - "$E2E_DIR" <<'PY'
import base64, hashlib, sys
d = sys.argv[1]
pdf = b"%PDF-1.4 invoice 2026-11 " * 40
open(d + "/pdf.sha256", "w").write(hashlib.sha256(pdf).hexdigest())
b64 = base64.encodebytes(pdf).decode()
open(d + "/attach.eml", "w").write(
    "From: Jan Jansen <jan@acme.test>\nTo: support@example.com\nSubject: Invoice attached\n"
    "Message-ID: <attach-1@acme.test>\nMIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=b1\n\n--b1\nContent-Type: text/plain\n\n"
    "See the invoice.\n--b1\nContent-Type: application/pdf\n"
    "Content-Disposition: attachment; filename*=UTF-8''factuur%20n%C2%BA7.pdf\n"
    "Content-Transfer-Encoding: base64\n\n" + b64 + "--b1--\n")
deep = "From: Jan Jansen <jan@acme.test>\nTo: support@example.com\nSubject: Deep\n" \
       "Message-ID: <deep-1@acme.test>\nMIME-Version: 1.0\n"
head, tail = "", ""
for i in range(80):
    head += "Content-Type: multipart/mixed; boundary=d%d\n\n--d%d\n" % (i, i)
    tail = "--d%d--\n" % i + tail
open(d + "/deep.eml", "w").write(deep + head + "Content-Type: text/plain\n\nhello from the bottom\n" + tail)
PY
send_mail "$E2E_DIR/attach.eml"
ok $? "a mail with a PDF attachment is accepted"
att=$(sql "SELECT attachments FROM messages WHERE message_id = 'attach-1@acme.test'")
like "$att" '"name":"factuur nº7.pdf"' "its attachment is listed with its decoded name"
like "$att" "\"sha256\":\"$(cat "$E2E_DIR/pdf.sha256")\"" "and the SHA-256 of its bytes"
like "$att" '"type":"application/pdf"' "and its type"
send_mail "$E2E_DIR/deep.eml"
ok $? "a mail nested 80 levels deep (max_mime_depth 50) is accepted"
deep_ticket=$(sql "SELECT ticket_id FROM messages WHERE message_id = 'deep-1@acme.test'")
like "$deep_ticket" '^[0-9]+$' "it is stored with a ticket"
like "$(sql "SELECT detail FROM events WHERE ticket_id = '$deep_ticket' AND type = 'parse-limits'")" \
    'max_mime_depth' "whose events say the depth limit was reached"
is "$(sql "SELECT length(raw) > 2000 FROM messages WHERE message_id = 'deep-1@acme.test'")" "1" \
    "and the raw message is kept whole"

# The config check an admin runs.
"$E2E_ROOT/$BUILD/ticket-milter" -t -c "$CONF" >/dev/null 2>&1
ok $? "ticket-milter -t accepts the test config"
printf '[milter]\ndatabse = x\n' >"$E2E_DIR/bad.conf"
out=$("$E2E_ROOT/$BUILD/ticket-milter" -t -c "$E2E_DIR/bad.conf" 2>&1)
ok $(( $? == 0 )) "ticket-milter -t refuses a bad config"
like "$out" 'bad.conf:2: \[milter\] databse: unknown key' "naming the file, line and key"

done_testing
