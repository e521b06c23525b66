#!/bin/sh
# Fault: the file system of the database is full.  The database lives on a
# small tmpfs of its own; the test fills it.  Then every message is answered
# 451 4.3.0 with a reason the sender can read, and none is accepted without
# its ticket.  When the space is back the next message (and the retry of a
# refused one) is accepted and stored, without restarting anything.
set -u
. tests/e2e/lib.sh
e2e_setup || { echo "not ok 1 - private Postfix with the milter starts"; exit 1; }

# The database moves to a 2 MB tmpfs under the test's directory; it is
# unmounted before the directory is removed.
FS=$E2E_DIR/fs
fault_teardown() {
    postfix -c "$E2E_DIR/postfix/etc" stop >/dev/null 2>&1
    milter_stop
    if mountpoint -q "$FS"; then
        umount "$FS" || umount -l "$FS"
    fi
    e2e_teardown
}
trap fault_teardown EXIT
milter_stop
mkdir -p "$FS"
mount -t tmpfs -o size=2m,mode=0755 tmpfs "$FS"
ok $? "a 2 MB tmpfs for the database is mounted"
DB=$FS/tickets.db
e2e_write_conf
milter_start
ok $? "the daemon starts with its database there"

# mkmail NAME BODY-KBYTES: writes $E2E_DIR/NAME.eml, Message-ID <NAME@acme.test>.
mkmail() {
    {
        printf 'From: Jan Jansen <jan@acme.test>\nTo: support@example.com\n'
        printf 'Subject: Disk full case %s\nMessage-ID: <%s@acme.test>\n' "$1" "$1"
        printf 'Date: Tue, 24 Nov 2026 10:00:00 +0100\n\n'
        printf 'The order service fails for case %s.\n' "$1"
        awk -v n="$(($2 * 16))" 'BEGIN { for (i = 0; i < n; i++)
            printf "Log line %06d of the failing order service, for the size.....\n", i }'
    } >"$E2E_DIR/$1.eml"
}
stored() { sql "SELECT count(*) FROM messages WHERE message_id = '$1@acme.test'"; }
in_sink() { grep -l -i "^Message-Id: <$1@acme.test>" "$SINK_DIR"/* 2>/dev/null | wc -l; }
sent=0
accepted=0
tempfailed=0

# 1. Normal operation first.
mkmail before 1
send_mail "$E2E_DIR/before.eml"
rc=$?
sent=$((sent + 1))
[ $rc -eq 0 ] && accepted=$((accepted + 1))
ok $rc "with space left a message is accepted"
is "$(stored before)" "1" "and stored"

# 2. Fill the file system.
dd if=/dev/zero of="$FS/filler" bs=4k >/dev/null 2>&1
avail=$(df -k --output=avail "$FS" | tail -n 1 | tr -d ' ')
echo "# filled: $(du -k "$FS/filler" | cut -f1) kB of filler, $avail kB available"
is "$avail" "0" "the database's file system is full"

# 3. Messages now get 451 4.3.0 with a reason, and nothing is accepted.
i=1
while [ $i -le 5 ]; do
    mkmail "full-$i" 64
    send_mail "$E2E_DIR/full-$i.eml"
    rc=$?
    sent=$((sent + 1))
    if [ $rc -eq 0 ]; then
        accepted=$((accepted + 1))
    else
        tempfailed=$((tempfailed + 1))
    fi
    cp "$E2E_DIR/swaks.txt" "$E2E_DIR/full-$i.swaks"
    i=$((i + 1))
done
answers=$(grep -h '<\*\* *[45][0-9][0-9]' "$E2E_DIR"/full-*.swaks)
echo "$answers" | sed 's/^/# swaks: /'
is "$tempfailed" "5" "all 5 messages sent while the disk is full are refused"
is "$(grep -l '<\*\* 451 4\.3\.0 ' "$E2E_DIR"/full-*.swaks | wc -l | tr -d ' ')" "5" \
    "each with 451 4.3.0 (a temporary failure: the sender tries again)"
like "$(grep -h '<\*\* 451 4\.3\.0 ' "$E2E_DIR"/full-*.swaks | head -n 1)" \
    'out of storage space' "with the reason: out of storage space"
ok $(grep -q '<\*\* 5[0-9][0-9]' "$E2E_DIR"/full-*.swaks; [ $? -ne 0 ]; echo $?) "never a 5xx"
like "$(cat "$E2E_DIR/milter.log")" 'tempfail: .*no space left for the database' \
    "the log says why"
ok $(kill -0 "$MILTER_PID" 2>/dev/null; echo $?) "the daemon keeps running"
sleep 3
n_stored=0
n_sink=0
for i in 1 2 3 4 5; do
    n_stored=$((n_stored + $(stored "full-$i")))
    n_sink=$((n_sink + $(in_sink "full-$i")))
done
is "$n_stored" "0" "none of them is stored (half-recorded)"
is "$n_sink" "0" "none of them reached the support mailbox"

# Small messages may still fit in pages the database already has (the WAL
# is reused after a checkpoint); whatever the answer, it must match the store.
bad=0
for i in 1 2 3; do
    mkmail "small-$i" 0
    send_mail "$E2E_DIR/small-$i.eml"
    rc=$?
    sent=$((sent + 1))
    if [ $rc -eq 0 ]; then
        accepted=$((accepted + 1))
        [ "$(stored "small-$i")" = 1 ] || bad=$((bad + 1))
        echo "# small-$i: accepted while the disk is full, stored $(stored "small-$i")"
    else
        tempfailed=$((tempfailed + 1))
        grep -q '<\*\* 451 4\.3\.0 ' "$E2E_DIR/swaks.txt" || bad=$((bad + 1))
        [ "$(stored "small-$i")" = 0 ] || bad=$((bad + 1))
        echo "# small-$i: $(grep -h '<\*\* ' "$E2E_DIR/swaks.txt" | head -n 1)"
    fi
done
is "$bad" "0" "small messages while full: each is either accepted and stored, or 451 4.3.0 and not stored"

# 4. Space returns: the retry of a refused message and a new one are taken.
rm -f "$FS/filler"
send_mail "$E2E_DIR/full-1.eml"
rc=$?
sent=$((sent + 1))
[ $rc -eq 0 ] && accepted=$((accepted + 1))
ok $rc "when space returns, the retried message is accepted"
like "$(cat "$E2E_DIR/swaks.txt")" '<- *250 ' "with 250"
is "$(stored full-1)" "1" "and stored once"
mkmail after 1
send_mail "$E2E_DIR/after.eml"
rc=$?
sent=$((sent + 1))
[ $rc -eq 0 ] && accepted=$((accepted + 1))
ok $rc "the next new message is accepted"
is "$(stored after)" "1" "and stored"
ticket_of() { sql "SELECT ticket_id FROM messages WHERE message_id = '$1@acme.test'"; }
ok $([ -n "$(ticket_of full-1)" ] && [ -n "$(ticket_of after)" ] &&
     [ "$(ticket_of full-1)" != "$(ticket_of after)" ]; echo $?) "each has its own ticket"
wait_for 3 20 sh -c "grep -l -i '^Message-Id: <\(before\|full-1\|after\)@acme.test>' '$SINK_DIR'/* 2>/dev/null | wc -l"
is "$(($(in_sink before) + $(in_sink full-1) + $(in_sink after)))" "3" \
    "the accepted messages reach the support mailbox"
tickets=$(sql "SELECT count(*) FROM tickets")
is "$tickets" "$accepted" "one ticket for each accepted message, none for a refused one"
is "$(sql 'PRAGMA integrity_check')" "ok" "the database is intact"
echo "# sent $sent accepted $accepted tempfailed $tempfailed tickets $tickets"

done_testing
