#!/bin/sh
# ack_limit and not_contact_limit hold for two MX hosts together: two
# private Postfix instances, each with its own ticket-milter, on one
# PostgreSQL database (tests/e2e/test-multi-mx.sh has the set-up).
#   1. twenty new-ticket mails from one customer's mailbox (victimR+0@ ..
#      victimR+19@acme.test, distinct Message-IDs), ten to each host, all
#      sent at once: every one a ticket, and exactly ack_limit (5)
#      acknowledgements queued and in the sink;
#   2. twenty mails from twenty strangers at once, ten to each host:
#      every one a ticket, and exactly not_contact_limit (3 here)
#      not-contact replies.
# Each burst runs MULTI_MX_LIMIT_ROUNDS times (default 5), a new mailbox
# each round, and the not-contact replies of the rounds before moved out
# of the hour: the race between the hosts' transactions (each counting
# before the other committed) is one a single burst may miss.
# Always on PostgreSQL, as test-multi-mx (SQLite is one host's
# database); skipped where no server is installed.
set -u
E2E_DATABASE=pg
export E2E_DATABASE
if ! command -v pg_config >/dev/null 2>&1 && ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then
    echo "1..0 # SKIP no PostgreSQL server installed"
    exit 0
fi
ACK_LIMIT=5
NOT_CONTACT_LIMIT=3
E2E_RELAY=sink
E2E_OUTBOUND_EXTRA="ack_limit = $ACK_LIMIT
not_contact_limit = $NOT_CONTACT_LIMIT"
export E2E_RELAY E2E_OUTBOUND_EXTRA
. tests/e2e/lib.sh
e2e_setup || { echo "not ok 1 - private Postfix with the milter starts"; exit 1; }
e2e_second_host || { echo "not ok 1 - the second host starts"; exit 1; }
ok 0 "two hosts on one PostgreSQL database (ports $SMTP_PORT and $SMTP_PORT_B)"

ROUNDS=${MULTI_MX_LIMIT_ROUNDS:-5}
N=20
LOAD=tests/e2e/multi-mx-load.py
RUN=$(date +%s)

value() { awk -v k="$1" '$1 == k { print $2; exit }' "$2"; }
# burst PREFIX SENDER-FORMAT: N messages, half to each host, all at once.
burst() {
    python3 "$LOAD" --ports "$SMTP_PORT,$SMTP_PORT_B" --prefix "$1" --count "$N" --run "$RUN" \
        --sender "$2" --sessions $((N / 2)) --burst --retry 60 >"$E2E_DIR/$1.out" 2>&1
    is "$(value accepted "$E2E_DIR/$1.out")" "$N" "$1: all $N accepted"
    echo "# $1: $(value answers_4xx "$E2E_DIR/$1.out") answers 4xx, tried again"
}
tickets_from() { sql "SELECT count(*) FROM tickets WHERE requester LIKE '$1'"; }
# The acknowledgements in the sink to the addresses REGEX matches.
sink_replies() {
    grep -l -E "^X-Rcpt-Args: <$1>" "$SINK_DIR"/* 2>/dev/null |
        xargs -r grep -l '^Auto-Submitted: auto-replied' | wc -l
}
# 1 once the outbox has nothing left to send.
all_sent() { sql "SELECT count(*) = 0 FROM outbox WHERE status = 'pending'"; }
# withheld LIKE REASON: the ack-withheld events of requesters LIKE matches.
withheld() {
    sql "SELECT count(*) FROM events e JOIN tickets t ON t.id = e.ticket_id
         WHERE t.requester LIKE '$1' AND e.type = 'ack-withheld' AND e.detail LIKE '%$2%'"
}
# delivered PREFIX LIMIT REGEX WHAT: once the outbox is empty, the sink
# holds LIMIT replies of each round to the addresses REGEX matches ({r}:
# the round).
delivered() {
    wait_for 1 60 all_sent
    # Time for a reply past the limit to arrive too.
    sleep 2
    r=1
    while [ "$r" -le "$ROUNDS" ]; do
        is "$(sink_replies "$(printf '%s' "$3" | sed "s/{r}/$r/g")")" "$2" "$1$r: $4"
        r=$((r + 1))
    done
}

# ---- 1. one mailbox, both hosts ----
over=0
r=1
while [ "$r" -le "$ROUNDS" ]; do
    burst "acks$r" "victim$r+%d@acme.test"
    is "$(tickets_from "victim$r+%@acme.test")" "$N" "acks$r: $N tickets"
    queued=$(sql "SELECT count(*) FROM outbox WHERE ack_key = 'victim$r@acme.test'")
    is "$queued" "$ACK_LIMIT" "acks$r: ack_limit ($ACK_LIMIT) acknowledgements queued"
    is "$(withheld "victim$r+%" rate-limited)" "$((N - ACK_LIMIT))" \
        "acks$r: the other $((N - ACK_LIMIT)) record why not"
    wait_for "$ACK_LIMIT" 60 sink_replies "victim$r\\+[0-9]+@acme\\.test"
    [ "$queued" -gt "$ACK_LIMIT" ] && over=$((over + 1))
    r=$((r + 1))
done
delivered acks "$ACK_LIMIT" 'victim{r}\+[0-9]+@acme\.test' \
    "the mailbox got ack_limit ($ACK_LIMIT) acknowledgements in all"
echo "# acks: $over of $ROUNDS bursts went past ack_limit"

# ---- 2. strangers, both hosts ----
over=0
r=1
while [ "$r" -le "$ROUNDS" ]; do
    # The rounds before are out of the hour, as if an hour had passed.
    db_exec "UPDATE outbox SET created_at = '2000-01-01T00:00:00Z' WHERE template = 'not-contact'"
    burst "strangers$r" "someone@s$r-%d.stranger.test"
    is "$(tickets_from "someone@s$r-%.stranger.test")" "$N" "strangers$r: $N tickets"
    queued=$(sql "SELECT count(*) FROM outbox WHERE template = 'not-contact'
                  AND created_at > '2000-01-01T00:00:00Z'")
    is "$queued" "$NOT_CONTACT_LIMIT" \
        "strangers$r: not_contact_limit ($NOT_CONTACT_LIMIT) not-contact replies queued"
    is "$(withheld "someone@s$r-%" not-contact-limit)" "$((N - NOT_CONTACT_LIMIT))" \
        "strangers$r: the other $((N - NOT_CONTACT_LIMIT)) record why not"
    [ "$queued" -gt "$NOT_CONTACT_LIMIT" ] && over=$((over + 1))
    r=$((r + 1))
done
delivered strangers "$NOT_CONTACT_LIMIT" 'someone@s{r}-[0-9]+\.stranger\.test' \
    "not_contact_limit ($NOT_CONTACT_LIMIT) replies reached the strangers"
echo "# strangers: $over of $ROUNDS bursts went past not_contact_limit"

done_testing
