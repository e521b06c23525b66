#!/bin/sh
# The cost of one statement through store/db.h on each backend, without
# Postfix: bench/db-cost.c, linked with the built library, runs 100,000
# INSERTs, 100,000 SELECTs by key and 100,000 key locks (store_lock_key,
# which ack_limit's count takes) in transactions of 1,000, on a SQLite
# file and on a private PostgreSQL cluster over its unix socket
# (tests/pg-cluster; skipped, and said, where no server is installed).
#   bench/db.sh [N [BATCH]]
# Prints one RESULT line per backend, in microseconds per statement.
set -u
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
N=${1:-100000}
BATCH=${2:-1000}
WORK=$(mktemp -d /tmp/tm-bench-db.XXXXXX)
PG_DIR=
cleanup() {
    [ -n "$PG_DIR" ] && tests/pg-cluster stop "$PG_DIR" >/dev/null 2>&1
    [ -n "$PG_DIR" ] && rm -rf "$PG_DIR"
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -f "$BUILD/libticket.a" ] || make -s BUILD="$BUILD" "$BUILD/libticket.a" || exit 1
# The Makefile's PKGS, continuation lines and all.
PKGS=$(awk '/^PKGS *:=/ { on = 1; sub(/^PKGS *:= */, "") }
            on { more = sub(/\\$/, ""); printf "%s ", $0; if (!more) exit }' Makefile)
# shellcheck disable=SC2086
cc -std=c11 -O2 -g -D_GNU_SOURCE -I. $(pkg-config --cflags $PKGS) -o "$WORK/db-cost" \
    bench/db-cost.c "$BUILD/libticket.a" $(pkg-config --libs $PKGS) -lpthread || exit 1

result() {
    awk -v name="$1" '
        $1 == "TIME" { t[$2] = $3 }
        END { printf "RESULT db %s: insert %s us, select by key %s us, key lock %s us per statement\n",
                     name, t["insert"], t["select"], t["lock"] }' "$WORK/out"
}

status=0
if "$WORK/db-cost" "$WORK/bench.db" "$N" "$BATCH" >"$WORK/out"; then
    result sqlite
else
    status=1
fi

PG_DIR=$(mktemp -d /tmp/tm-pg.XXXXXX)
uri=$(tests/pg-cluster start "$PG_DIR" 2>"$WORK/pg.log")
case $? in
0)
    if "$WORK/db-cost" "$uri" "$N" "$BATCH" >"$WORK/out"; then
        result postgresql
    else
        status=1
    fi
    ;;
2) echo "RESULT db postgresql: skipped (no PostgreSQL server installed)" ;;
*) cat "$WORK/pg.log" >&2; status=1 ;;
esac
exit $status
