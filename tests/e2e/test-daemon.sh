#!/bin/sh
# The daemon as a mail admin runs it: started as root, it binds a unix
# socket that Postfix's group may use, drops to its own user, keeps a pid
# file, reloads its config on SIGUSR1 (a bad one is refused and the old one
# stays), writes Prometheus metrics, and on SIGTERM stops without losing a
# message: every message Postfix accepted is stored, once.
set -u
. tests/e2e/lib.sh
e2e_setup || { echo "not ok 1 - private Postfix with the milter starts"; exit 1; }

# The library's daemon runs as root; this test runs its own, as [milter] user.
milter_stop
TUSER=tm-test-$$
useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$TUSER"
cleanup() {
    [ -n "${D_PID:-}" ] && kill "$D_PID" 2>/dev/null && wait "$D_PID" 2>/dev/null
    e2e_teardown
    userdel "$TUSER" 2>/dev/null
}
trap cleanup EXIT

RUN=$E2E_DIR/run
DBDIR=$E2E_DIR/db
mkdir -p "$RUN" "$DBDIR"
chown "$TUSER" "$RUN" "$DBDIR"
SOCK=$RUN/milter.sock
PIDF=$RUN/ticket-milter.pid
PROM=$RUN/ticket-milter.prom
DB=$DBDIR/tickets.db
DLOG=$E2E_DIR/daemon.log
BASE=$E2E_DIR/base.conf

# The library's config, with our [milter] keys in place of its socket and database.
sed -e "s|^socket = .*|socket = unix:$SOCK|" -e "s|^database = .*|database = $DB|" \
    -e '/^socket_owner = /d' -e '/^socket_mode = /d' \
    -e "/^\[milter\]/a user = $TUSER\nsocket_owner = :postfix\nsocket_mode = 0660\npid_file = $PIDF\nmetrics_file = $PROM\nmetrics_interval = 1" \
    "$CONF" >"$BASE"
CONF=$E2E_DIR/daemon.conf
cp "$BASE" "$CONF"

d_start() {
    "$E2E_ROOT/$BUILD/ticket-milter" -c "$CONF" -f >>"$DLOG" 2>&1 &
    D_PID=$!
}
# sock_up: whether something answers on the socket.
sock_up() {
    python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])' "$SOCK" 2>/dev/null
}
wait_sock() {
    end=$(( $(date +%s) + 10 ))
    until sock_up; do
        [ "$(date +%s)" -ge "$end" ] && return 1
        sleep 0.1
    done
}
mail() {
    swaks --server 127.0.0.1 --port "$SMTP_PORT" --from "$1" --to support@example.com \
        --header "Subject: $2" --header "Message-Id: <$3@test>" --body "Test $2" \
        --timeout 30 >"$E2E_DIR/swaks.txt" 2>&1
}
customer_of() { sql "SELECT coalesce(t.customer, '-') FROM tickets t JOIN messages m ON m.ticket_id = t.id WHERE m.message_id = '$1@test'"; }
metric() { awk -v k="$1" '$1 == k { print $2 }' "$PROM" 2>/dev/null; }

# 1. Refusals at start, on the terminal, before anything is changed.
: >"$SOCK"
out=$("$E2E_ROOT/$BUILD/ticket-milter" -c "$CONF" -f 2>&1)
rc=$?
ok $([ "$rc" -ne 0 ]; echo $?) "a regular file where the socket goes stops the start (exit $rc)"
like "$out" "is not a socket; not removing it" "and says so"
ok $([ -f "$SOCK" ] && [ ! -S "$SOCK" ]; echo $?) "the file is left alone"
rm -f "$SOCK"

sed "s/^user = .*/user = no-such-user-$$/" "$BASE" >"$E2E_DIR/nouser.conf"
out=$("$E2E_ROOT/$BUILD/ticket-milter" -c "$E2E_DIR/nouser.conf" -f 2>&1)
rc=$?
ok $([ "$rc" -ne 0 ]; echo $?) "an unknown [milter] user stops the start (exit $rc)"
like "$out" "no such user: no-such-user-$$" "and names the user"

# 2. A stale socket (nobody listening) is removed and the daemon starts.
python3 -c 'import socket, sys
socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$SOCK"
ok $([ -S "$SOCK" ] && ! sock_up; echo $?) "a stale socket file is there before the start"
d_start
wait_sock
ok $? "the daemon listens on its unix socket"
like "$(cat "$DLOG")" "removed a stale socket path=$SOCK" "the stale socket was removed"
is "$(stat -c '%a %G' "$SOCK")" "660 postfix" "the socket has socket_mode and socket_owner's group"
is "$(awk '/^Uid:/ { print $2 "," $3 "," $4 "," $5 }' /proc/$D_PID/status)" \
    "$(id -u "$TUSER"),$(id -u "$TUSER"),$(id -u "$TUSER"),$(id -u "$TUSER")" \
    "it runs as [milter] user: real, effective, saved and file uid"
