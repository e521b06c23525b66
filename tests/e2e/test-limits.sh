#!/bin/sh
# max_message_size: a support message over it is refused with 552 5.3.4,
# at RCPT when the client announced its SIZE, else at the end of the data;
# other recipients of a shared server are not the milter's business; a
# message under the limit is taken.  Staff mail over it is refused whole,
# also on its way to a customer, and a customer's big mail passed on to
# support and another keeps no X-Ticket-ID of the sender's.  The bytes
# kept (max_buffered_bytes) are all given back.
set -u
. tests/e2e/lib.sh
e2e_setup || { echo "not ok 1 - private Postfix with the milter starts"; exit 1; }
# The [milter] group is lib.sh's: the limit goes into it, and the milter
# starts again with it.
milter_stop
sed -i -e "s|^\\[milter\\]\$|[milter]\\nmax_message_size = 20000\\nmax_buffered_bytes = 40000\\nmetrics_file = $E2E_DIR/tm.prom\\nmetrics_interval = 1|" \
    -e 's/^\[staff\]$/[staff]\ntrusted_networks = 127.0.0.1/' "$CONF"
milter_start || { echo "not ok 1 - the milter starts with max_message_size = 20000"; exit 1; }

# smtp FROM TO SIZE_KB ANNOUNCE: sends a message of about SIZE_KB kB with
# Python's smtplib, announcing SIZE when ANNOUNCE is 1; prints the stage
# and the reply of the first refusal, or "accepted".
smtp() {
    python3 - "$SMTP_PORT" "$1" "$2" "$3" "$4" <<'PY'
import smtplib, sys
port, sender, rcpt, kb, announce = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5] == "1"
body = ("Some text line for the size test.\r\n" * (kb * 30))[: kb * 1024]
msg = ("From: <%s>\r\nTo: <%s>\r\nSubject: size %d kB\r\nMessage-ID: <size-%d-%s@acme.test>\r\n\r\n%s"
       % (sender, rcpt, kb, kb, "a" if announce else "n", body)).encode()
s = smtplib.SMTP("127.0.0.1", port, timeout=30)
s.ehlo("client.test")
opts = ["SIZE=%d" % len(msg)] if announce else []
code, text = s.mail(sender, opts)
if code != 250:
    print("mail", code, text.decode()); sys.exit(0)
code, text = s.rcpt(rcpt)
if code != 250:
    print("rcpt", code, text.decode()); sys.exit(0)
code, text = s.data(msg)
print("accepted" if code == 250 else "data %d %s" % (code, text.decode()))
s.quit()
PY
}

like "$(smtp jan@acme.test support@example.com 40 1)" '^rcpt 552 5\.3\.4 .*too big' \
    "40 kB announced with SIZE: refused at RCPT with 552 5.3.4"
like "$(smtp jan@acme.test support@example.com 40 0)" '^data 552 5\.3\.4 .*too big' \
    "40 kB without SIZE: refused at the end of the data with 552 5.3.4"
is "$(sql 'SELECT count(*) FROM tickets')" "0" "neither made a ticket"
is "$(smtp jan@acme.test colleague@elsewhere.test 40 1)" "accepted" \
    "40 kB for another address is none of the milter's business"
is "$(smtp jan@acme.test support@example.com 10 1)" "accepted" "10 kB is accepted"
is "$(sql 'SELECT count(*) FROM tickets')" "1" "and makes a ticket"
like "$(cat "$E2E_DIR/milter.log")" 'reject: RCPT <support@example.com>: message too big size=[0-9]+ limit=20000' \
    "the log names the size and the limit"

# send FILE FROM RCPT,RCPT ANNOUNCE: FILE through smtplib, announcing its
# SIZE when ANNOUNCE is 1; prints each refused RCPT, then the end.
send() {
    python3 - "$SMTP_PORT" "$@" <<'PY'
import smtplib, sys
port, path, sender, rcpts, announce = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4].split(","), sys.argv[5] == "1"
msg = open(path, "rb").read().replace(b"\n", b"\r\n")
s = smtplib.SMTP("127.0.0.1", port, timeout=30)
s.ehlo("client.test")
s.mail(sender, ["SIZE=%d" % len(msg)] if announce else [])
ok = 0
for r in rcpts:
    code, text = s.rcpt(r)
    if code == 250:
        ok += 1
    else:
        print("rcpt %s %d %s;" % (r, code, text.decode()), end=" ")
