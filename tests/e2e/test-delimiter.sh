#!/bin/sh
# [milter] recipient_delimiter follows Postfix's: with "-+" our reply
# addresses are support-tkt-1.TAG@, a reply to one threads onto its
# ticket, and so does the same tag after '+'; a forged tag is still
# refused, and support-anything@ is still support mail.
set -u
. tests/e2e/lib.sh
F=tests/fixtures/e2e
E2E_MILTER_EXTRA='recipient_delimiter = -+'
E2E_CONF_EXTRA='[staff]
addresses = lead@example.com'
e2e_setup || { echo "not ok 1 - private Postfix with the milter starts"; exit 1; }

field() { tctl show "$1" --json | json "$2"; }
tickets() { sql 'SELECT count(*) FROM tickets'; }

send_mail "$F/new-outage.eml"
ok $? "the first mail opens TKT-1"
wait_for 1 20 sh -c "grep -l '^X-Rcpt-Args: <jan@acme.test>' '$SINK_DIR'/* 2>/dev/null | wc -l"
ack=$(sink_grep '^X-Rcpt-Args: <jan@acme.test>' | head -n 1)
reply_to=$(sed -n 's/^Reply-To: *//p' "$ack" | head -n 1 | sed 's/.*<\(.*\)>.*/\1/')
like "$reply_to" '^support-tkt-1\.[0-9a-f]{32}@example.com$' \
    "the acknowledgement's Reply-To is made with the first delimiter"
wait_for 1 20 sh -c "grep -l '^X-Rcpt-Args: <lead@example.com>' '$SINK_DIR'/* 2>/dev/null | wc -l"
notice=$(sink_grep '^X-Rcpt-Args: <lead@example.com>' | head -n 1)
like "$(sed -n 's/^X-Mail-Args: *//p' "$notice" | head -n 1 | sed 's/^<//; s/>.*//')" \
    '^support-bounce-tkt-1\.[0-9a-f]{32}@example\.com$' "and so is a notice's return path"

reply() {
    cat >"$E2E_DIR/$1.eml" <<MAIL
From: Jan Jansen <jan@acme.test>
To: $2
Subject: more detail
Message-ID: <$1@acme.test>
Date: Tue, 24 Nov 2026 11:00:00 +0100

It also fails on the mobile site ($1).
MAIL
}
reply r1 "$reply_to"
send_mail "$E2E_DIR/r1.eml" --to "$reply_to"
ok $? "a reply to the ticket address is accepted"
is "$(tickets)" "1" "it opens no ticket"
is "$(field TKT-1 'len(d["messages"])')" "2" "it joins TKT-1"

plus=$(printf '%s' "$reply_to" | sed 's/^support-/support+/')
reply r2 "$plus"
send_mail "$E2E_DIR/r2.eml" --to "$plus"
ok $? "the same tag after '+' is accepted"
is "$(field TKT-1 'len(d["messages"])')" "3" "and joins TKT-1 too"

forged=$(printf '%s' "$reply_to" | sed 's/\.[0-9a-f]\{32\}@/.0123456789abcdef0123456789abcdef@/')
reply r3 "$forged"
send_mail "$E2E_DIR/r3.eml" --to "$forged"
ok $(( $? == 0 )) "a forged ticket address is refused"
like "$(cat "$E2E_DIR/swaks.txt")" '<\*\* 550 5\.7\.1 ' "at RCPT with 550 5.7.1"

reply r4 "support-sales@example.com"
send_mail "$E2E_DIR/r4.eml" --to support-sales@example.com
ok $? "support-sales@ is accepted"
is "$(tickets)" "2" "as support mail: a ticket of its own"

done_testing