is "$(awk '/^Gid:/ { print $2 }' /proc/$D_PID/status)" "$(id -g "$TUSER")" "and with the user's group"
is "$(awk '/^Groups:/ { print $2 }' /proc/$D_PID/status)" "$(id -g "$TUSER")" \
    "and with the user's groups only (root's are gone)"
is "$(cat "$PIDF" 2>/dev/null)" "$D_PID" "the pid file holds its pid"
is "$(stat -c %U "$DB")" "$TUSER" "the database it created belongs to the user"

# A second daemon on the same socket must not take it away.
out=$("$E2E_ROOT/$BUILD/ticket-milter" -c "$CONF" -f 2>&1)
like "$out" "another process is listening" "a second daemon refuses a socket that is in use"
ok $(sock_up; echo $?) "and the first still answers on it"

# 3. Postfix reaches the daemon through the socket as the postfix group.
postconf -c "$E2E_DIR/postfix/etc" -e "smtpd_milters = unix:$SOCK"
postfix -c "$E2E_DIR/postfix/etc" reload >/dev/null 2>&1
sleep 1
mail ops@newco.test "before reload" d1
like "$(cat "$E2E_DIR/swaks.txt")" "<- +250 .*queued" "a mail through the unix socket is accepted"
is "$(customer_of d1)" "-" "newco is not a customer yet"

# 4. SIGUSR1 with a good config: a new customer counts for the next mail.
cat >>"$CONF" <<EOF
[customer:newco]
domains = newco.test
language = en
EOF
kill -USR1 "$D_PID"
wait_for 1 10 sh -c "grep -c 'configuration reloaded' '$DLOG'"
ok $? "the reload is logged"
mail ops@newco.test "after reload" d2
is "$(customer_of d2)" "newco" "after the reload the new [customer:newco] takes the next mail"

# 5. SIGUSR1 with a bad config: one log line naming file, line and key; the old one stays.
sed -i -e 's/^domains = newco.test$/domains = elsewhere.test/' "$CONF"
echo "colour = blue" >>"$CONF"
bad_line=$(grep -n '^colour = blue' "$CONF" | cut -d: -f1)
kill -USR1 "$D_PID"
wait_for 1 10 sh -c "grep -c 'reload refused' '$DLOG'"
refused=$(grep 'reload refused' "$DLOG")
like "$refused" "reload refused, the running configuration stays: $CONF:$bad_line: .*colour" \
    "a bad config is refused with one line naming file, line and key"
is "$(grep -c 'reload refused' "$DLOG")" "1" "one line"
ok $(kill -0 "$D_PID"; echo $?) "the daemon is still running"
mail ops@newco.test "after bad reload" d3
is "$(customer_of d3)" "newco" "the old config stays in force"
cp "$BASE" "$CONF"

# 6. Metrics: the file appears, is valid Prometheus text and counts the mail.
wait_for 3 10 metric 'ticket_milter_messages_total{result="accepted"}'
valid=$(python3 - "$PROM" <<'PY'
import re, sys
name = r'[a-zA-Z_:][a-zA-Z0-9_:]*'
label = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"'
sample = re.compile(r'^(%s)(\{%s(?:,%s)*\})? (NaN|[+-]Inf|[-+]?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)$' % (name, label, label))
typed, seen, errors = {}, set(), []
for n, line in enumerate(open(sys.argv[1]).read().split('\n')[:-1], 1):
    if line.startswith('# HELP '):
        if not re.match(r'^# HELP %s .+$' % name, line): errors.append(n)
    elif line.startswith('# TYPE '):
        m = re.match(r'^# TYPE (%s) (counter|gauge|summary|histogram|untyped)$' % name, line)
        if not m or m.group(1) in typed: errors.append(n)
        else: typed[m.group(1)] = m.group(2)
    else:
        m = sample.match(line)
        base = m and re.sub(r'_(sum|count)$', '', m.group(1))
        if not m or (m.group(1) not in typed and base not in typed): errors.append(n)
        seen.add(m and m.group(1))
print('ok' if not errors and typed else 'bad lines %s' % errors)
PY
)
is "$valid" "ok" "the metrics file is valid Prometheus text (HELP, TYPE, samples)"
if command -v promtool >/dev/null 2>&1; then
    lint=$(promtool check metrics <"$PROM" 2>&1)
    ok $? "promtool check metrics passes on the daemon's file"
    [ -n "$lint" ] && printf '%s\n' "$lint" | sed 's/^/#   /'
else
    echo "ok $((TAP_N + 1)) # SKIP promtool is not installed (scripts/install-deps installs it)"
    TAP_N=$((TAP_N + 1))
fi
like "$(metric 'ticket_milter_build_info{version="0.1.0",sqlite="'"$(sqlite3 --version | cut -d' ' -f1)"'",glib="'"$(pkg-config --modversion glib-2.0)"'"}')" \
    '^1$' "build_info names the release and the libraries"
is "$(metric 'ticket_milter_overdue_tickets{severity="1"}')" "0" "no ticket is overdue yet"
is "$(metric 'ticket_milter_last_backup_timestamp_seconds')" "0" "no backup has been made"
is "$(metric 'ticket_milter_messages_total{result="accepted"}')" "3" "it counts the 3 mails sent"
is "$(metric ticket_milter_tickets_created_total)" "3" "and the 3 tickets they opened"
is "$(metric ticket_milter_open_tickets)" "$(sql "SELECT count(*) FROM tickets WHERE status IN ('open','pending')")" \
    "open tickets come from the database"
