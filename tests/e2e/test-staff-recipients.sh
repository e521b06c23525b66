#!/bin/sh
# Who a staff mail reaches decides what it is, through the real Postfix:
# a reply that goes to support alone meets no goal (the customer heard
# nothing) and is kept as a note; one with the customer in Bcc is the
# response; an #internal note copied to the customer does not reach the
# customer (the milter removes that recipient), reaches the colleague
# and support, and its writer is told; sent again after a lost answer,
# the same note is still kept from the customer and recorded once.
set -u
. tests/e2e/lib.sh
F=tests/fixtures/e2e
E2E_CONF_EXTRA='[staff]
addresses = lead@example.com; am@example.com
trusted_networks = 127.0.0.1
[escalation]
stage1 = lead@example.com'
e2e_setup || { echo "not ok 1 - private Postfix with the milter starts"; exit 1; }

field() { tctl show "$1" --json | json "$2"; }
events() { field "$1" '[e["type"] for e in d["events"]]'; }
# The envelope recipients the sink got <MSGID> for, sorted, one line.
rcpts_of() {
    grep -l "^Message-ID: <$1>" "$SINK_DIR"/* 2>/dev/null | xargs -r grep -h '^X-Rcpt-Args:' |
        sed 's/^X-Rcpt-Args: //' | tr -d '<>' | tr ' ' '\n' | grep . | sort | tr '\n' ' '
}
staff_mail() { # MSGID TO CC BODY
    cat >"$E2E_DIR/staff.eml" <<MAIL
From: Lead <lead@example.com>
To: $2
Cc: $3
Subject: Re: [TKT-1] Checkout page returns error 500
Message-ID: <$1>
In-Reply-To: <outage-1@acme.test>
Date: Tue, 24 Nov 2026 10:30:00 +0100

$4
MAIL
}

send_mail "$F/new-outage.eml"
ok $? "a customer's mail opens TKT-1"

# 1. To support alone: kept as a note, no response recorded.
staff_mail s1@example.com support@example.com am@example.com 'I think it is the payment gateway.'
send_mail "$E2E_DIR/staff.eml" --to support@example.com,am@example.com
ok $? "a staff mail to support and a colleague is accepted"
is "$(field TKT-1 'd["first_response_at"]')" "null" "it is no response: the customer heard nothing"
is "$(sql "SELECT direction || ' ' || kind FROM messages WHERE message_id = 's1@example.com'")" \
    "out internal" "it is kept as an internal note"
like "$(tctl show TKT-1 --json | json '[e["detail"].get("reason") for e in d["events"] if e["type"] == "internal-note"]')" \
    'not among its recipients' "and the note says why"

# 2. The customer in Bcc (envelope only): the response.
staff_mail s2@example.com support@example.com '' 'Hello Jan, a fix is on its way.'
send_mail "$E2E_DIR/staff.eml" --to support@example.com,jan@acme.test
ok $? "a staff reply with the customer in Bcc is accepted"
like "$(field TKT-1 'd["first_response_at"]')" '^20' "it is the first response"
wait_for 1 20 sh -c "grep -l '^Message-ID: <s2@example.com>' '$SINK_DIR'/* 2>/dev/null | wc -l"
like "$(rcpts_of s2@example.com)" 'jan@acme.test' "and the customer gets it"

# 3. An #internal note copied to the customer and a colleague.
staff_mail s3@example.com 'support@example.com, am@example.com' 'Jan <jan@acme.test>' '#internal
Their contract ends next month; no free visit.'
send_mail "$E2E_DIR/staff.eml" --to support@example.com,am@example.com,jan@acme.test
ok $? "an #internal note copied to the customer is accepted"
wait_for 1 20 sh -c "grep -l '^Message-ID: <s3@example.com>' '$SINK_DIR'/* 2>/dev/null | wc -l"
sleep 1
got=$(rcpts_of s3@example.com)
like "$got" 'am@example.com' "the colleague gets the note"
case $got in *jan@acme.test*) ok 1 "the customer does not get it ($got)" ;;
*) ok 0 "the customer does not get it" ;; esac
like "$(cat "$E2E_DIR/milter.log")" 'removed=<jan@acme.test>' "mail.log names the recipient removed"
like "$(tctl show TKT-1 --json | json '[e["detail"].get("removed") for e in d["events"] if e["type"] == "internal-note"]')" \
    'jan@acme.test' "the note event names them"
wait_for 1 20 sh -c "grep -l '^Subject: \[TKT-1\] Internal note not sent to' '$SINK_DIR'/* 2>/dev/null | wc -l"
is "$(grep -l '^Subject: \[TKT-1\] Internal note not sent to' "$SINK_DIR"/* 2>/dev/null |
    xargs -r grep -l '^X-Rcpt-Args: <lead@example.com>' | wc -l)" "1" "the writer is told, once"
is "$(sql "SELECT count(*) FROM outbox WHERE template = 'note-recipients' AND recipients LIKE '%jan@%'")" \
    "0" "and nothing about it goes to the customer"

# 4. The same note again (the client lost our 250): still kept from the customer.
before=$(sql "SELECT count(*) FROM messages WHERE ticket_id = 1")
send_mail "$E2E_DIR/staff.eml" --to support@example.com,am@example.com,jan@acme.test
ok $? "the same note sent again is accepted"
sleep 2
is "$(sql "SELECT count(*) FROM messages WHERE ticket_id = 1")" "$before" "it is recorded once"
n=$(grep -l '^Message-ID: <s3@example.com>' "$SINK_DIR"/* 2>/dev/null |
    xargs -r grep -l 'X-Rcpt-Args:.*jan@acme.test' | wc -l)
is "$n" "0" "and the customer still gets no copy"

done_testing
