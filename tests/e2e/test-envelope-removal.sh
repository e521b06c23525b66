#!/bin/sh
# What becomes of the other recipients when support's copy cannot be a
# ticket, through the real Postfix.  A sender refused only at the end of
# the message (a contact's envelope, a stranger's From) loses the support
# recipient, removed by the very string the client wrote, so the support
# mailbox gets no copy without a ticket while bob keeps his.  A message
# over max_message_size, with no SIZE to refuse it at RCPT, goes on to
# everyone as it came: copying support on something big must not make
# mail to a colleague undeliverable.  For support alone both are refused.
set -u
. tests/e2e/lib.sh
E2E_UNKNOWN_SENDERS=reject
e2e_setup || { echo "not ok 1 - private Postfix with the milter starts"; exit 1; }
milter_stop
sed -i "s|^\[milter\]\$|[milter]\nmax_message_size = 20000\nmetrics_file = $E2E_DIR/metrics.prom\nmetrics_interval = 1|" "$CONF"
milter_start || { echo "not ok 1 - the milter starts with max_message_size = 20000"; exit 1; }

tickets() { sql 'SELECT count(*) FROM tickets'; }
copies() { grep -l -F "Message-ID: <$1>" "$SINK_DIR"/* 2>/dev/null; }
copy_count() { copies "$1" | wc -l; }
# The recipients the copies of <$1> were delivered to, sorted, one line
# (the sink takes both of a message in one transaction, one file).
delivered_to() {
    for f in $(copies "$1"); do sed -n 's/^X-Rcpt-Args: \([^ ]*\).*/\1/p' "$f"; done |
        tr -d '\r' | sort | tr '\n' ' '
}

# smtp FROM MSGID HEADER_FROM KB RCPT...: one transaction, no SIZE, with
# the RCPT arguments exactly as given and a body of KB kB; prints the
# replies ("rcpt CODE" each, then "data CODE TEXT").
smtp() {
    python3 - "$SMTP_PORT" "$@" <<'PY'
import socket, sys
port, sender, msgid, hdr_from, kb, rcpts = (int(sys.argv[1]), sys.argv[2], sys.argv[3],
                                            sys.argv[4], int(sys.argv[5]), sys.argv[6:])
s = socket.create_connection(("127.0.0.1", port), 30)
f = s.makefile("rb")
def reply():
    while True:
        line = f.readline().decode("utf-8", "replace").rstrip("\r\n")
        if len(line) < 4 or line[3] != "-":
            return line
def cmd(c):
    s.sendall(c.encode() + b"\r\n")
    return reply()
reply(); cmd("EHLO client.test"); cmd("MAIL FROM:<%s>" % sender)
for r in rcpts:
    print("rcpt", cmd("RCPT TO:<%s>" % r)[:3])
if cmd("DATA")[:3] == "354":
    body = ("A line of the printer's log, to make the message large.\r\n" * (kb * 19))[: kb * 1024]
    s.sendall(("From: %s\r\nTo: bob@colleague.test, support@example.com\r\n"
               "Subject: Meeting notes\r\nMessage-ID: <%s>\r\n\r\n%s\r\n.\r\n"
               % (hdr_from, msgid, body)).encode())
    print("data", reply())
cmd("QUIT")
PY
}

# 1. Refused at the end, support written with quotes: removed as written.
out=$(smtp ops@acme.test late-1@stranger.test '"Someone" <someone@stranger.test>' 1 \
      bob@colleague.test '"support"@example.com')
like "$out" '^data 250 ' "a contact's envelope with a stranger's From, to bob and support, is taken"
wait_for 1 20 copy_count late-1@stranger.test
sleep 1
is "$(delivered_to late-1@stranger.test)" "<bob@colleague.test> " \
    "bob gets it, and the support mailbox does not"
is "$(tickets)" "0" "no ticket"
like "$(cat "$E2E_DIR/milter.log")" \
    'pass: sender is not a registered support contact, no ticket; delivered to the other recipients .*removed=<support@example\.com>' \
    "the log line names the removed recipient"
like "$(grep 'late-1@stranger.test' "$E2E_DIR/maillog" | grep -c 'to=<"support"@example.com>\|to=<support@example.com>')" '^0$' \
    "Postfix delivers nothing to support for it"

# 2. The same to support alone: 550 at the end, nothing delivered.
out=$(smtp ops@acme.test late-2@stranger.test '"Someone" <someone@stranger.test>' 1 \
      'support@EXAMPLE.COM.')
like "$out" '^data 550 5\.7\.1 ' "to support alone it is refused with 550 5.7.1"

# 3. Too big at its end, with bob: both copies go on untouched.
out=$(smtp jan@acme.test big-1@acme.test 'Jan <jan@acme.test>' 40 \
      bob@colleague.test support@example.com)
like "$out" '^data 250 ' "40 kB without SIZE to bob and support is taken"
wait_for 1 20 copy_count big-1@acme.test
is "$(delivered_to big-1@acme.test)" "<bob@colleague.test> <support@example.com> " \
    "bob and the support mailbox both get it"
is "$(grep -l '^X-Ticket-ID' $(copies big-1@acme.test) | wc -l)" "0" "untouched: no tag"
# The sink stores lines with LF: the body's text, its line ends aside.
body_chars=$(python3 -c 'print(len(("A line of the printer%cs log, to make the message large.\r\n"
                                    % 39 * 760)[:40960].replace("\r\n", "")))')
is "$(for f in $(copies big-1@acme.test); do sed '1,/^\r*$/d' "$f" | tr -d '\r\n' | wc -c; done |
      sort -u)" "$body_chars" "and the whole body"
is "$(tickets)" "0" "no ticket"
like "$(cat "$E2E_DIR/milter.log")" 'pass: message too big for a ticket limit=20000 .*delivered untouched' \
    "the log says it went on untouched"
wait_for 1 10 sh -c "grep -c '^ticket_milter_passes_total{reason=\"too-big\"} 1' '$E2E_DIR/metrics.prom'"
like "$(cat "$E2E_DIR/metrics.prom")" 'ticket_milter_passes_total\{reason="too-big"\} 1' \
    "and the metrics count it"
like "$(cat "$E2E_DIR/metrics.prom")" 'ticket_milter_passes_total\{reason="refused-sender"\} 1' \
    "as they count the refused sender's pass"

# 4. Too big for support alone: 552, as before.
out=$(smtp jan@acme.test big-2@acme.test 'Jan <jan@acme.test>' 40 '"support"@example.com')
like "$out" '^data 552 5\.3\.4 ' "40 kB without SIZE to support alone is refused with 552 5.3.4"
is "$(tickets)" "0" "still no ticket"

done_testing
