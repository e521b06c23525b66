#!/bin/sh
# Staff trusted by SMTP AUTH alone: no trusted network covers the client, so
# only a reply sent with a valid login runs its command lines, and the
# customer's copy arrives without them. The same mail without AUTH changes
# nothing; a wrong password is refused by Postfix and leaves no trace; a
# valid login that is not the From address's own trusts nothing.
set -u
. tests/e2e/lib.sh
F=tests/fixtures/e2e
E2E_SASL=1
E2E_CONF_EXTRA='[staff]
addresses = lead@example.com
trusted_networks = 192.0.2.1/32
[escalation]
stage1 = lead@example.com
stage2 = am@example.com
stage3 = director@example.com'
e2e_setup || { echo "not ok 1 - private Postfix with SMTP AUTH and the milter starts"; exit 1; }

field() { tctl show "$1" --json | json "$2"; }
events() { field "$1" '[e["type"] for e in d["events"]]'; }
tickets() { sql 'SELECT count(*) FROM tickets'; }

like "$(swaks --server 127.0.0.1 --port "$SMTP_PORT" --quit-after EHLO 2>&1)" \
    '250-AUTH.*PLAIN' "the milter port offers AUTH PLAIN"

send_mail "$F/new-outage.eml"
ok $? "a customer's mail opens TKT-1"
is "$(field TKT-1 'd["severity"]')" "3" "at the default severity"
is "$(field TKT-1 'd["stage"]')" "0" "in no stage yet"

staff_reply() {
    cat >"$E2E_DIR/staff.eml" <<MAIL
From: Lead <lead@example.com>
To: Jan Jansen <jan@acme.test>
Cc: support@example.com
Subject: Re: [TKT-1] Checkout page returns error 500
Message-ID: <$1@example.com>
In-Reply-To: <outage-1@acme.test>
Date: Tue, 24 Nov 2026 10:30:00 +0100

#severity 1
#status pending

Hello Jan,

We found the cause and are deploying a fix. Could you confirm afterwards?

Lead
MAIL
}

# Without AUTH, from a client outside trusted_networks: nothing changes.
staff_reply noauth-1
send_mail "$E2E_DIR/staff.eml" --to jan@acme.test,support@example.com
ok $? "the staff reply without AUTH is accepted"
is "$(field TKT-1 'd["severity"]')" "3" "it does not change the severity"
is "$(field TKT-1 'd["status"]')" "open" "nor the status"
is "$(field TKT-1 'd["stage"]')" "0" "nor the stage"
is "$(field TKT-1 'd["first_response_at"]')" "null" "it does not count as the first response"
like "$(events TKT-1)" '"untrusted-staff"' "it is recorded as an untrusted-staff event"
like "$(cat "$E2E_DIR/milter.log")" 'security: untrusted-staff ticket=TKT-1' "and logged as one"
wait_for 1 20 sh -c "grep -l '^Message-ID: <noauth-1@example.com>' '$SINK_DIR'/* 2>/dev/null | xargs -r grep -l '^X-Rcpt-Args: <jan@acme.test>' | wc -l"
noauth_copy=$(grep -l '^Message-ID: <noauth-1@example.com>' "$SINK_DIR"/* 2>/dev/null |
    xargs -r grep -l '^X-Rcpt-Args: <jan@acme.test>' | head -n 1)
like "$(cat "$noauth_copy")" 'We found the cause' "the customer still gets the reply"
is "$(grep -c -E '^#(severity|status)' "$noauth_copy")" "0" \
    "without the command lines, which were not applied"

# A wrong password: Postfix refuses the login, the milter never sees the mail.
messages=$(field TKT-1 'len(d["messages"])')
nevents=$(field TKT-1 'len(d["events"])')
ntickets=$(tickets)
staff_reply badpass-1
send_mail "$E2E_DIR/staff.eml" --to jan@acme.test,support@example.com \
    --auth PLAIN --auth-user "$E2E_SASL_USER" --auth-password wrong-password
rc=$?
ok $((rc == 0)) "the mail is not sent with a wrong password"
like "$(cat "$E2E_DIR/swaks.txt")" '^<\*\* *535 ' "Postfix refuses it with 535"
is "$(field TKT-1 'len(d["messages"])')" "$messages" "no message is stored"
is "$(field TKT-1 'len(d["events"])')" "$nevents" "no event is recorded"
is "$(tickets)" "$ntickets" "no ticket is opened"
is "$(field TKT-1 'd["severity"]')" "3" "the severity is unchanged"
is "$(grep -c 'badpass-1@example.com' "$E2E_DIR/milter.log")" "0" "the milter never saw it"

# Another staff member's valid login, sending as lead@: not theirs to use.
sasl=$E2E_DIR/postfix/etc/sasl
printf '%s' 'intern-secret-2' | saslpasswd2 -f "$sasl/sasldb2" -p -c -u example.com intern
staff_reply other-login-1
send_mail "$E2E_DIR/staff.eml" --to jan@acme.test,support@example.com \
    --auth PLAIN --auth-user intern@example.com --auth-password intern-secret-2
ok $? "a staff reply over another member's login is accepted"
like "$(cat "$E2E_DIR/swaks.txt")" '^<- *235 ' "after a successful login"
is "$(field TKT-1 'd["severity"]')" "3" "but its commands change nothing"
is "$(field TKT-1 'd["status"]')" "open" "the status stays"
is "$(sql "SELECT kind FROM messages WHERE message_id = 'other-login-1@example.com'")" \
    "untrusted-staff" "it is stored as untrusted staff mail"
like "$(field TKT-1 '[e["detail"]["reason"] for e in d["events"] if e["type"] == "untrusted-staff"]')" \
    'SMTP AUTH login that is not its own' "the event says the login was not its own"

# With AUTH: the commands apply.
staff_reply auth-1
send_mail "$E2E_DIR/staff.eml" --to jan@acme.test,support@example.com \
    --auth PLAIN --auth-user "$E2E_SASL_USER" --auth-password "$E2E_SASL_PASS"
ok $? "the staff reply over SMTP AUTH is accepted"
like "$(cat "$E2E_DIR/swaks.txt")" '^<- *235 ' "after a successful login"
is "$(field TKT-1 'd["severity"]')" "1" "#severity 1 applies"
is "$(field TKT-1 'd["status"]')" "pending" "#status pending applies"
is "$(field TKT-1 'd["stage"]')" "2" "a Sev1 ticket moves to Stage 2"
like "$(field TKT-1 'd["first_response_at"]')" '^20' "the reply is the first response"
like "$(events TKT-1)" '"staff-reply".*"severity".*"status"' "each change is an event"
is "$(field TKT-1 '[e["detail"]["trust"] for e in d["events"] if e["type"] == "staff-reply"]')" \
    '["smtp-auth"]' "the staff-reply event says it was trusted by smtp-auth"
wait_for 1 20 sh -c "grep -l '^Message-ID: <auth-1@example.com>' '$SINK_DIR'/* 2>/dev/null | wc -l"
copy=$(grep -l '^Message-ID: <auth-1@example.com>' "$SINK_DIR"/* 2>/dev/null |
    xargs -r grep -l '^X-Rcpt-Args: <jan@acme.test>' | head -n 1)
ok "$([ -n "$copy" ]; echo $?)" "the customer's copy is delivered"
like "$(cat "$copy" 2>/dev/null)" 'We found the cause' "with the text"
ok "$(grep -c -E '^#(severity|status)' "${copy:-/dev/null}")" "and without command lines"

done_testing
