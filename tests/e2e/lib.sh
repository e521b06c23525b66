# lib.sh - a private Postfix on 127.0.0.1 with ticket-milter in front of it,
# for the end-to-end tests, the benchmarks and the demo.  Sourced by sh.
#
# e2e_setup starts, in a directory of its own under /tmp:
#   - smtp-sink on SINK_PORT, writing every delivered message to $SINK_DIR
#     (it stands for the support mailbox and for every customer's server);
#   - ticket-milter with $CONF (E2E_CONF_EXTRA is appended,
#     E2E_MILTER_EXTRA goes into its [milter] group) on MILTER_SOCKET:
#     as in a deployment, a unix socket ($E2E_DIR/milter.sock) of the group
#     postfix with mode 0660; with E2E_SOCKET=inet the TCP port MILTER_PORT
#     on 127.0.0.1 instead (the form for a milter on another host);
#   - Postfix with its own config directory: smtpd on SMTP_PORT runs the
#     milter, smtpd on OUT_PORT does not (the relay ticket-milter sends its
#     own mail through; with E2E_RELAY=sink it sends to the sink directly),
#     and everything is relayed to the sink.
# It needs root (Postfix drops to the postfix user). Nothing outside the
# directory is touched; only processes started here are stopped, by pid.
#
# e2e_second_host (after e2e_setup) starts another MX host on the same
# database, secret file and sink: a Postfix of its own on SMTP_PORT_B and
# OUT_PORT_B, and a ticket-milter (MILTER_PID_B) on the socket
# MILTER_SOCKET_B with the config CONF_B (CONF, but that socket), all in
# $E2E_DIR/b; milter_start_b and milter_stop_b start and stop its daemon.
#
# E2E_DATABASE=pg: the daemon's database is PostgreSQL instead of a SQLite
# file: a private cluster of the test's own (tests/pg-cluster, in
# $E2E_DIR/pg, stopped by its pid at teardown), DB its URI, the secret in
# $E2E_DIR/secret as a URI wants it named.  sql and db_exec then ask psql,
# booleans read as SQLite's 1 and 0; on_sqlite says whether a check that
# is about SQLite's files can run.  With E2E_PG_URI (the URI a running
# cluster's tests/pg-cluster start printed: a benchmark's, for all its
# runs) no cluster is started: e2e_setup creates a database of its own in
# that one, named after its directory, and the teardown drops it.

BUILD=${BUILD:-build}
E2E_ROOT=$(pwd)
TAP_N=0
TAP_FAILED=0

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_port PORT SECONDS: until something accepts connections on it.
wait_port() {
    python3 - "$1" "$2" <<'PY'
import socket, sys, time
port, limit = int(sys.argv[1]), float(sys.argv[2])
end = time.time() + limit
while time.time() < end:
    try:
        socket.create_connection(("127.0.0.1", port), 0.5).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
PY
}

# The milter socket as Postfix names it (smtpd_milters = ...);
# MILTER_SOCKET is ticket-milter's way (socket = ...).
postfix_milter_spec() {
    case $MILTER_SOCKET in
    unix:*) echo "$MILTER_SOCKET" ;;
    *) echo "inet:127.0.0.1:$MILTER_PORT" ;;
    esac
}

e2e_write_postfix() {
    pf=$E2E_DIR/postfix
    milters=$(postfix_milter_spec)
    [ -n "${E2E_NO_MILTER:-}" ] && milters=
    mkdir -p "$pf/etc" "$pf/queue" "$pf/data"
    chown postfix "$pf/data"
    cat >"$pf/etc/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $pf/queue
data_directory = $pf/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.test.example
mydomain = test.example
myorigin = test.example
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:$SINK_PORT
disable_dns_lookups = yes
smtp_dns_support_level = disabled
smtp_host_lookup = native
smtputf8_enable = no
maillog_file = $E2E_DIR/maillog
maillog_file_prefixes = /tmp, /var
message_size_limit = 52428800
smtpd_milters = $milters
milter_default_action = tempfail
milter_protocol = 6
queue_run_delay = 2s
minimal_backoff_time = 2s
maximal_backoff_time = 4s
smtp_connect_timeout = 5s
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_client_connection_rate_limit = 0
smtpd_client_connection_count_limit = 0
default_process_limit = 200
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
EOF
    # master.cf: Debian's, with our listeners instead of port 25 and no chroot.
    awk -v smtp="$SMTP_PORT" -v out="$OUT_PORT" '
        /^smtp[ \t]+inet/ {
            print "127.0.0.1:" smtp " inet n - n - - smtpd"
            print "127.0.0.1:" out " inet n - n - - smtpd -o smtpd_milters="
            next
        }
        /^[a-z]/ && NF >= 8 && $5 == "y" { $5 = "n" }
        { print }
    ' /usr/share/postfix/master.cf.dist >"$pf/etc/master.cf" || return
    [ -z "${E2E_SASL:-}" ] || e2e_write_sasl
}

