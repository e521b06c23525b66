#!/bin/sh
# The README's postconf lines, as an admin types them, on a Postfix that
# already runs another milter (OpenDKIM, verifying) under its own global
# milter_default_action = accept: the other milter stays first and keeps
# working, ticket-milter comes last with its own default_action=tempfail,
# and the global default is left alone.  A stopped ticket-milter makes
# Postfix defer the mail (451), so no support mail is accepted without a
# ticket; a stopped OpenDKIM is passed by, as its admin chose.
set -u
. tests/e2e/lib.sh
. tests/e2e/readme.sh
F=tests/fixtures/e2e
e2e_setup || { echo "not ok 1 - private Postfix with the milter starts"; exit 1; }
PF=$E2E_DIR/postfix/etc
# This test's ticket-milter, in Postfix's words (lib.sh wrote it).
OURS=$(postconf -c "$PF" -h smtpd_milters)

OD_PORT=$(free_port)
cat >"$E2E_DIR/opendkim.conf" <<CONF
Mode v
AuthservID other.test.example
AlwaysAddARHeader yes
Socket inet:$OD_PORT@127.0.0.1
PidFile $E2E_DIR/opendkim.pid
Background no
Syslog no
UserID postfix
CONF
OD_PID=
od_start() {
    opendkim -f -x "$E2E_DIR/opendkim.conf" >>"$E2E_DIR/opendkim.log" 2>&1 &
    OD_PID=$!
    wait_port "$OD_PORT" 10
}
od_stop() {
    [ -n "$OD_PID" ] && kill "$OD_PID" 2>/dev/null && wait "$OD_PID" 2>/dev/null
    OD_PID=
}
trap 'od_stop; e2e_teardown' EXIT
od_start
ok $? "OpenDKIM, the host's other milter, runs"
# The host as its admin set it up before ticket-milter.
postconf -c "$PF" -e "smtpd_milters = inet:127.0.0.1:$OD_PORT" "milter_default_action = accept"

lines=$(readme_block "postconf lines")
is "$(printf '%s\n' "$lines" | grep -c 'unix:/run/ticket-milter/milter.sock')" "1" \
    "the README names the packaged socket once"
like "$(man_has_lines man/ticket-milter.8 "$lines")" '^$' "ticket-milter(8) has the same lines"
# As written, but for this Postfix's config directory and this test's socket.
printf '%s\n' "$lines" | sed -e "s|postconf |postconf -c \"$PF\" |g" \
    -e "s|unix:/run/ticket-milter/milter.sock|$OURS|g" >"$E2E_DIR/wiring.sh"
sh -eu "$E2E_DIR/wiring.sh"
ok $? "the README's lines run"
is "$(postconf -c "$PF" -h smtpd_milters)" "inet:127.0.0.1:$OD_PORT, { $OURS, default_action=tempfail }" \
    "OpenDKIM stays first, ticket-milter comes last with its own default"
is "$(postconf -c "$PF" -h milter_default_action)" "accept" "the global default is left alone"
postfix -c "$PF" reload >/dev/null 2>&1
sleep 1

# reply_of: the last SMTP reply in the transcript before QUIT's.
reply_of() {
    grep -E '^<(-|\*\*) +[2-5][0-9][0-9] ' "$E2E_DIR/swaks.txt" | grep -v -E '^<(-|\*\*) +221 ' |
        tail -n 1 | sed -E 's/^<(-|\*\*) +//'
}
from_outside() {
    send_mail "$1" --local-interface 127.0.0.2
}

from_outside "$F/new-outage.eml"
like "$(reply_of)" '^250 ' "support mail is accepted through both milters"
wait_for 1 15 sh -c "grep -l '^Message-ID: <outage-1@acme.test>' \"$SINK_DIR\"/* 2>/dev/null | wc -l"
copy=$(sink_grep '^Message-ID: <outage-1@acme.test>' | head -n 1)
like "$(grep -E '^(X-Ticket-ID|Authentication-Results):' "${copy:-/dev/null}")" \
    'Authentication-Results: other.test.example; dkim=none' "OpenDKIM saw it"
like "$(grep '^X-Ticket-ID:' "${copy:-/dev/null}")" '^X-Ticket-ID: TKT-1$' "and it became TKT-1"

from_outside "$F/not-support.eml"
like "$(reply_of)" '^250 ' "other mail is accepted through both milters"

milter_stop
sent_before=$(sink_count)
from_outside "$F/sev1-outage.eml"
like "$(reply_of)" '^4[0-9][0-9] 4\.' "with ticket-milter stopped, support mail is deferred (4xx), not accepted"
sleep 2
is "$(sink_count)" "$sent_before" "and nothing is delivered"
# Postfix applies a milter's default to the whole session (README says so).
from_outside "$F/not-support.eml"
like "$(reply_of)" '^4[0-9][0-9] 4\.' "other mail on that smtpd is deferred as well while it is stopped"

milter_start
od_stop
from_outside "$F/sev1-outage.eml"
like "$(reply_of)" '^250 ' "with OpenDKIM stopped, the global default (accept) passes it by"
like "$(tctl show TKT-2 --json 2>/dev/null | json 'd["subject"]')" 'Production down' \
    "and ticket-milter still makes the ticket"

done_testing
