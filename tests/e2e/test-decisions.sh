#!/bin/sh
# The decisions on the mail customers and staff really send, through a
# private Postfix: keywords that are weak evidence, priority words of one
# tier in both languages, a customer's escalation asked once, a missed
# response goal that escalates, staff opening a ticket for a customer, a
# stranger's not-contact reply, and a trusted staff reply that goes straight
# to the customer and is recorded on its way out.
set -u
. tests/e2e/lib.sh
E2E_CONF_EXTRA='[staff]
addresses = lead@example.com
trusted_networks = 127.0.0.1
[escalation]
stage1 = lead@example.com
stage2 = am@example.com; om@example.com
stage3 = director@example.com'
e2e_setup || { echo "not ok 1 - private Postfix with the milter starts"; exit 1; }

field() { tctl show "$1" --json | json "$2"; }
events() { field "$1" '[e["type"] for e in d["events"]]'; }
# delivered SUBJECT-REGEX [RCPT-REGEX]: how many delivered copies match.
delivered() {
    grep -l -E "^Subject: $1" "$SINK_DIR"/* 2>/dev/null |
        xargs -r grep -l -E "^X-Rcpt-Args: <${2:-.*}>" 2>/dev/null | wc -l
}
# mail FILE FROM SUBJECT BODY [HEADER...]: a plain message.
n=0
mail() {
    file=$1 from=$2 subject=$3 body=$4
    shift 4
    n=$((n + 1))
    {
        echo "From: $from"
        echo "To: support@example.com"
        echo "Subject: $subject"
        echo "Message-ID: <decision-$n@test.example>"
        echo "Date: Tue, 24 Nov 2026 10:00:00 +0100"
        for h in "$@"; do echo "$h"; done
        echo
        printf '%s\n' "$body"
    } >"$E2E_DIR/$file"
}
# tick MINUTES: the scheduler at now + MINUTES.
tick() {
    tctl tick --now "$(python3 -c 'import sys, datetime as d
print((d.datetime.now(d.timezone.utc) + d.timedelta(minutes=int(sys.argv[1]))).strftime("%Y-%m-%dT%H:%M:%SZ"))' "$1")"
}

# 1. "storing" is Dutch for outage and English for saving.
mail q1.eml "Jan Jansen <jan@acme.test>" "Question about storing attachments" \
    "Is there a limit on storing attachments in the portal?"
send_mail "$E2E_DIR/q1.eml"
ok $? "an English question about storing attachments is accepted"
is "$(field TKT-1 'd["severity"]')" "3" "it keeps the plan's default severity"
is "$(field TKT-1 'd["stage"]')" "0" "and pages nobody"

# 2. A keyword in free text is weak evidence, and "no impact" cancels it.
mail q2.eml "Jan Jansen <jan@acme.test>" "App crashed once yesterday, no impact now" \
    "Just letting you know."
send_mail "$E2E_DIR/q2.eml"
is "$(field TKT-2 'd["severity"]')" "3" "a crash with no impact keeps the default severity"
is "$(field TKT-2 'd["stage"]')" "0" "and opens at Stage 0"
like "$(field TKT-2 '[e["detail"]["rule"] for e in d["events"] if e["type"] == "severity"][0]')" \
    'cancelled by "no impact"' "the rule says which words decided"

# 3. One tier per priority word, the same in both languages.
mail q3.eml "Piet Bakker <piet@bakker.nl>" "Kassa" "Prioriteit: hoog

De kassa werkt niet."
send_mail "$E2E_DIR/q3.eml"
mail q4.eml "Piet Bakker <piet@bakker.nl>" "Till" "Priority: high

The till does not work."
send_mail "$E2E_DIR/q4.eml"
is "$(field TKT-3 'd["severity"]')" "$(field TKT-4 'd["severity"]')" \
    "Prioriteit: hoog and Priority: high are the same severity"
is "$(field TKT-3 'd["severity"]')" "1" "both Severity 1"

# 4. Three replies that keep "please escalate" in the subject: one stage.
for i in 1 2 3; do
    mail "esc$i.eml" "Jan Jansen <jan@acme.test>" "Re: [TKT-1] Question about storing attachments, please escalate" \
        "Reply $i."
    send_mail "$E2E_DIR/esc$i.eml"
done
is "$(field TKT-1 'd["stage"]')" "1" "three replies asking to escalate move it one stage"
is "$(events TKT-1 | python3 -c 'import json, sys; print(json.load(sys.stdin).count("stage"))')" "1" \
    "and record one stage change"
wait_for 1 30 delivered '\[TKT-1\] Your request has been escalated' 'jan@acme.test'
is "$(delivered '\[TKT-1\] Your request has been escalated' 'jan@acme.test')" "1" \
    "the customer gets one confirmation"
wait_for 1 30 delivered '\[TKT-1\] Escalated to stage 1' 'lead@example.com'
is "$(delivered '\[TKT-1\] Escalated to stage 1' 'lead@example.com')" "1" "the support lead hears of it"

# 5. A Severity 3 ticket whose response goal is missed: breach, Stage 1, somebody told.
tick $((60 * 24 * 8)) >/dev/null
is "$(field TKT-2 'd["stage"]')" "1" "a missed response goal moves a Stage 0 ticket to Stage 1"
like "$(events TKT-2)" '"sla-breach"' "with a breach event"
wait_for 1 30 delivered '\[TKT-2\] SLA BREACH' 'lead@example.com'
is "$(delivered '\[TKT-2\] SLA BREACH' 'lead@example.com')" "1" "the breach reaches the support lead"

# 6. Staff open a ticket on behalf of a customer; without one, nobody is acknowledged.
mail s1.eml "Lead <lead@example.com>" "Phone call from acme: checkout down" "#requester jan@acme.test

Jan called: nobody can check out."
send_mail "$E2E_DIR/s1.eml"
is "$(field TKT-5 'd["requester"]')" "jan@acme.test" "a staff ticket with #requester answers to the customer"
is "$(field TKT-5 'd["customer"]')" "acme" "and belongs to the customer"
wait_for 1 30 delivered '\[TKT-5\] Received' 'jan@acme.test'
is "$(delivered '\[TKT-5\] Received' 'jan@acme.test')" "1" "the ack goes to the customer"
is "$(delivered '\[TKT-5\] Received' 'lead@example.com')" "0" "not to staff"
mail s2.eml "Lead <lead@example.com>" "Phone call: someone about invoices" "Someone called."
send_mail "$E2E_DIR/s2.eml"
is "$(field TKT-6 'd["requester"]')" "" "a staff ticket without #requester answers to nobody"
sleep 2
is "$(delivered '\[TKT-6\] Received')" "0" "and sends no ack"

# 7. A stranger gets the not-contact reply, which promises no response goal.
mail u1.eml "Someone <someone@elsewhere.test>" "Help please" "Our system is down."
send_mail "$E2E_DIR/u1.eml"
is "$(field TKT-7 'd["first_response_due"]')" "null" "a stranger's ticket runs no goal"
wait_for 1 30 delivered '\[TKT-7\] Your message to support was received' 'someone@elsewhere.test'
nc=$(grep -l -E '^Subject: \[TKT-7\] Your message' "$SINK_DIR"/* 2>/dev/null | head -n 1)
like "$(cat "$nc")" 'not one of them' "the not-contact reply says why"
ok $(grep -c -E 'Response: +by' "$nc") "and promises no response time"
mail u2.eml "Lead <lead@example.com>" "Re: [TKT-7] Help please" "#customer acme
#internal
A new colleague at acme."
send_mail "$E2E_DIR/u2.eml"
like "$(field TKT-7 'd["first_response_due"]')" '^20' "accepted by staff, its goals start"

# 8. A trusted staff reply straight to the customer is recorded on its way out.
cat >"$E2E_DIR/out.eml" <<MAIL
From: Lead <lead@example.com>
To: Jan Jansen <jan@acme.test>
Subject: Re: [TKT-2] App crashed once yesterday, no impact now
Message-ID: <outbound-1@example.com>
Date: Tue, 24 Nov 2026 11:00:00 +0100

#status pending

Could you send us the crash report?
MAIL
send_mail "$E2E_DIR/out.eml" --to jan@acme.test
ok $? "a staff reply to the customer only is accepted"
like "$(field TKT-2 'd["first_response_at"]')" '^20' "it is recorded as the first response"
is "$(field TKT-2 'd["status"]')" "pending" "its command applies"
is "$(sql "SELECT kind FROM messages WHERE message_id = 'outbound-1@example.com'")" "staff" \
    "it is stored on the ticket as staff's"
wait_for 1 20 sh -c "grep -l '^Message-ID: <outbound-1@example.com>' '$SINK_DIR'/* 2>/dev/null | wc -l"
copy=$(grep -l '^Message-ID: <outbound-1@example.com>' "$SINK_DIR"/* | head -n 1)
like "$(cat "$copy")" 'crash report' "the customer gets the reply"
ok $(grep -c '^#status' "$copy") "without the command line"
# The same from a client that is not trusted changes nothing and is not ours to keep.
sed 's/outbound-1@/outbound-2@/; s/#status pending/#status closed/' "$E2E_DIR/out.eml" >"$E2E_DIR/out2.eml"
send_mail "$E2E_DIR/out2.eml" --to jan@acme.test --local-interface 127.0.0.2
ok $? "an untrusted staff mail to the customer is accepted"
is "$(field TKT-2 'd["status"]')" "pending" "and changes nothing"
is "$(sql "SELECT count(*) FROM messages WHERE message_id = 'outbound-2@example.com'")" "0" \
    "nor is it stored"
# Mail of a trusted client that is no staff reply passes untouched.
cat >"$E2E_DIR/other.eml" <<MAIL
From: Lead <lead@example.com>
To: friend@elsewhere.test
Subject: Lunch?
Message-ID: <outbound-3@example.com>

Lunch on Friday?
MAIL
send_mail "$E2E_DIR/other.eml" --to friend@elsewhere.test
wait_for 1 20 sh -c "grep -l '^Message-ID: <outbound-3@example.com>' '$SINK_DIR'/* 2>/dev/null | wc -l"
lunch=$(grep -l '^Message-ID: <outbound-3@example.com>' "$SINK_DIR"/* | head -n 1)
ok $(grep -c '^X-Ticket-ID' "$lunch") "other outgoing mail passes untouched"

done_testing