# E2E_SASL=1: the milter smtpd offers SMTP AUTH (Cyrus SASL, PLAIN and LOGIN,
# no TLS) against a private sasldb with one user, $E2E_SASL_USER with
# $E2E_SASL_PASS. The port ticket-milter sends through stays without AUTH.
# Debian's Postfix looks for smtpd.conf in $config_directory/sasl whatever
# cyrus_sasl_config_path says, so the files live there and the parameter
# names the same directory for other builds.
e2e_write_sasl() {
    E2E_SASL_USER=${E2E_SASL_USER:-lead@example.com}
    E2E_SASL_PASS=${E2E_SASL_PASS:-staff-secret-1}
    export E2E_SASL_USER E2E_SASL_PASS
    sasl=$E2E_DIR/postfix/etc/sasl
    mkdir -p "$sasl"
    cat >"$sasl/smtpd.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN
sasldb_path: $sasl/sasldb2
EOF
    printf '%s' "$E2E_SASL_PASS" |
        saslpasswd2 -f "$sasl/sasldb2" -p -c -u "${E2E_SASL_USER##*@}" "${E2E_SASL_USER%@*}" ||
        return 1
    # Root owns the config directory (postfix check); smtpd reads as postfix.
    chgrp postfix "$sasl/sasldb2"
    chmod 640 "$sasl/sasldb2"
    cat >>"$E2E_DIR/postfix/etc/main.cf" <<EOF
cyrus_sasl_config_path = $sasl
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
smtpd_sasl_security_options = noanonymous
smtpd_tls_security_level = none
EOF
    postconf -c "$E2E_DIR/postfix/etc" -P \
        "127.0.0.1:$SMTP_PORT/inet/smtpd_sasl_auth_enable=yes"
}

e2e_write_conf() {
    # E2E_RELAY=sink: the daemon's own mail goes straight to the sink.
    relay_port=$OUT_PORT
    [ "${E2E_RELAY:-}" = sink ] && relay_port=$SINK_PORT
    # A unix socket is the postfix group's, as in a deployment.
    socket_access=
    secret_line=
    [ "${E2E_DATABASE:-sqlite}" = pg ] && secret_line="
secret_file = $E2E_DIR/secret"
    case $MILTER_SOCKET in
    unix:*) socket_access="socket_owner = :postfix
socket_mode = 0660" ;;
    esac
    cat >"$CONF" <<EOF
[milter]
socket = $MILTER_SOCKET
$socket_access
database = $DB$secret_line
support_addresses = support@example.com;help@example.com
ticket_prefix = TKT
unknown_senders = ${E2E_UNKNOWN_SENDERS:-accept}
busy_timeout = 500
hostname = tickets.test.example
${E2E_MILTER_EXTRA:-}
[staff]
domains = example.com
[outbound]
smtp_url = smtp://127.0.0.1:$relay_port
from = Support <support@example.com>
template_dir = $E2E_ROOT/templates
retry_base = 2
retry_max = 4
${E2E_OUTBOUND_EXTRA:-}
[customer:acme]
domains = acme.test
contacts = ops@partner.test
timezone = Europe/Amsterdam
language = en
[customer:bakker]
domains = bakker.nl
timezone = Europe/Amsterdam
language = nl
${E2E_CONF_EXTRA:-}
EOF
}

# wait_milter SECONDS: until something accepts connections on the milter
# socket.
wait_milter() {
    case $MILTER_SOCKET in
    unix:*) ;;
    *) wait_port "$MILTER_PORT" "$1"; return ;;
    esac
    python3 - "${MILTER_SOCKET#unix:}" "$1" <<'PY'
import socket, sys, time
path, limit = sys.argv[1], float(sys.argv[2])
end = time.time() + limit
while time.time() < end:
    try:
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(0.5)
        s.connect(path)
        s.close()
        sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
PY
}