code, text = s.data(msg) if ok else (0, b"no recipient")
print("accepted" if code == 250 else "data %d %s" % (code, text.decode()))
s.quit()
PY
}

# big FILE HEADERS...: a 40 kB message of those header lines and a note.
big() {
    out=$1
    shift
    { printf '%s\n' "$@"; echo; echo "#internal"; echo; echo "The bug is ours; do not tell them."
      i=0; while [ $i -lt 800 ]; do echo "log line $i: padding padding padding"; i=$((i + 1)); done
    } >"$out"
}

big "$E2E_DIR/note.eml" "From: Lead <lead@example.com>" "To: Jan <jan@acme.test>" \
    "Cc: support@example.com" "Subject: Re: [TKT-1] size 10 kB" "Message-ID: <big-note@example.com>" \
    "In-Reply-To: <size-10-a@acme.test>"
like "$(send "$E2E_DIR/note.eml" lead@example.com jan@acme.test,support@example.com 0)" \
    "^data 552 5\.3\.4 Staff mail over the support system's size limit cannot be recorded" \
    "a staff note over the limit to the customer and support: refused whole with 552 5.3.4"
big "$E2E_DIR/out.eml" "From: Lead <lead@example.com>" "To: Jan <jan@acme.test>" \
    "Subject: Re: [TKT-1] size 10 kB" "Message-ID: <big-out@example.com>" \
    "In-Reply-To: <size-10-a@acme.test>"
like "$(send "$E2E_DIR/out.eml" lead@example.com jan@acme.test 0)" '^data 552 5\.3\.4 Staff mail' \
    "a staff reply over the limit on its way to the customer alone: refused too"
like "$(send "$E2E_DIR/note.eml" lead@example.com jan@acme.test,support@example.com 1)" \
    '^rcpt support@example.com 552 5\.3\.4 .*too big.*; data 552 5\.3\.4 Staff mail' \
    "announced with SIZE: support is refused at RCPT, the customer's copy at the end"
big "$E2E_DIR/forged.eml" "X-Ticket-ID: TKT-1" "From: Jan <jan@acme.test>" \
    "To: support@example.com, colleague@elsewhere.test" "Subject: big logs" \
    "Message-ID: <big-forged@acme.test>"
is "$(send "$E2E_DIR/forged.eml" jan@acme.test support@example.com,colleague@elsewhere.test 0)" \
    "accepted" "a customer's big mail to support and a colleague goes on"
wait_for 1 20 sh -c "grep -l '^Message-ID: <big-forged@acme.test>' '$SINK_DIR'/* 2>/dev/null | wc -l"
got=$(grep -l '^Message-ID: <big-forged@acme.test>' "$SINK_DIR"/* 2>/dev/null)
like "$(grep -h '^X-Rcpt-Args:' $got)" 'support@example.com' "support's mailbox gets it"
is "$(grep -c -i '^X-Ticket-ID:' $got)" "0" "without the X-Ticket-ID the sender wrote"
is "$(grep -l -e '^Message-ID: <big-note@example.com>' -e '^Message-ID: <big-out@example.com>' \
    "$SINK_DIR"/* 2>/dev/null | wc -l)" "0" "no copy of the staff mail went anywhere"
is "$(sql "SELECT count(*) FROM messages WHERE message_id LIKE 'big-%'")" "0" \
    "and none is on a ticket"
sleep 2
like "$(cat "$E2E_DIR/tm.prom")" 'ticket_milter_rejects_total\{reason="staff-too-big"\} 3' \
    "the metrics count the three refusals as staff-too-big"
is "$(grep '^ticket_milter_buffered_bytes ' "$E2E_DIR/tm.prom")" "ticket_milter_buffered_bytes 0" \
    "and no byte is kept once the messages are done"

done_testing
