# report-scenario.sh - a month of support at known seconds, for the report
# tests (test-report-figures.sh checks every figure by hand, test-report-html.sh
# opens the page).  Sourced by sh after lib.sh; needs no Postfix: mail goes
# in through the daemon's own ingest code at the time each step names
# (build/tests/tools/ingest-at), and "ticketctl tick --now" fires the timers
# in between, right after each deadline.
#
# The desk and both customers are in Europe/Amsterdam, UTC+1 all of
# November 2026.  acme is on the standard plan (Mon-Fri 08-17 local, i.e.
# 07:00-16:00Z: Sev1 response 1 h around the clock and update 4 h, Sev2
# response 2 business hours and update 1 business day, Sev3 response 3
# business days); bakker on extended (the same hours, Dutch holidays,
# response 4 business hours, Sev2 resolution 60 business hours).
#
#   TKT-1 acme, opened Oct 29, answered the same day, resolved Nov 3.
#   TKT-2 acme Sev1, Mon Nov 2 09:00Z, answered 09:30, resolved 12:00.
#   TKT-3 acme Sev2, Mon Nov 2 15:00Z, response due Tue 08:00 and missed
#         (answered 10:00), update due Wed 10:00 and missed, Stage 2 by the
#         ladder Wed 15:00, #escalate to Stage 3 Thu 08:00, resolved Thu 09:00.
#   TKT-4 bakker (Dutch) Sev2, Tue Nov 3 08:00Z, answered 11:00 and pending
#         until the customer answers Wed 08:00, resolved Mon Nov 9 10:00,
#         before its resolution goal (Thu Nov 12 11:00).
#   TKT-5 acme Sev3, Thu Nov 5 14:00Z, response due Tue Nov 10 14:00 and
#         missed: Stage 1 for the missed goal; answered Wed Nov 11 09:00; the
#         customer asks for escalation Thu Nov 12 09:00 (Stage 2); open.
#   TKT-6 a stranger, Fri Nov 6 10:00Z: no goals; open.
#   TKT-7 acme Sev2, Mon Nov 30 15:00Z, response due Tue Dec 1 08:00, after
#         the period, and given Dec 1 07:30.
# The report is made on Dec 2 12:00Z, for November (Oct 31 23:00Z to Nov 30 23:00Z).

R_NOW=2026-12-02T12:00:00Z
R_N=0

report_setup() {
    R_DIR=$(mktemp -d /tmp/tm-report.XXXXXX)
    CONF=$R_DIR/ticket-milter.conf
    DB=$R_DIR/tickets.db
    cat >"$CONF" <<EOF
[milter]
database = $DB
support_addresses = support@example.com
secret_file = $R_DIR/secret
hostname = tickets.test.example
[staff]
domains = example.com
timezone = Europe/Amsterdam
[outbound]
from = Support <support@example.com>
template_dir = $E2E_ROOT/templates
[customer:acme]
domains = acme.test
timezone = Europe/Amsterdam
language = en
[customer:bakker]
domains = bakker.nl
timezone = Europe/Amsterdam
language = nl
plan = extended
EOF
    # The secret the daemon would make on its first start.
    od -An -N32 -tx1 /dev/urandom | tr -d ' \n' >"$R_DIR/secret"
    chmod 600 "$R_DIR/secret"
    trap 'rm -rf "$R_DIR"' EXIT
}

# mail AT [--staff]: the message on standard input, taken in at AT.
mail() {
    R_N=$((R_N + 1))
    at=$1
    shift
    cat >"$R_DIR/m$R_N.eml"
    tick "$at"
    "$E2E_ROOT/$BUILD/tests/tools/ingest-at" -c "$CONF" --now "$at" "$@" "$R_DIR/m$R_N.eml" \
        >>"$R_DIR/ingest.log" || echo "# ingest-at failed at $at"
}

tick() {
    "$E2E_ROOT/$BUILD/ticketctl" -c "$CONF" tick --now "$1" >>"$R_DIR/tick.log"
}

# staff AT TICKET MSGID TEXT: a trusted staff reply on TICKET.
staff() {
    mail "$1" --staff <<EOF
From: Lead <lead@example.com>
To: support@example.com
Subject: Re: [$2] your request
Message-ID: <$3@example.com>

$4
EOF
}

# customer AT FROM SUBJECT MSGID TEXT
customer() {
    mail "$1" <<EOF
From: $2
To: support@example.com
Subject: $3
Message-ID: <$4>

$5
EOF
}

report_scenario() {
    customer 2026-10-29T10:00:00Z 'Jan <jan@acme.test>' 'Question about the invoice layout' \
        't1@acme.test' 'Where do I find the order number on the invoice?'
    staff 2026-10-29T11:00:00Z TKT-1 s1 'It is at the top right.'

    customer 2026-11-02T09:00:00Z 'Jan <jan@acme.test>' '[Sev1] Checkout refuses every order' \
        't2@acme.test' 'Nobody can order.'
    staff 2026-11-02T09:30:00Z TKT-2 s2 'We are on it.'
    staff 2026-11-02T12:00:00Z TKT-2 s2b '#status resolved

Fixed.'
    customer 2026-11-02T15:00:00Z 'Piet <piet@acme.test>' 'Reports are very slow' \
        't3@acme.test' 'Severity: 2

Monthly reports take twenty minutes.'
    customer 2026-11-03T08:00:00Z 'Kees <kees@bakker.nl>' 'Vraag over de factuur' \
        't4@bakker.nl' 'Waar staat het ordernummer op de factuur?'
    tick 2026-11-03T08:01:00Z
    staff 2026-11-03T10:00:00Z TKT-1 s1b '#status resolved'
    staff 2026-11-03T10:00:00Z TKT-3 s3 'Looking into it.'
    staff 2026-11-03T11:00:00Z TKT-4 s4 '#status pending

Welke factuur bedoelt u?'
    customer 2026-11-04T08:00:00Z 'Kees <kees@bakker.nl>' 'Re: [TKT-4] Vraag over de factuur' \
        't4b@bakker.nl' 'Factuur 2026-117.'
    tick 2026-11-04T10:01:00Z
    tick 2026-11-04T15:01:00Z
    staff 2026-11-05T08:00:00Z TKT-3 s3b '#escalate'
    staff 2026-11-05T09:00:00Z TKT-3 s3c '#status resolved

The index is back.'
    customer 2026-11-05T14:00:00Z 'Jan <jan@acme.test>' 'Question about the export format' \
        't5@acme.test' 'Which columns does the export have?'
    customer 2026-11-06T10:00:00Z 'Someone <someone@stranger.test>' 'Hello there' \
        't6@stranger.test' 'Do you sell spare parts?'
    staff 2026-11-09T10:00:00Z TKT-4 s4b '#status resolved

Het ordernummer staat rechtsboven.'
    tick 2026-11-10T14:01:00Z
    staff 2026-11-11T09:00:00Z TKT-5 s5 'The columns are listed in the manual.'
    customer 2026-11-12T09:00:00Z 'Jan <jan@acme.test>' 'Re: [TKT-5] please escalate' \
        't5b@acme.test' 'The manual does not say.'
    customer 2026-11-30T15:00:00Z 'Jan <jan@acme.test>' 'Reports fail to load' \
        't7@acme.test' 'Severity: 2

No report opens.'
    staff 2026-12-01T07:30:00Z TKT-7 s7 'Looking into it.'
    tick "$R_NOW"
}