# E2E_MILTER_CMD, when set, runs instead of ticket-milter with the socket
# spec as its last argument (the benchmarks' baseline milter).
milter_start() {
    [ -n "${E2E_NO_MILTER:-}" ] && return 0
    if [ -n "${E2E_MILTER_CMD:-}" ]; then
        $E2E_MILTER_CMD "$MILTER_SOCKET" >>"$E2E_DIR/milter.log" 2>&1 &
    else
        "$E2E_ROOT/$BUILD/ticket-milter" -c "$CONF" -f >>"$E2E_DIR/milter.log" 2>&1 &
    fi
    MILTER_PID=$!
    if ! wait_milter 10; then
        echo "# ticket-milter did not start:"
        sed 's/^/#   /' "$E2E_DIR/milter.log" | tail -n 20
        return 1
    fi
}

milter_stop() {
    [ -n "${MILTER_PID:-}" ] || return 0
    kill "$MILTER_PID" 2>/dev/null
    wait "$MILTER_PID" 2>/dev/null
    MILTER_PID=
}

# sink_start: the capture server; sink_stop takes it away (a relay that is
# down).  Each message is a file of its own in $SINK_DIR; with E2E_SINK=one
# (the benchmarks) all of them go to the one file $SINK_DIR/all, each
# starting with its X-Client-Addr line: a file created for every message in
# a directory of thousands costs more than the mail server being measured.
sink_start() {
    dump="-d $SINK_DIR/%H%M%S."
    [ "${E2E_SINK:-}" = one ] && dump="-D $SINK_DIR/all"
    # shellcheck disable=SC2086
    smtp-sink -u postfix $dump "127.0.0.1:$SINK_PORT" 100 \
        >>"$E2E_DIR/sink.log" 2>&1 &
    SINK_PID=$!
    wait_port "$SINK_PORT" 10
}

sink_stop() {
    [ -n "${SINK_PID:-}" ] || return 0
    kill "$SINK_PID" 2>/dev/null
    wait "$SINK_PID" 2>/dev/null
    SINK_PID=
}

e2e_setup() {
    E2E_DIR=$(mktemp -d /tmp/tm-e2e.XXXXXX)
    chmod 755 "$E2E_DIR"
    SINK_DIR=$E2E_DIR/sink
    mkdir -p "$SINK_DIR"
    chown postfix "$SINK_DIR"
    CONF=$E2E_DIR/ticket-milter.conf
    DB=$E2E_DIR/tickets.db
    if [ "${E2E_DATABASE:-sqlite}" = pg ] && [ -n "${E2E_PG_URI:-}" ]; then
        E2E_PG_DB=$(basename "$E2E_DIR" | tr -c 'A-Za-z0-9\n' _)
        psql -X -q -v ON_ERROR_STOP=1 -d "$E2E_PG_URI" -c "CREATE DATABASE \"$E2E_PG_DB\"" ||
            { echo "# cannot create a database in the cluster of $E2E_PG_URI"; return 1; }
        DB=$(echo "$E2E_PG_URI" | sed "s|^postgresql:///[^?]*|postgresql:///$E2E_PG_DB|")
    elif [ "${E2E_DATABASE:-sqlite}" = pg ]; then
        PG_DIR=$E2E_DIR/pg
        mkdir -p "$PG_DIR"
        if ! DB=$("$E2E_ROOT/tests/pg-cluster" start "$PG_DIR" 2>"$E2E_DIR/pg-cluster.log"); then
            echo "# tests/pg-cluster could not start a cluster:"
            sed 's/^/#   /' "$E2E_DIR/pg-cluster.log" | tail -n 20
            return 1
        fi
    fi
    SMTP_PORT=$(free_port)
    OUT_PORT=$(free_port)
    MILTER_PORT=$(free_port)
    SINK_PORT=$(free_port)
    case ${E2E_SOCKET:-unix} in
    unix) MILTER_SOCKET=unix:$E2E_DIR/milter.sock ;;
    inet) MILTER_SOCKET=inet:$MILTER_PORT@127.0.0.1 ;;
    *) echo "# E2E_SOCKET is unix or inet, not $E2E_SOCKET"; return 1 ;;
    esac
    export E2E_DIR SINK_DIR CONF DB SMTP_PORT OUT_PORT MILTER_PORT SINK_PORT MILTER_SOCKET
    trap e2e_teardown EXIT
    trap 'exit 1' INT TERM
    e2e_write_conf
    e2e_write_postfix
    sink_start || { echo "# smtp-sink did not start"; return 1; }
    milter_start || return 1
    postfix_start "$E2E_DIR" "$SMTP_PORT" postfix
}

