#!/bin/sh
# The milter protocol without Postfix: miltertest plays the MTA against the
# real daemon and a real database (tests/milter/protocol.lua).
set -u
BUILD=${BUILD:-build}
dir=$(mktemp -d /tmp/tm-protocol.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$dir/ticket-milter.conf" <<CONF
[milter]
socket = inet:$port@127.0.0.1
database = $dir/tickets.db
support_addresses = support@example.com
max_message_size = 1048576
[outbound]
template_dir = templates
[customer:acme]
domains = acme.test
CONF
"$BUILD/ticket-milter" -c "$dir/ticket-milter.conf" -f >"$dir/milter.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
miltertest -D socket="inet:$port@127.0.0.1" -s tests/milter/protocol.lua >"$dir/mt.out" 2>&1
rc=$?
cat "$dir/mt.out"
[ "$rc" -eq 0 ] || { echo "# miltertest exited $rc"; sed 's/^/# /' "$dir/milter.log"; exit 1; }
# The Lua script numbers its own checks; this one comes after them.
n=$(grep -c -E '^(not )?ok ' "$dir/mt.out")
# What the protocol test did must be in the database too.
tickets=$("$BUILD/ticketctl" --db "$dir/tickets.db" list --json |
          python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
n=$((n + 1))
if [ "$tickets" = 2 ]; then
    echo "ok $n - the database holds the two tickets"
else
    echo "not ok $n - the database holds $tickets tickets, not 2"
    sed 's/^/# /' "$dir/milter.log"
fi
echo "1..$n"
