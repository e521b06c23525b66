#!/bin/sh
# Staff run tickets from their mail client: a trusted reply with command
# lines changes the ticket and reaches the customer without them; the same
# mail from an untrusted client changes nothing; a customer's reply resumes
# a pending ticket and may ask for escalation.
set -u
. tests/e2e/lib.sh
F=tests/fixtures/e2e
E2E_CONF_EXTRA='[staff]
addresses = lead@example.com
trusted_networks = 127.0.0.1
[escalation]
stage1 = lead@example.com
stage2 = am@example.com
stage3 = director@example.com'
e2e_setup || { echo "not ok 1 - private Postfix with the milter starts"; exit 1; }

field() { tctl show "$1" --json | json "$2"; }
events() { field "$1" '[e["type"] for e in d["events"]]'; }
delivered() {
    grep -l -E "^Subject: $1" "$SINK_DIR"/* 2>/dev/null |
        xargs -r grep -l -E "^X-Rcpt-Args: <${2:-.*}>" 2>/dev/null | wc -l
}

send_mail "$F/new-outage.eml"
ok $? "a customer's mail opens TKT-1"
is "$(field TKT-1 'd["severity"]')" "3" "at the default severity"

staff_reply() {
    cat >"$E2E_DIR/staff.eml" <<MAIL
From: Lead <lead@example.com>
To: Jan Jansen <jan@acme.test>
Cc: support@example.com
Subject: Re: [TKT-1] Checkout page returns error 500
Message-ID: <$1@example.com>
In-Reply-To: <outage-1@acme.test>
Date: Tue, 24 Nov 2026 10:30:00 +0100

$2

Hello Jan,

We found the cause and are deploying a fix. Could you confirm afterwards?

Lead
MAIL
}

# An untrusted client (not in trusted_networks, no SMTP AUTH) claiming to be staff.
staff_reply forged-1 '#status closed
#severity 4'
send_mail "$E2E_DIR/staff.eml" --to support@example.com --local-interface 127.0.0.2
ok $? "a staff reply from an untrusted client is accepted"
is "$(field TKT-1 'd["status"]')" "open" "it does not change the status"
is "$(field TKT-1 'd["severity"]')" "3" "nor the severity"
like "$(events TKT-1)" '"untrusted-staff"' "it is recorded as a security event"
is "$(sql "SELECT kind FROM messages WHERE message_id = 'forged-1@example.com'")" \
    "untrusted-staff" "and stored as untrusted staff mail, not as staff's"
like "$(cat "$E2E_DIR/milter.log")" 'security: untrusted-staff ticket=TKT-1' "and logged as one"
is "$(field TKT-1 'd["first_response_at"]')" "null" "it does not count as the first response"

# The same from a trusted client: the commands apply.
staff_reply staff-1 '#severity 1
#status pending
#assign lead@example.com
#frobnicate now'
send_mail "$E2E_DIR/staff.eml" --to jan@acme.test,support@example.com
ok $? "a trusted staff reply to the customer with the support address in Cc is accepted"
is "$(field TKT-1 'd["severity"]')" "1" "#severity 1 applies"
is "$(field TKT-1 'd["status"]')" "pending" "#status pending applies"
is "$(field TKT-1 'd["stage"]')" "2" "a Sev1 ticket moves to Stage 2"
like "$(field TKT-1 'd["first_response_at"]')" '^20' "the reply is the first response"
like "$(events TKT-1)" '"severity".*"status".*"assign"' "each change is an event"
wait_for 1 20 sh -c "grep -l '^Message-ID: <staff-1@example.com>' '$SINK_DIR'/* 2>/dev/null | wc -l"
copy=$(grep -l '^Message-ID: <staff-1@example.com>' "$SINK_DIR"/* | head -n 1)
like "$(cat "$copy")" 'We found the cause' "the customer's copy has the text"
ok $(grep -c -E '^#(severity|status|assign|frobnicate)' "$copy") \
    "the customer's copy has no command lines"
wait_for 1 20 delivered '\[TKT-1\] Commands not applied' 'lead@example.com'
is "$(delivered '\[TKT-1\] Commands not applied' 'lead@example.com')" "1" \
    "the unknown command is reported to the sender"
like "$(grep -l -E '^Subject: \[TKT-1\] Commands not applied' "$SINK_DIR"/* | xargs cat)" \
    '#frobnicate now' "naming the line"
wait_for 1 20 delivered '\[TKT-1\] Status: pending' 'jan@acme.test'
is "$(delivered '\[TKT-1\] Status: pending' 'jan@acme.test')" "1" "the customer hears of the status"
wait_for 1 20 delivered '\[TKT-1\] Escalated to stage 2' 'am@example.com'
is "$(delivered '\[TKT-1\] Escalated to stage 2' 'am@example.com')" "1" \
    "the Stage 2 contacts hear of the ticket"

# The customer answers: the clocks run again; and asks for escalation.
cat >"$E2E_DIR/customer.eml" <<MAIL
From: Jan Jansen <jan@acme.test>
To: support@example.com
Subject: Re: [TKT-1] Checkout page returns error 500
Message-ID: <outage-3@acme.test>
In-Reply-To: <staff-1@example.com>
Date: Tue, 24 Nov 2026 11:00:00 +0100

#escalate

Still failing, please escalate.
MAIL
send_mail "$E2E_DIR/customer.eml"
ok $? "the customer's reply is accepted"
is "$(field TKT-1 'd["status"]')" "open" "it ends the wait"
is "$(field TKT-1 'd["stage"]')" "3" "#escalate moves it a stage up"
is "$(field TKT-1 'len(d["messages"])')" "4" "all four messages are on the ticket"
wait_for 1 20 delivered '\[TKT-1\] Escalated to stage 3' 'director@example.com'
is "$(delivered '\[TKT-1\] Escalated to stage 3' 'director@example.com')" "1" \
    "the Stage 3 contact is told"

done_testing