# postfix_start DIR PORT NAME: the Postfix of DIR, until PORT answers.
postfix_start() {
    if ! postfix -c "$1/postfix/etc" start >>"$1/postfix.log" 2>&1 || ! wait_port "$2" 20; then
        echo "# $3 did not start:"
        sed 's/^/#   /' "$1/postfix.log" "$1/maillog" 2>/dev/null | tail -n 20
        return 1
    fi
}

# The second host's daemon: milter_start and milter_stop on its files.
milter_start_b() {
    set -- "$CONF" "$E2E_DIR" "$MILTER_SOCKET" "${MILTER_PID:-}"
    CONF=$CONF_B E2E_DIR=$B_DIR MILTER_SOCKET=$MILTER_SOCKET_B
    milter_start
    b_rc=$?
    MILTER_PID_B=$MILTER_PID
    CONF=$1 E2E_DIR=$2 MILTER_SOCKET=$3 MILTER_PID=$4
    return $b_rc
}

milter_stop_b() {
    set -- "${MILTER_PID:-}"
    MILTER_PID=${MILTER_PID_B:-}
    milter_stop
    MILTER_PID=$1 MILTER_PID_B=
}

e2e_second_host() {
    B_DIR=$E2E_DIR/b
    mkdir -p "$B_DIR"
    chmod 755 "$B_DIR"
    SMTP_PORT_B=$(free_port)
    OUT_PORT_B=$(free_port)
    MILTER_SOCKET_B=unix:$B_DIR/milter.sock
    CONF_B=$B_DIR/ticket-milter.conf
    export B_DIR SMTP_PORT_B OUT_PORT_B MILTER_SOCKET_B CONF_B
    # The same config but the socket, and its own relay port unless the
    # daemons send to the sink.
    sed -e "s|^socket = .*|socket = $MILTER_SOCKET_B|" \
        -e "s|^smtp_url = smtp://127.0.0.1:$OUT_PORT\$|smtp_url = smtp://127.0.0.1:$OUT_PORT_B|" \
        "$CONF" >"$CONF_B" || return 1
    (E2E_DIR=$B_DIR SMTP_PORT=$SMTP_PORT_B OUT_PORT=$OUT_PORT_B MILTER_SOCKET=$MILTER_SOCKET_B
     e2e_write_postfix) || return 1
    milter_start_b || return 1
    postfix_start "$B_DIR" "$SMTP_PORT_B" "the second postfix"
}

e2e_teardown() {
    postfix -c "$E2E_DIR/postfix/etc" stop >/dev/null 2>&1
    if [ -n "${B_DIR:-}" ]; then
        postfix -c "$B_DIR/postfix/etc" stop >/dev/null 2>&1
        milter_stop_b
    fi
    milter_stop
    sink_stop
    [ -n "${PG_DIR:-}" ] && "$E2E_ROOT/tests/pg-cluster" stop "$PG_DIR" >/dev/null 2>&1
    # The daemons are gone; a backend of theirs may still be closing.
    [ -n "${E2E_PG_DB:-}" ] && psql -X -q -d "$E2E_PG_URI" \
        -c "DROP DATABASE IF EXISTS \"$E2E_PG_DB\" WITH (FORCE)" >/dev/null 2>&1
    # Under "make asan" the daemon reports memory errors and leaks on exit;
    # under "make tsan" outside tests/run (which collects them) races.
    if grep -q -E 'ERROR: (Address|Leak)Sanitizer|WARNING: ThreadSanitizer|runtime error:' "$E2E_DIR/milter.log" ${B_DIR:+"$B_DIR/milter.log"} 2>/dev/null; then
        ok 1 "the daemon ran without sanitizer reports"
    fi
    if [ "$TAP_FAILED" -gt 0 ]; then
        echo "# milter log (tail):"
        sed 's/^/#   /' "$E2E_DIR/milter.log" 2>/dev/null | tail -n 25
        if [ -n "${B_DIR:-}" ]; then
            echo "# second milter log (tail):"
            sed 's/^/#   /' "$B_DIR/milter.log" 2>/dev/null | tail -n 25
        fi
        echo "# postfix log (tail):"
        sed 's/^/#   /' "$E2E_DIR/maillog" 2>/dev/null | tail -n 15
    fi
    if [ -z "${E2E_KEEP:-}" ]; then
        rm -rf "$E2E_DIR"
    else
        echo "# kept $E2E_DIR"
    fi
}

