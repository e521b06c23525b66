#!/bin/sh
# What the daemon checks in its configuration and its files, as an admin
# meets it, without Postfix: "ticket-milter -t" warns, naming the key and
# its line, of staff trust on loopback or on a very wide network, of
# authserv_ids without authserv_networks (empty by default: no
# Authentication-Results header is believed), of a network that is both
# trusted and a verifier's, and of a contact or a customer's domain that is
# also staff; the daemon refuses a secret file in a directory every user may
# write to; and database files readable by all lose that at start, said in
# one log line, once.
set -u
. tests/e2e/lib.sh
T=$(mktemp -d /tmp/tm-config-checks.XXXXXX)
chmod 755 "$T"
D_PID=
cleanup() {
    [ -n "$D_PID" ] && kill "$D_PID" 2>/dev/null && wait "$D_PID" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
TM=$E2E_ROOT/$BUILD/ticket-milter

# has TEXT PART NAME: TEXT holds PART (as written, no pattern).
has() {
    if printf '%s\n' "$1" | grep -q -F -- "$2"; then
        ok 0 "$3"
    else
        ok 1 "$3"
        printf '%s\n' "$1" | head -n 12 | sed 's/^/#   got: /'
        echo "#   expected: $2"
    fi
}

mkdir -p "$T/db"
base() {
    cat <<EOF
[milter]
socket = unix:$T/milter.sock
database = $T/db/tickets.db
support_addresses = support@example.com
[outbound]
template_dir = $E2E_ROOT/templates
EOF
}

# 1. -t warnings.
{ base; cat <<'EOF'; } >"$T/warn.conf"
[staff]
domains = example.com
trusted_networks = 192.0.2.0/24; 127.0.0.1; 10.0.0.0/8
authserv_ids = mx.example.com
[customer:acme]
domains = acme.test
contacts = jan@example.com
EOF
out=$("$TM" -t -c "$T/warn.conf" 2>&1)
ok $? "ticket-milter -t accepts a config it warns of"
has "$out" "$T/warn.conf: warning: line 9: [staff] trusted_networks: 127.0.0.1 covers loopback: any process on this host that can submit mail passes as staff" \
    "it warns of loopback in trusted_networks, with the line"
has "$out" "line 9: [staff] trusted_networks: 10.0.0.0/8 is wider than /16 (IPv4) or /48 (IPv6)" \
    "and of a network wider than a site's"
has "$out" "line 10: [staff] authserv_ids: set, but [staff] authserv_networks is empty: no Authentication-Results header is believed" \
    "and of authserv_ids with no authserv_networks (empty by default)"
has "$out" "line 13: [customer:acme] contacts: jan@example.com is also in [staff] domains: the router treats it as a contact of acme" \
    "and of a contact that is also staff"
has "$out" "configuration OK" "and says the config is OK"

{ base; cat <<'EOF'; } >"$T/loop.conf"
[staff]
authserv_ids = mx.example.com
authserv_networks = 127.0.0.0/8
EOF
out=$("$TM" -t -c "$T/loop.conf" 2>&1)
has "$out" "line 9: [staff] authserv_networks: 127.0.0.0/8 covers loopback: any process on this host that can submit mail can forge the Authentication-Results" \
    "it warns of loopback in authserv_networks"

{ base; cat <<'EOF'; } >"$T/verifier.conf"
[staff]
domains = example.com
trusted_networks = 192.0.2.0/24
authserv_ids = mx.example.com
authserv_networks = 192.0.2.25
[customer:acme]
domains = acme.test; example.com
EOF
out=$("$TM" -t -c "$T/verifier.conf" 2>&1)
has "$out" "line 9: [staff] trusted_networks: 192.0.2.0/24 overlaps 192.0.2.25 of [staff] authserv_networks: a verifier there hands on mail from anyone" \
    "it warns of a verifier inside a trusted network"
has "$out" "line 13: [customer:acme] domains: example.com is also in [staff] domains: every address there but the named contacts of acme is staff" \
    "and of a customer's domain that is also a staff domain"

{ base; cat <<'EOF'; } >"$T/quiet.conf"
[staff]
addresses = lead@example.com
trusted_networks = 192.0.2.0/24
authserv_ids = mx.example.com
authserv_networks = 198.51.100.25
[customer:acme]
contacts = jan@acme.test
EOF
out=$("$TM" -t -c "$T/quiet.conf" 2>&1)
is "$(printf '%s\n' "$out" | grep -c -E 'trusted_networks|authserv|contacts|domains')" "0" \
    "a config without those has none of these warnings"

# 2. The secret file in a directory every user may write to.
mkdir -p "$T/open"
chmod 1777 "$T/open"
{ base; echo "[milter]"; echo "secret_file = $T/open/secret"; } >"$T/open.conf"
out=$(timeout 20 "$TM" -f -c "$T/open.conf" 2>&1)
rc=$?
ok $([ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]; echo $?) "the daemon does not start with the secret in a world-writable directory (exit $rc)"
has "$out" "$T/open/secret: the secret file is in $T/open, which every user may write to" \
    "and says which file and why"
ok $([ ! -e "$T/open/secret" ]; echo $?) "no secret file is made there"

# 3. Database files readable by all lose that at start, said once.
{ base; echo "[milter]"; echo "secret_file = $T/db/secret"; } >"$T/db.conf"
start() {
    "$TM" -f -c "$T/db.conf" >>"$T/daemon.log" 2>&1 &
    D_PID=$!
    end=$(( $(date +%s) + 20 ))
    until [ -S "$T/milter.sock" ] && [ -e "$T/db/tickets.db-wal" ]; do
        [ "$(date +%s)" -ge "$end" ] && return 1
        sleep 0.1
    done
}
stop() {
    kill "$D_PID" 2>/dev/null && wait "$D_PID" 2>/dev/null
    D_PID=
}
start
ok $? "the daemon starts"
stop
chmod 0644 "$T/db/tickets.db"
start
is "$(stat -c %a "$T/db/tickets.db")" "640" "a database file readable by all is not after the next start"
ok $([ $(( $(stat -c 0%a "$T/db/tickets.db-wal") & 7 )) -eq 0 ] &&
     [ $(( $(stat -c 0%a "$T/db/tickets.db-shm") & 7 )) -eq 0 ]; echo $?) \
    "nor are its -wal and -shm"
stop
start
stop
is "$(grep -c -F "database files were open to other users; their permissions for others are removed (chmod o-rwx): $T/db/tickets.db" "$T/daemon.log")" \
    "1" "the change is logged once"

done_testing
