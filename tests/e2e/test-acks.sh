#!/bin/sh
# Acknowledgements and the mail loop rules: the ack threads under the
# customer's mail, in their language and zone; replies to it come back to
# the ticket; auto-replies, bounces and our own mail start no loop; a flood
# gets at most ack_limit acks; a relay that is down delays the ack, once.
set -u
. tests/e2e/lib.sh
F=tests/fixtures/e2e
e2e_setup || { echo "not ok 1 - private Postfix with the milter starts"; exit 1; }

field() { tctl show "$1" --json | json "$2"; }
tickets() { tctl list --json | json 'len(d)'; }
ack_file() { grep -l -E "^Subject: \[$1\] (Received|Ontvangen)" "$SINK_DIR"/* 2>/dev/null | head -n 1; }
acks_to() { grep -l -E "^X-Rcpt-Args: <$1>" "$SINK_DIR"/* 2>/dev/null | xargs -r grep -l '^Auto-Submitted: auto-replied' | wc -l; }
header() { sed -n "s/^$2: //p" "$1" | head -n 1 | tr -d '\r'; }

# 1. The acknowledgement of a new ticket.
send_mail "$F/new-outage.eml"
wait_for 1 20 sh -c "grep -l '^Subject: \[TKT-1\] Received' '$SINK_DIR'/* 2>/dev/null | wc -l"
ack=$(ack_file TKT-1)
ok $([ -n "$ack" ]; echo $?) "the requester gets an acknowledgement"
is "$(header "$ack" 'X-Rcpt-Args' | cut -d' ' -f1)" "<jan@acme.test>" "addressed to the requester"
is "$(header "$ack" 'X-Mail-Args')" "<>" "sent with the null sender"
is "$(header "$ack" 'In-Reply-To')" "<outage-1@acme.test>" "threaded under the customer's mail"
like "$(header "$ack" 'References')" '<outage-1@acme.test>' "with References"
is "$(header "$ack" 'Auto-Submitted')" "auto-replied" "marked Auto-Submitted: auto-replied"
like "$(header "$ack" 'Reply-To')" '^support\+tkt-1\.[0-9a-f]{32}@example\.com$' \
    "replies go to the signed ticket address"
like "$(header "$ack" 'X-Ticket-Loop')" 'mac=[0-9a-f]{32}' "it carries our loop mark"
like "$(header "$ack" 'Message-I[Dd]')" '^<tm\.[0-9]+\.[0-9a-f]+@tickets\.test\.example>$' \
    "it has a Message-ID of its own"
like "$(cat "$ack")" 'Severity:  3 \(normal\)' "it names the severity"
like "$(cat "$ack")" 'Response:  by ... [0-9]+ ... 20[0-9][0-9] [0-9][0-9]:[0-9][0-9] CE' \
    "and the response goal as a clock time"
ack_id=$(header "$ack" 'Message-I[Dd]')
reply_to=$(header "$ack" 'Reply-To')

# 2. A Dutch customer gets a Dutch ack with the deadline in Amsterdam time.
send_mail "$F/second-question.eml"
wait_for 1 20 sh -c "grep -l '^Subject: \[TKT-2\] Ontvangen' '$SINK_DIR'/* 2>/dev/null | wc -l"
nl=$(ack_file TKT-2)
like "$(cat "$nl")" 'Bedankt voor uw bericht' "a Dutch customer's ack is in Dutch"
due=$(field TKT-2 'd["first_response_due"]')
want=$(python3 -c 'import sys, datetime as d, zoneinfo
t = d.datetime.strptime(sys.argv[1], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=d.timezone.utc)
l = t.astimezone(zoneinfo.ZoneInfo("Europe/Amsterdam"))
days = ["ma", "di", "wo", "do", "vr", "za", "zo"]
months = ["jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"]
print("%s %d %s %d %s" % (days[l.weekday()], l.day, months[l.month - 1], l.year, l.strftime("%H:%M %Z")))' "$due")
like "$(cat "$nl")" "uiterlijk $want" "with the deadline in Europe/Amsterdam time ($want)"

# 3. A reply to the ack's address joins the ticket; a forged one is refused at RCPT.
cat >"$E2E_DIR/reply.eml" <<MAIL
From: Jan Jansen <jan@acme.test>
To: $reply_to
Subject: Re: Received: Checkout page returns error 500
Message-ID: <outage-2@acme.test>
In-Reply-To: $ack_id
Date: Tue, 24 Nov 2026 10:40:00 +0100

It also fails on the mobile site.
MAIL
before=$(tickets)
send_mail "$E2E_DIR/reply.eml"
ok $? "a reply to the ticket address is accepted"
is "$(tickets)" "$before" "it opens no ticket"
is "$(field TKT-1 'len(d["messages"])')" "2" "it joins TKT-1"
forged=$(printf '%s' "$reply_to" | sed 's/\.[0-9a-f]\{32\}@/.0123456789abcdef0123456789abcdef@/')
sed "s/^Message-ID: .*/Message-ID: <forged-1@acme.test>/" "$E2E_DIR/reply.eml" >"$E2E_DIR/forged.eml"
send_mail "$E2E_DIR/forged.eml" --to "$forged"
ok $(( $? == 0 )) "a forged ticket address is refused"
like "$(cat "$E2E_DIR/swaks.txt")" '<\*\* 550 5\.7\.1 ' "at RCPT with 550 5.7.1"

# 4. An out-of-office answer to our ack: recorded, not answered, no loop.
cat >"$E2E_DIR/ooo.eml" <<MAIL
From: Jan Jansen <jan@acme.test>
To: support@example.com
Subject: Automatic reply: [TKT-1] Received: Checkout page returns error 500
Message-ID: <ooo-1@acme.test>
In-Reply-To: $ack_id
Auto-Submitted: auto-replied
Date: Tue, 24 Nov 2026 10:41:00 +0100

I am out of the office until Monday.
MAIL
acks_before=$(acks_to jan@acme.test)
before=$(tickets)
send_mail "$E2E_DIR/ooo.eml" --from jan@acme.test
ok $? "an out-of-office reply to the ack is accepted"
is "$(tickets)" "$before" "it opens no ticket"
like "$(field TKT-1 '[e["type"] for e in d["events"]]')" '"auto-reply"' "it is recorded on TKT-1"
sleep 4
is "$(acks_to jan@acme.test)" "$acks_before" "it is not answered"

# 5. Our own ack, sent to support (a loop in the making), passes unrecorded.
before=$(tickets)
send_mail "$ack" --from '' --to support@example.com
ok $? "our own ack arriving at support is accepted"
is "$(tickets)" "$before" "it opens no ticket"
like "$(cat "$E2E_DIR/milter.log")" 'pass: our own mail' "the log says it passed as our own mail"

# 6. A bounce of an ack lands on its ticket as a failed delivery.
cat >"$E2E_DIR/bounce.eml" <<MAIL
From: MAILER-DAEMON@partner.test
To: support@example.com
Subject: Undelivered Mail Returned to Sender
Message-ID: <bounce-1@partner.test>
Date: Tue, 24 Nov 2026 10:42:00 +0100
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b1"

--b1
Content-Type: text/plain

Your message could not be delivered.

--b1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.partner.test

Final-Recipient: rfc822; jan@acme.test
Action: failed
Status: 5.1.1

--b1
Content-Type: text/rfc822-headers

From: Support <support@example.com>
To: jan@acme.test
Message-ID: $ack_id
Subject: [TKT-1] Received: Checkout page returns error 500

--b1--
MAIL
before=$(tickets)
send_mail "$E2E_DIR/bounce.eml" --from ''
ok $? "a bounce of the ack is accepted"
is "$(tickets)" "$before" "it opens no ticket"
is "$(field TKT-1 '[e["detail"]["status"] for e in d["events"] if e["type"] == "delivery-failed"][0]')" \
    "5.1.1" "TKT-1 records the failed delivery and its status"

# 7. A flood of 50 mails from one address within a minute: at most ack_limit acks.
i=0
while [ $i -lt 50 ]; do
    sed "s/^Message-ID: .*/Message-ID: <flood-$i@flood.test>/; s/^Subject: .*/Subject: Flood $i/; s/^From: .*/From: Flood <bot@flood.test>/" \
        "$F/unknown-sender.eml" >"$E2E_DIR/flood.eml"
    send_mail "$E2E_DIR/flood.eml" --from bot@flood.test
    i=$((i + 1))
done
is "$(tctl list --json | json 'len([t for t in d if t["requester"] == "bot@flood.test"])')" "50" \
    "all 50 are recorded"
sleep 5
is "$(acks_to bot@flood.test)" "5" "exactly ack_limit (5) of them are acknowledged"
is "$(sql "SELECT count(*) FROM events WHERE type = 'ack-withheld' AND detail LIKE '%rate-limited%'")" \
    "45" "the other 45 record why not"

# 7b. A forger's victim under ten +tags is one mailbox: ack_limit (5) in all.
i=0
while [ $i -lt 10 ]; do
    sed "s/^Message-ID: .*/Message-ID: <tag-$i@third.test>/; s/^Subject: .*/Subject: Tagged $i/; s/^From: .*/From: <victim+$i@third.test>/" \
        "$F/unknown-sender.eml" >"$E2E_DIR/tagged.eml"
    send_mail "$E2E_DIR/tagged.eml" --from "victim+$i@third.test"
    i=$((i + 1))
done
sleep 3
is "$(grep -l -E '^X-Rcpt-Args: <victim\+[0-9]@third.test>' "$SINK_DIR"/* 2>/dev/null | wc -l)" "5" \
    "ten +tags of one mailbox get ack_limit (5) acknowledgements in all"

# 7c. Strangers together get not_contact_limit (20) not-contact replies an hour.
before=$(sql "SELECT count(*) FROM outbox WHERE template = 'not-contact'")
i=0
while [ $i -lt 25 ]; do
    sed "s/^Message-ID: .*/Message-ID: <many-$i@many$i.test>/; s/^Subject: .*/Subject: Many $i/; s/^From: .*/From: <someone@many$i.test>/" \
        "$F/unknown-sender.eml" >"$E2E_DIR/many.eml"
    send_mail "$E2E_DIR/many.eml" --from "someone@many$i.test"
    i=$((i + 1))
done
is "$(sql "SELECT count(*) FROM outbox WHERE template = 'not-contact'")" "20" \
    "25 more strangers after $before replies: not-contact replies stop at not_contact_limit (20)"
is "$(sql "SELECT count(*) FROM events WHERE type = 'ack-withheld' AND detail LIKE '%not-contact-limit%'")" \
    "$((25 - (20 - before)))" "each one past it records why"
is "$(tctl list --json | json 'len([t for t in d if t["requester"].endswith(".test") and t["requester"].startswith("someone@many")])')" \
    "25" "and all 25 are tickets"

# 8. The relay is down for a minute: the ack waits in the outbox and goes once.
relay=$(free_port)
milter_stop
sed -i "s|^smtp_url = .*|smtp_url = smtp://127.0.0.1:$relay|" "$CONF"
milter_start
mkdir -p "$E2E_DIR/relay"
chown postfix "$E2E_DIR/relay"
sed 's/outage-1@/relay-1@/; s/^Subject: .*/Subject: Sent while the relay is down/' \
    "$F/new-outage.eml" >"$E2E_DIR/relay.eml"
send_mail "$E2E_DIR/relay.eml"
ok $? "a new mail is accepted while the relay is down"
tag=$(tctl list --json | json '[t["id"] for t in d if t["subject"] == "Sent while the relay is down"][0]')
sleep 60
is "$(sql "SELECT status FROM outbox WHERE template = 'ack-new' AND ticket_id = ${tag#TKT-}")" \
    "pending" "after a minute the ack still waits in the outbox"
like "$(sql "SELECT attempts FROM outbox WHERE template = 'ack-new' AND ticket_id = ${tag#TKT-}")" \
    '^([2-9]|[1-9][0-9])$' "having been tried again and again"
smtp-sink -u postfix -d "$E2E_DIR/relay/%H%M%S." "127.0.0.1:$relay" 100 >/dev/null 2>&1 &
relay_pid=$!
wait_for 1 30 sh -c "grep -l '^Subject: \[$tag\] Received' '$E2E_DIR'/relay/* 2>/dev/null | wc -l"
sleep 5
is "$(grep -l "^Subject: \[$tag\] Received" "$E2E_DIR"/relay/* 2>/dev/null | wc -l)" "1" \
    "when the relay is back the ack arrives, once"
is "$(sql "SELECT status FROM outbox WHERE template = 'ack-new' AND ticket_id = ${tag#TKT-}")" \
    "sent" "and the outbox says sent"
kill "$relay_pid"
wait "$relay_pid" 2>/dev/null

done_testing