# send_mail FILE [swaks options]: the message in FILE through Postfix's
# milter port; the transcript is in $E2E_DIR/swaks.txt. The envelope comes
# from --from/--to options, else from the file's From and To.
send_mail() {
    file=$1
    shift
    from=$(sed -n 's/^From:.*<\(.*\)>.*/\1/p; s/^From: *\([^<> ]*@[^<> ]*\) *$/\1/p' "$file" | head -n 1)
    to=$(sed -n 's/^To:.*<\(.*\)>.*/\1/p; s/^To: *\([^<> ]*@[^<> ]*\) *$/\1/p' "$file" | head -n 1)
    swaks --server 127.0.0.1 --port "$SMTP_PORT" --from "$from" --to "$to" \
        --data "@$file" --timeout 30 "$@" >"$E2E_DIR/swaks.txt" 2>&1
}

# wait_for COUNT SECONDS COMMAND...: until COMMAND prints a number >= COUNT.
wait_for() {
    want=$1
    limit=$2
    shift 2
    end=$(( $(date +%s) + limit ))
    while :; do
        got=$("$@" 2>/dev/null)
        [ "${got:-0}" -ge "$want" ] 2>/dev/null && return 0
        [ "$(date +%s)" -ge "$end" ] && return 1
        sleep 0.2
    done
}

sink_count() {
    if [ "${E2E_SINK:-}" = one ]; then
        grep -c '^X-Client-Addr: ' "$SINK_DIR/all" 2>/dev/null || echo 0
    else
        find "$SINK_DIR" -type f | wc -l
    fi
}

