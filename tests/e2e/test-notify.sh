#!/bin/sh
# The daemon the way its Type=notify unit runs it (ticket-milter -f with
# NOTIFY_SOCKET): READY=1 once its socket takes mail, SIGHUP reloading as
# SIGUSR1 does (RELOADING=1, then READY=1 with what became of it), a config
# it refuses leaving the running one, STOPPING=1 and status 0 at SIGTERM.
# A SIGHUP that reaches libmilter's own signal thread stops the milter
# without our asking: that is a failure (status 70), for systemd to undo.
# Under the journal (JOURNAL_STREAM names standard error), log lines are
# not copied to standard error, which syslog has already.
set -u
. tests/e2e/lib.sh
F=tests/fixtures/e2e
e2e_setup || { echo "not ok 1 - private Postfix with the milter starts"; exit 1; }
milter_stop
NOTIFY=$E2E_DIR/notify.sock
NOTES=$E2E_DIR/notify.txt
tests/notify-listener "$NOTIFY" "$NOTES" &
L_PID=$!
D_PID=
trap '[ -n "$D_PID" ] && kill "$D_PID" 2>/dev/null; kill "$L_PID" 2>/dev/null; e2e_teardown' EXIT
wait_for 1 10 sh -c "[ -S '$NOTIFY' ] && echo 1"
# lib.sh's teardown looks for sanitizer reports in milter.log.
DLOG=$E2E_DIR/milter.log
BASE=$E2E_DIR/base.conf
cp "$CONF" "$BASE"

notes() { grep -c -E "$1" "$NOTES"; }
logged() { grep -c -E "$1" "$DLOG"; }
# d_start [LOG]: the daemon as the unit starts it, standard error to LOG.
d_start() {
    NOTIFY_SOCKET=$NOTIFY "$E2E_ROOT/$BUILD/ticket-milter" -f -c "$CONF" >>"${1:-$DLOG}" 2>&1 &
    D_PID=$!
}
d_stop() {
    kill -TERM "$D_PID"
    wait "$D_PID"
    D_RC=$?
    D_PID=
}

d_start
wait_for 1 10 notes '^READY=1'
ok $? "the daemon tells systemd it is ready"
like "$(grep '^READY=1' "$NOTES" | head -n 1)" '\|STATUS=taking mail on ' "with a status naming its socket"
send_mail "$F/new-outage.eml"
like "$(grep '^<-  250 ' "$E2E_DIR/swaks.txt" | tail -n 1)" 'queued' "and takes mail then"

kill -HUP "$D_PID"
wait_for 1 10 logged 'configuration reloaded'
ok $? "SIGHUP reloads the configuration"
is "$(tail -n 2 "$NOTES" | tr '\n' ' ')" "RELOADING=1 READY=1|STATUS=taking mail; configuration reloaded " \
    "saying RELOADING=1, then READY=1"
echo "[customer:broken" >>"$CONF"
kill -HUP "$D_PID"
wait_for 1 10 logged 'reload refused'
ok $? "a config with a mistake is refused"
like "$(tail -n 1 "$NOTES")" '^READY=1\|STATUS=reload refused, the running configuration stays: .*:[0-9]+: ' \
    "systemctl status would say why"
ok $(kill -0 "$D_PID" 2>/dev/null; echo $?) "and the daemon runs on"
cp "$BASE" "$CONF"
kill -USR1 "$D_PID"
wait_for 2 10 logged 'configuration reloaded'
ok $? "SIGUSR1 reloads as before"
send_mail "$F/second-question.eml"
like "$(grep '^<-  250 ' "$E2E_DIR/swaks.txt" | tail -n 1)" 'queued' "mail goes on through the reloads"

d_stop
is "$D_RC" "0" "SIGTERM stops it with status 0"
is "$(tail -n 1 "$NOTES")" "STOPPING=1|STATUS=stopping: finishing the messages in progress" \
    "after telling systemd it is stopping"

# libmilter's signal thread: the one besides the main thread that waits in
# the same system call as the main thread (sigwait).  A signal sent to a
# thread's id goes to that thread when it waits for the signal.
signal_thread() {
    main_call=$(cut -d' ' -f1 "/proc/$D_PID/task/$D_PID/syscall" 2>/dev/null)
    for t in /proc/"$D_PID"/task/*; do
        n=${t##*/}
        [ "$n" != "$D_PID" ] && [ "$(cut -d' ' -f1 "$t/syscall" 2>/dev/null)" = "$main_call" ] &&
            echo "$n"
    done
}
d_start
wait_for 2 10 notes '^READY=1\|STATUS=taking'
# smfi_main() starts that thread just after READY=1.
tid=
end=$(($(date +%s) + 10))
while [ -z "$tid" ] && [ "$(date +%s)" -lt "$end" ]; do
    tid=$(signal_thread | head -n 1)
    [ -n "$tid" ] || sleep 0.2
done
ok $([ -n "$tid" ]; echo $?) "libmilter's signal thread is found"
if [ -n "$tid" ]; then
    kill -HUP "$tid"
    wait "$D_PID"
    D_RC=$?
else
    d_stop
fi
D_PID=
is "$D_RC" "70" "a milter that stops without being asked exits with status 70"
is "$(logged 'stopped without being asked')" "1" "and says why"

# Under systemd, standard error is the journal.
JLOG=$E2E_DIR/journal.log
: >"$JLOG"
JOURNAL_STREAM=$(stat -c '%d:%i' "$JLOG")
export JOURNAL_STREAM
d_start "$JLOG"
wait_for 3 10 notes '^READY=1\|STATUS=taking'
d_stop
unset JOURNAL_STREAM
is "$(grep -c -E 'starting ticket-milter|stopped' "$JLOG")" "0" \
    "with standard error the journal, log lines go to syslog only"

done_testing
