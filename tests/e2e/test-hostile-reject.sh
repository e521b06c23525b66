#!/bin/sh
# unknown_senders = reject: a refusal is that recipient's. A stranger's mail
# to support is refused at RCPT, where the envelope sender already says so,
# and the other recipients of the same transaction still get it; a mail
# whose From shows the refusal only at the end is refused with 5xx only
# when support is its one recipient, else it passes to the others with no
# ticket and a log line.
set -u
. tests/e2e/lib.sh
E2E_UNKNOWN_SENDERS=reject
e2e_setup || { echo "not ok 1 - private Postfix with the milter starts"; exit 1; }

tickets() { sql 'SELECT count(*) FROM tickets'; }
rcpt_count() { grep -l -E "^X-Rcpt-Args: <$1>" "$SINK_DIR"/* 2>/dev/null | wc -l; }

cat >"$E2E_DIR/stranger.eml" <<'MAIL'
From: Someone <someone@stranger.test>
To: bob@colleague.test, support@example.com
Subject: Meeting and a question
Message-ID: <stranger-1@stranger.test>

See you on Friday. And a question for support.
MAIL

# 1. Known at RCPT: support refused, bob keeps it.
send_mail "$E2E_DIR/stranger.eml" --to bob@colleague.test,support@example.com
ok $? "a stranger's mail to bob and support is accepted for bob"
like "$(cat "$E2E_DIR/swaks.txt")" 'RCPT TO:<support@example.com>' "the support recipient is offered"
like "$(cat "$E2E_DIR/swaks.txt")" '<\*\* *550 5\.7\.1 .*registered support contacts' \
    "and refused at RCPT with 550 5.7.1 and a sentence"
wait_for 1 20 rcpt_count 'bob@colleague.test'
is "$(rcpt_count 'bob@colleague.test')" "1" "bob gets the mail"
is "$(tickets)" "0" "no ticket is opened"

# 2. Only support, known at RCPT: refused, nothing stored.
send_mail "$E2E_DIR/stranger.eml" --to support@example.com
ok $(( $? == 0 )) "the same mail to support alone is refused"
is "$(tickets)" "0" "still no ticket"

# 3. Known only at the end (a contact's envelope, a stranger's From).
sed 's/stranger-1@/stranger-2@/' "$E2E_DIR/stranger.eml" >"$E2E_DIR/late.eml"
send_mail "$E2E_DIR/late.eml" --from ops@acme.test --to bob@colleague.test,support@example.com
ok $? "with other recipients, a refusal known only at the end of the message is no 5xx"
wait_for 2 20 rcpt_count 'bob@colleague.test'
is "$(rcpt_count 'bob@colleague.test')" "2" "bob gets that one too"
is "$(tickets)" "0" "without a ticket"
like "$(cat "$E2E_DIR/milter.log")" 'pass: sender is not a registered support contact, no ticket; delivered to the other recipients' \
    "and a log line says so"
sed 's/stranger-1@/stranger-3@/' "$E2E_DIR/stranger.eml" >"$E2E_DIR/late2.eml"
send_mail "$E2E_DIR/late2.eml" --from ops@acme.test --to support@example.com
ok $(( $? == 0 )) "to support alone it is refused at the end of the message"
like "$(cat "$E2E_DIR/swaks.txt")" '<\*\*+ *550 5\.7\.1' "with 550 5.7.1"

# 4. A designated contact is served as ever.
cat >"$E2E_DIR/contact.eml" <<'MAIL'
From: Jan Jansen <jan@acme.test>
To: support@example.com
Subject: Printer offline
Message-ID: <contact-1@acme.test>

The printer is offline.
MAIL
send_mail "$E2E_DIR/contact.eml"
ok $? "a contact's mail is accepted"
is "$(tickets)" "1" "and opens a ticket"

done_testing
