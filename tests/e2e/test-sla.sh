#!/bin/sh
# Severity, deadlines and the escalation ladder, with time driven by
# "ticketctl tick --now": a Sev1 ticket opens at Stage 2, is warned at 45
# minutes and breached at 60, and reaches Stage 3 a business day later; a
# Sev2 ticket reaches Stage 2 after two business days; a staff reply before
# the goal stops the clock; every notice is sent once.
set -u
. tests/e2e/lib.sh
F=tests/fixtures/e2e
E2E_CONF_EXTRA='[staff]
addresses = lead@example.com
trusted_networks = 127.0.0.0/8
[escalation]
stage1 = lead@example.com
stage2 = am@example.com; ops@example.com
stage3 = director@example.com'
e2e_setup || { echo "not ok 1 - private Postfix with the milter starts"; exit 1; }

# at MINUTES: the first ticket's creation time plus MINUTES, in ISO 8601.
at() {
    python3 -c 'import sys, datetime as d
t = d.datetime.strptime(sys.argv[1], "%Y-%m-%dT%H:%M:%SZ") + d.timedelta(minutes=float(sys.argv[2]))
print(t.strftime("%Y-%m-%dT%H:%M:%SZ"))' "$T0" "$1"
}
tick() { tctl tick --now "$(at "$1")"; }
field() { tctl show "$1" --json | json "$2"; }
# delivered SUBJECT-REGEX [TO-REGEX]: how many delivered mails match.
delivered() {
    grep -l -E "^Subject: $1" "$SINK_DIR"/* 2>/dev/null |
        xargs -r grep -l -E "^X-Rcpt-Args: <${2:-.*}>" 2>/dev/null | wc -l
}

send_mail "$F/sev1-outage.eml"
ok $? "a Sev1 mail is accepted"
T0=$(field TKT-1 'd["created_at"]')
is "$(field TKT-1 'd["severity"]')" "1" "its severity is 1"
like "$(field TKT-1 '[e["detail"]["rule"] for e in d["events"] if e["type"] == "severity"][0]')" \
    'subject tag "\[Sev1\]"' "the ticket records which rule set it"
is "$(field TKT-1 'd["stage"]')" "2" "a Sev1 ticket opens at Stage 2"
is "$(field TKT-1 'd["first_response_due"]')" "$(at 60)" "the response is due in one hour"
wait_for 1 20 delivered '\[TKT-1\] Escalated to stage 2' 'am@example.com'
is "$(delivered '\[TKT-1\] Escalated to stage 2' 'am@example.com')" "1" \
    "the Stage 2 contacts are told"

send_mail "$F/sev2-degraded.eml"
is "$(field TKT-2 'd["severity"]')" "2" "a mail with 'Severity: 2' is Sev2"
is "$(field TKT-2 'd["stage"]')" "1" "a Sev2 ticket opens at Stage 1"

send_mail "$F/sev1-answered.eml"
is "$(field TKT-3 'd["severity"]')" "1" "a third ticket is Sev1 too"
cat >"$E2E_DIR/staff-reply.eml" <<MAIL
From: Lead <lead@example.com>
To: jan@acme.test
Cc: support@example.com
Subject: Re: [TKT-3] [Sev1] Login impossible for all users
Message-ID: <staff-1@example.com>
In-Reply-To: <sev1-2@acme.test>
Date: Tue, 24 Nov 2026 10:20:00 +0100

We are on it; the identity provider is being restarted.
MAIL
# As a mail client sends it: the envelope holds the customer and the Cc to support.
send_mail "$E2E_DIR/staff-reply.eml" --to jan@acme.test,support@example.com
ok $? "a staff reply is accepted"
like "$(field TKT-3 'd["first_response_at"]')" '^20' "the staff reply records the first response"

out=$(tick 30)
like "$out" ' 0 fired' "at 30 minutes nothing fires"
out=$(tick 46)
like "$out" ' 1 fired' "at 46 minutes one timer fires"
like "$(field TKT-1 '[e["type"] for e in d["events"]]')" '"sla-warning"' "TKT-1 gets an SLA warning"
out=$(tick 50)
like "$out" ' 0 fired' "the warning is not repeated"
out=$(tick 61)
like "$(field TKT-1 '[e["type"] for e in d["events"]]')" '"sla-breach"' \
    "TKT-1 breaches its response goal at 60 minutes"
is "$(field TKT-3 '[e["type"] for e in d["events"]].count("sla-breach")')" "0" \
    "TKT-3, answered in time, does not breach its response goal"
is "$(tctl sla --json --at "$(at 61)" | json '[t["response"]["seconds_left"] < 0 for t in d if t["id"] == "TKT-1"][0]')" \
    "true" "ticketctl sla shows TKT-1 overdue"

# A business day later (Mon-Fri 08-17 in the customer's zone) TKT-1 climbs
# to Stage 3; two business days later TKT-2 reaches Stage 2.
tick $((60 * 24 * 5)) >/dev/null
is "$(field TKT-1 'd["stage"]')" "3" "TKT-1 reaches Stage 3 after one business day"
is "$(field TKT-2 'd["stage"]')" "2" "TKT-2 reaches Stage 2 after two business days"
is "$(field TKT-3 'd["stage"]')" "3" "TKT-3, answered but not resolved, reaches Stage 3 too"
out=$(tick $((60 * 24 * 6)))
like "$out" ' 0 fired' "nothing fires twice"

# The notices go out, each once (the daemon's dispatcher picks them up).
wait_for 1 30 delivered '\[TKT-1\] Escalated to stage 3' 'director@example.com'
wait_for 1 30 delivered '\[TKT-1\] SLA BREACH' 'am@example.com'
sleep 4
is "$(delivered '\[TKT-1\] SLA warning' 'am@example.com')" "1" "the warning reaches the Stage 2 contacts once"
is "$(delivered '\[TKT-1\] SLA BREACH' 'am@example.com')" "1" "the breach reaches them once"
is "$(delivered '\[TKT-1\] Escalated to stage 3' 'director@example.com')" "1" \
    "the director is told of Stage 3 once"
is "$(delivered '\[TKT-1\] Your request has been escalated' 'jan@acme.test')" "1" \
    "the customer is told of the escalation once"
is "$(delivered '\[TKT-2\] Escalated to stage 2' 'am@example.com')" "1" \
    "the Stage 2 contacts hear of TKT-2 when it reaches Stage 2"
is "$(delivered '\[TKT-3\] SLA BREACH, response')" "0" \
    "no response breach notice for the answered ticket"
is "$(field TKT-3 '[e["detail"]["goal"] for e in d["events"] if e["type"] == "sla-breach"]')" \
    '["update"]' "its only breach is the update interval it let pass"

done_testing
