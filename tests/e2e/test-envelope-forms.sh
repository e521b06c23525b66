#!/bin/sh
# Envelope recipients written the ways a client may write one mailbox,
# through the real Postfix.  "support"@example.com, sup\port@example.com,
# support@example.com., support@EXAMPLE.COM, a source route, and on a
# domain Postfix serves itself support%example.com@host, a quoted '@' and
# a bang path: Postfix delivers each to support@example.com, so each is
# support mail to the milter too.  Were it not, an attacker would reach
# the support mailbox unticketed, past unknown_senders = reject, and a
# forged ticket tag written that way would never be checked.
set -u
. tests/e2e/lib.sh
E2E_UNKNOWN_SENDERS=reject
e2e_setup || { echo "not ok 1 - private Postfix with the milter starts"; exit 1; }

HEX=0123456789abcdef0123456789abcdef
tickets() { sql 'SELECT count(*) FROM tickets'; }
# The delivered copies of the message with Message-ID <$1>, one path a line
# (the acknowledgements have Message-IDs of their own).
copies() { grep -l -F "Message-ID: <$1>" "$SINK_DIR"/* 2>/dev/null; }
copy_count() { copies "$1" | wc -l; }

# smtp FROM MSGID HEADER_FROM RCPT...: one transaction with the RCPT
# arguments exactly as given; prints one line per RCPT ("rcpt CODE") and
# one for the data ("data CODE", or "data none" when no recipient was
# taken).
smtp() {
    python3 - "$SMTP_PORT" "$@" <<'PY'
import socket, sys
port, sender, msgid, hdr_from, rcpts = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
s = socket.create_connection(("127.0.0.1", port), 30)
f = s.makefile("rb")
def reply():
    while True:
        line = f.readline().decode("utf-8", "replace")
        if len(line) < 4 or line[3] != "-":
            return line[:3]
def cmd(c):
    s.sendall(c.encode() + b"\r\n")
    return reply()
reply(); cmd("EHLO client.test"); cmd("MAIL FROM:<%s>" % sender)
taken = 0
for r in rcpts:
    code = cmd("RCPT TO:<%s>" % r)
    print("rcpt", code)
    taken += code == "250"
if taken == 0:
    print("data none")
elif cmd("DATA") == "354":
    s.sendall(("From: %s\r\nTo: support@example.com\r\nSubject: Printer offline\r\n"
               "Message-ID: <%s>\r\n\r\nThe printer is offline.\r\n.\r\n" % (hdr_from, msgid)).encode())
    print("data", reply())
cmd("QUIT")
PY
}

# 1. One mailbox, five spellings: each is support mail, and a ticket.
n=0
for rcpt in '"support"@example.com' 'sup\port@example.com' 'support@example.com.' \
            'support@EXAMPLE.COM' '@relay.test:support@example.com'; do
    n=$((n + 1))
    is "$(smtp jan@acme.test "form-$n@acme.test" jan@acme.test "$rcpt" | tr '\n' ' ')" \
        "rcpt 250 data 250 " "RCPT TO:<$rcpt> is taken"
    is "$(tickets)" "$n" "and opens a ticket"
    wait_for 1 20 copy_count "form-$n@acme.test"
    is "$(grep -h '^X-Ticket-ID:' $(copies "form-$n@acme.test") 2>/dev/null | tr -d '\r')" \
        "X-Ticket-ID: TKT-$n" "the copy Postfix delivers to support carries the tag"
    # Postfix keeps the domain's case on the way (it is the same domain).
    is "$(grep -h '^X-Rcpt-Args:' $(copies "form-$n@acme.test") 2>/dev/null | cut -d' ' -f2 |
          tr 'A-Z' 'a-z')" "<support@example.com>" "and went to support@example.com"
done

# 2. Unknown senders are refused at support however it is written, and
#    the other recipient keeps the mail.
for rcpt in '"support"@example.com' 'sup\port@example.com' 'support@example.com.' \
            '@relay.test:support@EXAMPLE.COM'; do
    n=$((n + 1))
    is "$(smtp eve@stranger.test "stranger-$n@stranger.test" eve@stranger.test "$rcpt" \
          bob@colleague.test | tr '\n' ' ')" "rcpt 550 rcpt 250 data 250 " \
        "a stranger to $rcpt and bob: support refused at RCPT, bob taken"
    wait_for 1 20 copy_count "stranger-$n@stranger.test"
    is "$(grep -h '^X-Rcpt-Args:' $(copies "stranger-$n@stranger.test") | cut -d' ' -f2 | tr '\n' ' ')" \
        "<bob@colleague.test> " "only bob gets it"
done
is "$(tickets)" "5" "no ticket for the stranger"

# 3. A forged ticket tag is refused however it is written.
for rcpt in "\"support+tkt-1.$HEX\"@example.com" "support+tkt-1.$HEX@example.com." \
            "SUPPORT+TKT-1.$HEX@EXAMPLE.COM" "@relay.test:support+tkt-1.$HEX@example.com"; do
    is "$(smtp jan@acme.test forged@acme.test jan@acme.test "$rcpt" | tr '\n' ' ')" \
        "rcpt 550 data none " "the forged tag $rcpt is refused at RCPT"
done
like "$(cat "$E2E_DIR/milter.log")" \
    "reject: RCPT <support\\+tkt-1\\.$HEX@example\\.com>: forged or stale ticket address" \
    "the log names the address as it was compared"

# 4. Routed forms on a domain this Postfix serves: its resolver takes
#    support%example.com@mx.test.example to support@example.com, and so
#    does the milter, through Postfix's {rcpt_addr}.
postconf -c "$E2E_DIR/postfix/etc" -e mydestination=mx.test.example
postfix -c "$E2E_DIR/postfix/etc" reload >/dev/null 2>&1
sleep 2
before=$(tickets)
m=0
for rcpt in 'support%example.com@mx.test.example' '"support@example.com"@mx.test.example' \
            'example.com!support@mx.test.example'; do
    m=$((m + 1))
    is "$(smtp jan@acme.test "routed-$m@acme.test" jan@acme.test "$rcpt" | tr '\n' ' ')" \
        "rcpt 250 data 250 " "RCPT TO:<$rcpt> is taken"
    is "$(tickets)" "$((before + m))" "and opens a ticket"
    wait_for 1 20 copy_count "routed-$m@acme.test"
    like "$(grep -h '^X-Ticket-ID:' $(copies "routed-$m@acme.test") 2>/dev/null)" '^X-Ticket-ID: TKT-' \
        "the copy delivered to support carries the tag"
done
is "$(smtp eve@stranger.test routed-stranger@stranger.test eve@stranger.test \
      'support%example.com@mx.test.example' | tr '\n' ' ')" "rcpt 550 data none " \
    "a stranger's support%example.com@mx.test.example is refused at RCPT"
is "$(smtp jan@acme.test routed-forged@acme.test jan@acme.test \
      "support+tkt-1.$HEX%example.com@mx.test.example" | tr '\n' ' ')" "rcpt 550 data none " \
    "and so is a forged tag routed that way"

done_testing
