#!/bin/sh
# max_message_size: a support message over it is refused with 552 5.3.4,
# at RCPT when the client announced its SIZE, else at the end of the data;
# other recipients of a shared server are not the milter's business; a
# message under the limit is taken.
set -u
. tests/e2e/lib.sh
e2e_setup || { echo "not ok 1 - private Postfix with the milter starts"; exit 1; }
# The [milter] group is lib.sh's: the limit goes into it, and the milter
# starts again with it.
milter_stop
sed -i 's/^\[milter\]$/[milter]\nmax_message_size = 20000/' "$CONF"
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

done_testing
