#!/bin/sh
# Hostile mail through a private Postfix: each attack of the support
# address on the open Internet, shown to have no effect on the tickets and
# on what leaves the relay.  A From that is a quoted list of victims gets
# no mail to them; a forged bounce or a postmaster's "new bank details"
# never reach a customer's ticket; an "Auto:" subject does not lose a
# customer's mail; a copied reply-address tag is no loop mark; a forged
# return path is refused; a stranger's reference is no key to a ticket.
set -u
. tests/e2e/lib.sh
F=tests/fixtures/e2e
E2E_CONF_EXTRA='[staff]
addresses = lead@example.com'
e2e_setup || { echo "not ok 1 - private Postfix with the milter starts"; exit 1; }

field() { tctl show "$1" --json | json "$2"; }
events() { field "$1" '[e["type"] for e in d["events"]]'; }
tickets() { sql 'SELECT count(*) FROM tickets'; }
messages_on() { field "$1" 'len(d["messages"])'; }
rcpt_count() { grep -l -E "^X-Rcpt-Args: <$1>" "$SINK_DIR"/* 2>/dev/null | wc -l; }
header() { sed -n "s/^$2: //p" "$1" | head -n 1 | tr -d '\r'; }

send_mail "$F/new-outage.eml"
ok $? "a customer's mail opens TKT-1"
wait_for 1 20 sh -c "grep -l '^Subject: \[TKT-1\] Received' '$SINK_DIR'/* 2>/dev/null | wc -l"
ack=$(grep -l '^Subject: \[TKT-1\] Received' "$SINK_DIR"/* | head -n 1)
reply_to=$(header "$ack" 'Reply-To')

# 1. A From that is one quoted mailbox full of addresses: nothing goes to them.
cat >"$E2E_DIR/victims.eml" <<'MAIL'
From: "x,victim1@other.test,victim2@third.test,y"@evil.test
To: support@example.com
Subject: Cheap watches at evil.test
Message-ID: <victims-1@evil.test>

Buy now at evil.test.
MAIL
send_mail "$E2E_DIR/victims.eml" --from bounce@evil.test
ok $? "the message with a quoted-list From is accepted"
sleep 3
is "$(rcpt_count 'victim1@other.test')" "0" "nothing is sent to victim1"
is "$(rcpt_count 'victim2@third.test')" "0" "nothing is sent to victim2"
reply=$(grep -l -E '^X-Rcpt-Args: <bounce@evil.test>' "$SINK_DIR"/* 2>/dev/null | head -n 1)
ok "$([ -n "$reply" ]; echo $?)" "the one reply goes to the envelope sender"
is "$(grep -c 'Cheap watches' "${reply:-/dev/null}")" "0" "without the sender's spam subject"
is "$(sql "SELECT recipients FROM outbox WHERE template = 'not-contact'")" '["bounce@evil.test"]' \
    "the outbox keeps its recipient as a list of one"

# 2. A "bounce" naming TKT-1: the null sender, and a postmaster with a real sender.
before=$(messages_on TKT-1)
cat >"$E2E_DIR/iban.eml" <<'MAIL'
From: postmaster@evil.test
To: support@example.com
Subject: Re: [TKT-1] Checkout page returns error 500
Message-ID: <iban-1@evil.test>
In-Reply-To: <outage-1@acme.test>

Please pay the invoice to this IBAN instead: XX00 EVIL 0000 0000.
MAIL
send_mail "$E2E_DIR/iban.eml" --from '<>'
ok $? "a null-sender mail naming TKT-1 is accepted"
is "$(messages_on TKT-1)" "$before" "it is not stored on TKT-1"
is "$(sql "SELECT count(*) FROM unattached WHERE message_id = 'iban-1@evil.test'")" "1" \
    "it is kept as an unattached bounce"
like "$(cat "$E2E_DIR/milter.log")" 'action=unattached' "and the log says so"
is "$(tctl unattached --json | json '[u["message_id"] for u in d]')" '["iban-1@evil.test"]' \
    "ticketctl unattached lists it"
sed 's/iban-1@/iban-2@/' "$E2E_DIR/iban.eml" >"$E2E_DIR/iban2.eml"
n=$(tickets)
send_mail "$E2E_DIR/iban2.eml" --from eve@evil.test
is "$(messages_on TKT-1)" "$before" "a postmaster From with a real sender is not stored on TKT-1 either"
is "$(tickets)" "$((n + 1))" "it opens a ticket of its own"
like "$(events TKT-1)" '"reference-refused"' "TKT-1 notes the refused reference"
sleep 2
is "$(rcpt_count 'eve@evil.test')" "0" "and the postmaster gets no answer"

# 3. A designated contact's "Auto: leaseauto start niet" is a ticket, not lost.
cat >"$E2E_DIR/auto.eml" <<'MAIL'
From: Piet Bakker <piet@bakker.nl>
To: support@example.com
Subject: Auto: leaseauto start niet
Message-ID: <lease-1@bakker.nl>

Mijn leaseauto start niet meer sinds vanochtend.
MAIL
n=$(tickets)
send_mail "$E2E_DIR/auto.eml"
is "$(tickets)" "$((n + 1))" "an 'Auto:' subject from a contact opens a ticket"
tag=$(sql "SELECT prefix || '-' || ticket_id FROM messages JOIN tickets ON tickets.id = ticket_id WHERE message_id = 'lease-1@bakker.nl'")
like "$(events "$tag")" '"automation-sign"' "with an event naming the sign"
like "$(events "$tag")" '"ack-withheld"' "and the ack withheld"
like "$(field "$tag" 'd["first_response_due"]')" '^20' "its clock runs"

# 4. A customer copies the tag of their ack's Reply-To into a loop mark.
mac=$(printf '%s' "$reply_to" | sed 's/^support+tkt-1\.\([0-9a-f]*\)@.*/\1/')
cat >"$E2E_DIR/loop.eml" <<MAIL
From: Jan Jansen <jan@acme.test>
To: support@example.com
Subject: A new question
Message-ID: <tkt-1>
X-Ticket-Loop: tickets.test.example; mac=$mac

Is this mail kept?
MAIL
n=$(tickets)
send_mail "$E2E_DIR/loop.eml"
is "$(tickets)" "$((n + 1))" "a loop mark made from a reply-address tag is no loop mark: the mail is kept"

# 5. A forged return path is refused at RCPT; a bounce to the real one joins its ticket.
forged="support+bounce-tkt-1.0123456789abcdef0123456789abcdef@example.com"
send_mail "$F/new-outage.eml" --from '<>' --to "$forged"
ok $(( $? == 0 )) "a forged return path is refused"
like "$(cat "$E2E_DIR/swaks.txt")" '<\*\* *550 5\.7\.1' "at RCPT with 550 5.7.1"
notice=$(grep -l -E '^Subject: \[TKT-1\] New Sev' "$SINK_DIR"/* | head -n 1)
return_path=$(header "$notice" 'X-Mail-Args' | sed 's/^<//; s/>.*//')
like "$return_path" '^support\+bounce-tkt-1\.[0-9a-f]{32}@example\.com$' \
    "a notice about TKT-1 has a signed return path of its ticket"
cat >"$E2E_DIR/dsn.eml" <<'MAIL'
From: MAILER-DAEMON@mx.elsewhere.test
To: support@example.com
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn-1@mx.elsewhere.test>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b"

--b
Content-Type: text/plain

The mail could not be delivered.
--b
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.elsewhere.test

Final-Recipient: rfc822; lead@example.com
Action: failed
Status: 5.1.1
--b--
MAIL
before=$(messages_on TKT-1)
send_mail "$E2E_DIR/dsn.eml" --from '<>' --to "$return_path"
ok $? "a bounce to the signed return path is accepted"
is "$(messages_on TKT-1)" "$((before + 1))" "it is stored on TKT-1"
like "$(events TKT-1)" '"delivery-failed"' "as a delivery failure"

# 6. A stranger's reply in a customer's thread is no key to the ticket.
cat >"$E2E_DIR/thread.eml" <<'MAIL'
From: Eve <eve@evil.test>
To: support@example.com
Subject: Re: Checkout page returns error 500
Message-ID: <thread-1@evil.test>
In-Reply-To: <outage-1@acme.test>
References: <outage-1@acme.test>

Our bank details have changed.
MAIL
before=$(messages_on TKT-1)
send_mail "$E2E_DIR/thread.eml"
is "$(messages_on TKT-1)" "$before" "a stranger's In-Reply-To to the customer's mail does not join TKT-1"
is "$(sql "SELECT count(*) FROM messages m JOIN tickets t ON t.id = m.ticket_id WHERE m.message_id = 'thread-1@evil.test' AND t.requester = 'eve@evil.test'")" \
    "1" "it is a ticket of the stranger's own"

# 7. An envelope sender that is not UTF-8 is refused, and nothing is kept.
n=$(tickets)
python3 - "$SMTP_PORT" >"$E2E_DIR/8bit.txt" 2>&1 <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 20)
f = s.makefile("rb")
def say(line):
    s.sendall(line + b"\r\n")
    reply = f.readline()
    while reply[3:4] == b"-":
        reply = f.readline()
    return reply.decode(errors="replace").strip()
f.readline()
say(b"EHLO client.test")
print("MAIL", say(b"MAIL FROM:<j\xe9r\xf4me@acme.test>"))
print("RCPT", say(b"RCPT TO:<support@example.com>"))
say(b"QUIT")
PY
like "$(cat "$E2E_DIR/8bit.txt")" 'RCPT 5[0-9][0-9]|MAIL 5[0-9][0-9]' \
    "a sender address that is not UTF-8 is refused"
is "$(tickets)" "$n" "and opens no ticket"

# 9. An outbox row with an address that is not plain (an old row, a
# hand-edited database) is failed by the dispatcher, never sent.
sqlite3 -cmd '.timeout 5000' "$DB" "INSERT INTO outbox (kind, template, transport, mail_from,
    recipients, body, created_at, next_attempt_at) VALUES ('notice', 'staff-new', 'smtp', '',
    '[\"x@example.com>\r\nRCPT TO:<victim@third.test\"]', 'Subject: x\r\n\r\nx\r\n',
    '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')"
bad=$(sql "SELECT max(id) FROM outbox")
wait_for 1 20 sql "SELECT count(*) FROM outbox WHERE id = $bad AND status = 'failed'"
is "$(sql "SELECT status FROM outbox WHERE id = $bad")" "failed" \
    "an outbox row whose recipient is no plain address fails"
like "$(sql "SELECT last_error FROM outbox WHERE id = $bad")" 'is not a plain address; not sent' \
    "and says why"
is "$(grep -c 'victim@third.test' "$SINK_DIR"/* 2>/dev/null | awk -F: '{n += $2} END {print n + 0}')" "0" \
    "nothing reaches the address smuggled into it"

done_testing
