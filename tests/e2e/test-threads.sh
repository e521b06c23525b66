#!/bin/sh
# A conversation stays one ticket however the customer's mail client
# threads it: a reply to our acknowledgement, a References header alone,
# the subject tag alone and the signed Reply-To address each find TKT-1.
# A reply to a resolved ticket reopens it within reopen_days; after that,
# or once it is closed, it opens a new ticket linked to the old one.
set -u
. tests/e2e/lib.sh
F=tests/fixtures/e2e
E2E_CONF_EXTRA='[staff]
addresses = lead@example.com
trusted_networks = 127.0.0.1'
e2e_setup || { echo "not ok 1 - private Postfix with the milter starts"; exit 1; }

field() { tctl show "$1" --json | json "$2"; }
events() { field "$1" '[e["type"] for e in d["events"]]'; }
tickets() { sql 'SELECT count(*) FROM tickets'; }
messages_of() { sql "SELECT count(*) FROM messages WHERE ticket_id = $1"; }

# customer_mail ID SUBJECT HEADERS...: a reply from Jan, with extra header
# lines (In-Reply-To, References) as further arguments.
customer_mail() {
    id=$1
    subject=$2
    shift 2
    {
        echo "From: Jan Jansen <jan@acme.test>"
        echo "To: support@example.com"
        echo "Subject: $subject"
        echo "Message-ID: <$id@acme.test>"
        echo "Date: Tue, 24 Nov 2026 11:00:00 +0100"
        for h in "$@"; do echo "$h"; done
        echo
        echo "More about the checkout errors ($id)."
    } >"$E2E_DIR/$id.eml"
}

send_mail "$F/new-outage.eml"
ok $? "the first mail opens TKT-1"
wait_for 1 20 sh -c "grep -l '^X-Rcpt-Args: <jan@acme.test>' '$SINK_DIR'/* 2>/dev/null | wc -l"
ack=$(sink_grep '^X-Rcpt-Args: <jan@acme.test>' | head -n 1)
ack_id=$(sed -n 's/^[Mm]essage-I[Dd]: *<\(.*\)>.*/\1/p' "$ack" | head -n 1)
reply_to=$(sed -n 's/^Reply-To: *//p' "$ack" | head -n 1 | sed 's/.*<\(.*\)>.*/\1/')
like "$ack_id" '@' "the acknowledgement has a Message-ID"
like "$reply_to" '^support\+tkt-1\.[0-9a-f]+@example.com$' "and a signed Reply-To address"

customer_mail reply-2 "Re: [TKT-1] Received: Checkout page returns error 500" \
    "In-Reply-To: <$ack_id>" "References: <outage-1@acme.test> <$ack_id>"
send_mail "$E2E_DIR/reply-2.eml"
ok $? "a reply to the acknowledgement is accepted"
customer_mail reply-3 "Re: Checkout page returns error 500" "References: <outage-1@acme.test>"
send_mail "$E2E_DIR/reply-3.eml"
ok $? "a reply naming the first mail only in References is accepted"
customer_mail reply-4 "[TKT-1] one more detail"
send_mail "$E2E_DIR/reply-4.eml"
ok $? "a new mail with only the tag in the subject is accepted"
customer_mail reply-5 "Checkout page"
send_mail "$E2E_DIR/reply-5.eml" --to "${reply_to:-support+tkt-1.missing@example.com}"
ok $? "a mail to the signed address alone is accepted"
is "$(tickets)" "1" "five mails, one ticket"
is "$(messages_of 1)" "5" "TKT-1 holds all five"
is "$(field TKT-1 '[m["message_id"] for m in d["messages"]]')" \
    '["outage-1@acme.test", "reply-2@acme.test", "reply-3@acme.test", "reply-4@acme.test", "reply-5@acme.test"]' \
    "in the order they came"

# Staff resolve it from a trusted client.
cat >"$E2E_DIR/resolve.eml" <<MAIL
From: Lead <lead@example.com>
To: Jan Jansen <jan@acme.test>
Cc: support@example.com
Subject: Re: [TKT-1] Checkout page returns error 500
Message-ID: <resolve-1@example.com>
In-Reply-To: <outage-1@acme.test>

#status resolved

Fixed: the payment provider's certificate had expired.
MAIL
send_mail "$E2E_DIR/resolve.eml" --to jan@acme.test,support@example.com
is "$(field TKT-1 'd["status"]')" "resolved" "staff resolve TKT-1"

customer_mail reply-6 "Re: [TKT-1] Checkout page returns error 500" "In-Reply-To: <resolve-1@example.com>"
send_mail "$E2E_DIR/reply-6.eml"
ok $? "a reply the same day is accepted"
is "$(field TKT-1 'd["status"]')" "open" "and reopens TKT-1"
like "$(events TKT-1)" '"reopened"' "which is an event"
is "$(tickets)" "1" "no new ticket"

# Resolved again, and then (the clock cannot wait 15 days) dated back.
sed -e 's/resolve-1@/resolve-2@/' "$E2E_DIR/resolve.eml" >"$E2E_DIR/resolve2.eml"
send_mail "$E2E_DIR/resolve2.eml" --to jan@acme.test,support@example.com
is "$(field TKT-1 'd["status"]')" "resolved" "staff resolve TKT-1 again"
db_exec "UPDATE tickets SET resolved_at = '$(date -u -d '15 days ago' +%Y-%m-%dT%H:%M:%SZ)' WHERE id = 1"
customer_mail reply-7 "Re: [TKT-1] Checkout page returns error 500" "In-Reply-To: <resolve-2@example.com>"
send_mail "$E2E_DIR/reply-7.eml"
ok $? "a reply 15 days after resolution is accepted"
is "$(tickets)" "2" "and opens a new ticket (reopen_days is 14)"
is "$(field TKT-1 'd["status"]')" "resolved" "TKT-1 stays resolved"
is "$(messages_of 2)" "1" "the reply is on TKT-2"
like "$(field TKT-2 '[e["detail"] for e in d["events"] if e["type"] == "linked"]')" 'TKT-1' \
    "TKT-2 names TKT-1"
like "$(field TKT-1 '[e["detail"] for e in d["events"] if e["type"] == "linked"]')" 'TKT-2' \
    "TKT-1 names TKT-2"
like "$(grep -E '^Subject:' "$(sink_grep '^Message-ID: <reply-7@acme.test>' | head -n 1)")" '\[TKT-2\]' \
    "the support mailbox sees it as TKT-2"

done_testing