like "$(metric 'ticket_milter_commit_seconds{quantile="0.99"}')" '^[0-9]+\.[0-9]+$' "commit latency p99 is there"
echo "# commit p50=$(metric 'ticket_milter_commit_seconds{quantile="0.5"}')s p99=$(metric 'ticket_milter_commit_seconds{quantile="0.99"}')s"
ok $([ ! -e "$PROM.tmp" ]; echo $?) "no temporary file is left next to it"
wait_for 3 10 sql "SELECT value FROM counters WHERE name = 'messages_seen'"
is "$(sql "SELECT value FROM counters WHERE name = 'messages_seen'")" "3" \
    "the counters table has the totals"
like "$(sql "SELECT value FROM counters WHERE name = 'commit_us_p99'")" '^[0-9]+$' \
    "and the commit latency in microseconds"

# 7. SIGTERM in the middle of a load: exit 0, and every message Postfix
# accepted is stored exactly once.
N=60
python3 - "$SMTP_PORT" "$N" >"$E2E_DIR/load.out" 2>&1 <<'PY' &
import smtplib, sys, threading, time
port, n = int(sys.argv[1]), int(sys.argv[2])
lock, result = threading.Lock(), {}
def send(i):
    mid = 'term-%d@test' % i
    msg = ('From: <load%d@acme.test>\r\nTo: <support@example.com>\r\nSubject: load %d\r\n'
           'Message-Id: <%s>\r\n\r\nload\r\n' % (i, i, mid))
    try:
        s = smtplib.SMTP('127.0.0.1', port, timeout=60)
        s.sendmail('load%d@acme.test' % i, ['support@example.com'], msg)
        s.quit()
        code = 'accepted'
    except smtplib.SMTPResponseException as e:
        code = 'tempfail' if 400 <= e.smtp_code < 500 else 'reject'
    except smtplib.SMTPRecipientsRefused as e:
        codes = [c for c, _ in e.recipients.values()]
        code = 'tempfail' if all(400 <= c < 500 for c in codes) else 'reject'
    except Exception as e:
        code = 'error-%s' % type(e).__name__
    with lock:
        result[mid] = code
threads = []
for i in range(n):
    t = threading.Thread(target=send, args=(i,))
    t.start()
    threads.append(t)
    time.sleep(0.02)
for t in threads:
    t.join()
for mid, code in sorted(result.items()):
    print(code, mid)
PY
loader=$!
wait_for 10 30 sql "SELECT count(*) FROM messages WHERE message_id LIKE 'term-%'"
kill -TERM "$D_PID"
wait "$D_PID"
rc=$?
D_PID=
wait "$loader"
is "$rc" "0" "SIGTERM: the daemon exits 0"
like "$(cat "$DLOG")" "stopping on SIGTERM" "it logs the stop"
ok $([ ! -e "$PIDF" ]; echo $?) "the pid file is gone"
accepted=$(grep -c '^accepted ' "$E2E_DIR/load.out")
tempfailed=$(grep -c '^tempfail ' "$E2E_DIR/load.out")
others=$(grep -c -v -E '^(accepted|tempfail) ' "$E2E_DIR/load.out")
stored=$(sql "SELECT count(*) FROM messages WHERE message_id LIKE 'term-%'")
tickets=$(sql "SELECT count(DISTINCT ticket_id) FROM messages WHERE message_id LIKE 'term-%'")
echo "# sent=$N accepted=$accepted tempfailed=$tempfailed other=$others stored=$stored tickets=$tickets"
is "$others" "0" "every message was either accepted or tempfailed"
[ "$others" -ne 0 ] && grep -v -E '^(accepted|tempfail) ' "$E2E_DIR/load.out" | sed 's/^/#   /'
ok $([ "$tempfailed" -gt 0 ] && [ "$accepted" -gt 0 ]; echo $?) \
    "the stop came in the middle of the load"
missing=0
for mid in $(sed -n 's/^accepted //p' "$E2E_DIR/load.out"); do
    n=$(sql "SELECT count(*) FROM messages WHERE message_id = '$mid'")
    [ "$n" = "1" ] || { missing=$((missing + 1)); echo "#   $mid stored $n times"; }
done
is "$missing" "0" "every accepted message is stored exactly once"
is "$(sql "SELECT count(DISTINCT message_id) FROM messages WHERE message_id LIKE 'term-%'")" "$stored" \
    "no message is stored twice"
is "$(sql "SELECT value FROM counters WHERE name = 'messages_seen'")" "$((3 + stored))" \
    "the last statistics were saved at the stop"
# Under "make asan" the daemons report memory errors and leaks on exit.
ok $(! grep -q -E 'ERROR: (Address|Leak)Sanitizer|WARNING: ThreadSanitizer|runtime error:' "$DLOG"; echo $?) \
    "the daemons ran without sanitizer reports"

done_testing