# sink_grep REGEX: the delivered files that match, one path a line.
sink_grep() {
    grep -l -E "$1" "$SINK_DIR"/* 2>/dev/null
}

tctl() {
    "$E2E_ROOT/$BUILD/ticketctl" -c "$CONF" "$@"
}

# json EXPR: evaluates a Python expression over the JSON on stdin, as d.
json() {
    python3 -c 'import json, sys
d = json.load(sys.stdin)
v = eval(sys.argv[1])
print(json.dumps(v) if isinstance(v, (dict, list, bool)) or v is None else v)' "$1"
}

# sql QUERY: one value from the database (read-only).
sql() {
    if [ "${E2E_DATABASE:-sqlite}" = pg ]; then
        psql -X -A -t -q -d "$DB" -c "$1" | sed -e 's/^t$/1/' -e 's/^f$/0/'
    else
        sqlite3 -readonly "$DB" "$1"
    fi
}

# db_exec SQL: a change to the database behind the daemon's back.
db_exec() {
    if [ "${E2E_DATABASE:-sqlite}" = pg ]; then
        psql -X -q -v ON_ERROR_STOP=1 -d "$DB" -c "$1" >/dev/null
    else
        sqlite3 -cmd '.timeout 5000' "$DB" "$1"
    fi
}

# on_sqlite: true unless E2E_DATABASE=pg.
on_sqlite() {
    [ "${E2E_DATABASE:-sqlite}" != pg ]
}

# ---- benchmarks ----

# machine_busy SECONDS: how busy the CPUs are (percent, all of them) over
# SECONDS while nothing of ours runs: what else the machine is doing.
machine_busy() {
    b_s0=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8 }' /proc/stat)
    sleep "$1"
    b_s1=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8 }' /proc/stat)
    echo "$b_s0 $b_s1" | awk '{ printf "%.0f", 100 * ($3 - $1) / ($4 - $2) }'
}

# bench_pg_start: a private PostgreSQL cluster for every run of a
# benchmark (tests/pg-cluster in a directory of its own): E2E_PG_URI for
# e2e_setup, whose runs each make a database of their own in it, and
# BENCH_PG_PID, its postmaster.  bench_pg_stop stops it by that pid (the
# caller's EXIT trap) and removes the directory.  Returns 2 when no
# PostgreSQL server is installed, 1 when it did not start.
bench_pg_start() {
    BENCH_PG_DIR=$(mktemp -d /tmp/tm-bench-pg.XXXXXX)
    E2E_PG_URI=$("$E2E_ROOT/tests/pg-cluster" start "$BENCH_PG_DIR" 2>"$BENCH_PG_DIR.log")
    b_rc=$?
    if [ "$b_rc" -ne 0 ]; then
        [ "$b_rc" -eq 2 ] || sed 's/^/# pg-cluster: /' "$BENCH_PG_DIR.log" | tail -n 20
        rm -rf "$BENCH_PG_DIR" "$BENCH_PG_DIR.log"
        BENCH_PG_DIR=
        return "$b_rc"
    fi
    rm -f "$BENCH_PG_DIR.log"
    BENCH_PG_PID=$(cat "$BENCH_PG_DIR/pid")
    export E2E_PG_URI BENCH_PG_DIR BENCH_PG_PID
}

bench_pg_stop() {
    [ -n "${BENCH_PG_DIR:-}" ] || return 0
    "$E2E_ROOT/tests/pg-cluster" stop "$BENCH_PG_DIR" >/dev/null 2>&1
    rm -rf "$BENCH_PG_DIR"
    BENCH_PG_DIR=
}

# pg_cpu_snapshot FILE: the CPU clock ticks of the cluster's server
# processes now, for pg_cpu_ticks: the postmaster's own and its reaped
# children's ("pm TICKS"), and each live child's ("PID TICKS"), the
# backends that serve the daemons and the server's background workers.
pg_cpu_snapshot() {
    python3 - "$BENCH_PG_PID" >"$1" <<'PY'
import os, sys
pm = sys.argv[1]
for pid in os.listdir("/proc"):
    if not pid.isdigit():
        continue
    try:
        with open("/proc/%s/stat" % pid) as f:
            s = f.read()
    except OSError:
        continue
    # After the command's name in parentheses: state, ppid, ...; utime,
    # stime, cutime and cstime are fields 14 to 17 of the line.
    v = s[s.rindex(")") + 2:].split()
    if pid == pm:
        print("pm", sum(int(x) for x in v[11:15]))
    elif v[1] == pm:
        print(pid, int(v[11]) + int(v[12]))
PY
}

# pg_cpu_ticks BEFORE AFTER: the server's ticks between two snapshots.  A
# child that ended in between is in the postmaster's cutime and cstime
# with all its life, so what it had used before is taken off again.
pg_cpu_ticks() {
    awk 'NR == FNR { before[$1] = $2; next }
         { after[$1] = $2; total += $2 - ($1 in before ? before[$1] : 0) }
         END {
             for (p in before)
                 if (p != "pm" && !(p in after))
                     total -= before[p]
             print total
         }' "$1" "$2"
}

# bench_rounds ROUNDS RES CONFIG...: ROUNDS rounds that each run the
# caller's "run CONFIG ROUND" once for every CONFIG, every round starting
# one configuration further on, so that whatever else the machine does
# weighs on all of them alike.  The lines run prints that start with "cfg="
# go to the file RES; every line goes to stdout as a comment.
bench_rounds() {
    b_rounds=$1
    b_res=$2
    shift 2
    b_round=1
    while [ "$b_round" -le "$b_rounds" ]; do
        b_k=0
        while [ "$b_k" -lt "$#" ]; do
            b_i=$(( (b_k + b_round - 1) % $# + 1 ))
            eval "b_cfg=\${$b_i}"
            b_out=$(run "$b_cfg" "$b_round")
            printf '%s\n' "$b_out" | grep '^cfg=' >>"$b_res"
            printf '%s\n' "$b_out" | sed 's/^\([^#]\)/# \1/'
            b_k=$((b_k + 1))
        done
        b_round=$((b_round + 1))
    done
}

# ---- TAP ----

ok() {
    TAP_N=$((TAP_N + 1))
    if [ "$1" -eq 0 ]; then
        echo "ok $TAP_N - $2"
    else
        echo "not ok $TAP_N - $2"
        TAP_FAILED=$((TAP_FAILED + 1))
    fi
}

is() {
    if [ "$1" = "$2" ]; then
        ok 0 "$3"
    else
        ok 1 "$3"
        echo "#   got:      '$1'"
        echo "#   expected: '$2'"
    fi
}

like() {
    if printf '%s\n' "$1" | grep -q -E "$2"; then
        ok 0 "$3"
    else
        ok 1 "$3"
        printf '%s\n' "$1" | head -n 10 | sed 's/^/#   got: /'
        echo "#   expected to match: $2"
    fi
}

# skip REASON: one test that did not run, and why (counted apart).
skip() {
    TAP_N=$((TAP_N + 1))
    echo "ok $TAP_N # SKIP $1"
}

done_testing() {
    echo "1..$TAP_N"
}
